// The block kernels for x86-64 CPUs with AVX-512 F, BW, DQ and VL (x86-64-v4: Intel Skylake-SP,
// AMD Zen 4 and later): one 16-lane register per vector.
#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "CKernels.h"

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c"))), apply_to = function)
#define BLOCK_KERNEL_NAME stepwise_block_matvec_avx512
#define BLOCK_HALF(h) _cvtsh_ss(h)
#include "block_kernels.h"
#pragma clang attribute pop
#endif
