// The kernels for x86-64 CPUs with AVX-512 F, BW, DQ and VL (x86-64-v4: Intel Skylake-SP, AMD Zen 4 and
// later): one 16-lane register per vector; register tiles of 8 rows x 32 columns, 16 of the 32 zmm
// registers accumulating, with A's values broadcast from memory into the multiply-adds.
#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "CKernels.h"

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c"))), apply_to = function)
#define VARIANT(name) name##_avx512
#define BLOCK_HALF(h) _cvtsh_ss(h)
#define SGEMM_MR 8
#define SGEMM_NV 2
#define SGEMM_KC 256
#define SGEMM_PACK_LANES 16
#define SGEMM_FEW_PANELS 4
#define SGEMM_FEW_ROWS 3
#include "block_kernels.h"
#include "sgemm_kernels.h"
#include "stored_kernels.h"
#include "activation_kernels.h"
#include "attention_kernels.h"
#pragma clang attribute pop
#endif
