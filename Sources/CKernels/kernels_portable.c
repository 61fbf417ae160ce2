// The kernels for any CPU: the compiler's baseline vectors (SSE2 on x86-64, NEON on arm64).
#define VARIANT(name) name##_portable
#define SGEMM_MR 3
#define SGEMM_NV 1
#define SGEMM_KC 256
#define SGEMM_PACK_LANES 8
#define SGEMM_FEW_PANELS 1
#define SGEMM_FEW_ROWS 2
#include "block_kernels.h"
#include "sgemm_kernels.h"
#include "stored_kernels.h"
#include "activation_kernels.h"
#include "attention_kernels.h"
