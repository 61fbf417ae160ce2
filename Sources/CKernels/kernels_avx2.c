// The kernels for x86-64 CPUs with AVX2, FMA and F16C (x86-64-v3: Intel Haswell, AMD Excavator and later).
// Register tiles of 6 rows x 16 columns: 12 of the 16 ymm registers accumulate.
#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "CKernels.h"

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define VARIANT(name) name##_avx2
#define BLOCK_HALF(h) _cvtsh_ss(h)
#define SGEMM_MR 6
#define SGEMM_NV 1
#define SGEMM_KC 256
#define SGEMM_PACK_LANES 8
#define SGEMM_FEW_PANELS 2
#define SGEMM_FEW_ROWS 2
#include "block_kernels.h"
#include "sgemm_kernels.h"
#include "stored_kernels.h"
#include "activation_kernels.h"
#include "attention_kernels.h"
#pragma clang attribute pop
#endif
