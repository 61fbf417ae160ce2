// The block kernels for x86-64 CPUs with AVX2, FMA and F16C (Intel Haswell, AMD Excavator and later).
#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "CKernels.h"

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define BLOCK_KERNEL_NAME stepwise_block_matvec_avx2
#define BLOCK_HALF(h) _cvtsh_ss(h)
#include "block_kernels.h"
#pragma clang attribute pop
#endif
