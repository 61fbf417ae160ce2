#include "CKernels.h"

#include <pthread.h>

// Which of the compiled kernel variants this CPU can run, found once.

#if defined(__x86_64__) && defined(__clang__)
void stepwise_block_matvec_avx2(int, const uint8_t *, size_t, size_t, size_t, const float *, const float *, size_t, size_t,
                                float *, size_t);
void stepwise_block_matvec_avx512(int, const uint8_t *, size_t, size_t, size_t, const float *, const float *, size_t,
                                  size_t, float *, size_t);
#endif
void stepwise_block_matvec_portable(int, const uint8_t *, size_t, size_t, size_t, const float *, const float *, size_t,
                                    size_t, float *, size_t);

static int supported[3] = {1, 0, 0};
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static void detect(void) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    supported[STEPWISE_ISA_AVX2] =
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    supported[STEPWISE_ISA_AVX512] = supported[STEPWISE_ISA_AVX2] && __builtin_cpu_supports("avx512f") &&
                                     __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                                     __builtin_cpu_supports("avx512vl");
#endif
}

int stepwise_isa_supported(int isa) {
    pthread_once(&detect_once, detect);
    return isa >= 0 && isa <= STEPWISE_ISA_AVX512 && supported[isa];
}

int stepwise_isa_best(void) {
    return stepwise_isa_supported(STEPWISE_ISA_AVX512) ? STEPWISE_ISA_AVX512
           : stepwise_isa_supported(STEPWISE_ISA_AVX2) ? STEPWISE_ISA_AVX2
                                                       : STEPWISE_ISA_PORTABLE;
}

void stepwise_block_sums(const float *x, size_t blocks, float *sums) {
    for (size_t b = 0; b < blocks; b++) {
        const float *p = x + 32 * b;
        float s[8] = {0};
        for (int j = 0; j < 32; j++) s[j % 8] += p[j];
        sums[b] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
}

void stepwise_block_matvec(int isa, int format, const uint8_t *weights, size_t row_bytes, size_t row_begin,
                           size_t row_end, const float *x, const float *sums, size_t m, size_t columns, float *out,
                           size_t out_stride) {
#if defined(__x86_64__) && defined(__clang__)
    if (isa == STEPWISE_ISA_AVX512 && stepwise_isa_supported(isa)) {
        stepwise_block_matvec_avx512(format, weights, row_bytes, row_begin, row_end, x, sums, m, columns, out, out_stride);
        return;
    }
    if (isa == STEPWISE_ISA_AVX2 && stepwise_isa_supported(isa)) {
        stepwise_block_matvec_avx2(format, weights, row_bytes, row_begin, row_end, x, sums, m, columns, out, out_stride);
        return;
    }
#endif
    (void)isa;
    stepwise_block_matvec_portable(format, weights, row_bytes, row_begin, row_end, x, sums, m, columns, out, out_stride);
}
