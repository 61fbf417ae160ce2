#include "CKernels.h"

#include <pthread.h>

// Which of the compiled variants this CPU runs (found once), and each call sent to the one asked for.

#define DECLARE_VARIANT(s)                                                                                       \
    void stepwise_block_matvec_##s(int, const uint8_t *, size_t, size_t, size_t, const float *, const float *,   \
                                   size_t, size_t, float *, size_t);                                             \
    int stepwise_sgemm_tile_rows_##s(void);                                                                      \
    void stepwise_sgemm_pack_a_##s(const float *, size_t, size_t, size_t, float *);                              \
    void stepwise_sgemm_pack_b_##s(const float *, size_t, size_t, size_t, float *);                              \
    void stepwise_sgemm_panels_##s(const float *, const float *, size_t, size_t, size_t, size_t, float *, size_t); \
    void stepwise_sgemm_##s(const float *, const float *, size_t, size_t, size_t, size_t, float *, size_t);       \
    void stepwise_sgemv_##s(const float *, const float *, size_t, size_t, size_t, float *);

DECLARE_VARIANT(portable)
#if defined(__x86_64__) && defined(__clang__)
DECLARE_VARIANT(avx2)
DECLARE_VARIANT(avx512)
#define HAS_X86_VARIANTS 1
#endif

static int supported[3] = {1, 0, 0};
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static void detect(void) {
#if HAS_X86_VARIANTS
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

/// `call` with the variant suffix for `isa`: the one asked for when the CPU runs it, else portable.
#if HAS_X86_VARIANTS
#define DISPATCH(isa, call)                                                              \
    do {                                                                                 \
        if ((isa) == STEPWISE_ISA_AVX512 && stepwise_isa_supported(STEPWISE_ISA_AVX512)) { \
            call(avx512);                                                                \
        } else if ((isa) == STEPWISE_ISA_AVX2 && stepwise_isa_supported(STEPWISE_ISA_AVX2)) { \
            call(avx2);                                                                  \
        } else {                                                                         \
            call(portable);                                                              \
        }                                                                                \
    } while (0)
#else
#define DISPATCH(isa, call) \
    do {                    \
        (void)(isa);        \
        call(portable);     \
    } while (0)
#endif

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
#define CALL(s) stepwise_block_matvec_##s(format, weights, row_bytes, row_begin, row_end, x, sums, m, columns, out, out_stride)
    DISPATCH(isa, CALL);
#undef CALL
}

int stepwise_sgemm_tile_rows(int isa) {
    int rows = 0;
#define CALL(s) rows = stepwise_sgemm_tile_rows_##s()
    DISPATCH(isa, CALL);
#undef CALL
    return rows;
}

void stepwise_sgemm_pack_a(int isa, const float *a, size_t lda, size_t rows, size_t k, float *dst) {
#define CALL(s) stepwise_sgemm_pack_a_##s(a, lda, rows, k, dst)
    DISPATCH(isa, CALL);
#undef CALL
}

void stepwise_sgemm_pack_b(int isa, const float *b, size_t ldb, size_t rows, size_t k, float *dst) {
#define CALL(s) stepwise_sgemm_pack_b_##s(b, ldb, rows, k, dst)
    DISPATCH(isa, CALL);
#undef CALL
}

void stepwise_sgemm_panels(int isa, const float *a, const float *panels, size_t k, size_t rows, size_t panel_count,
                           size_t cols, float *c, size_t ldc) {
#define CALL(s) stepwise_sgemm_panels_##s(a, panels, k, rows, panel_count, cols, c, ldc)
    DISPATCH(isa, CALL);
#undef CALL
}

void stepwise_sgemm(int isa, const float *a, const float *b, size_t ldb, size_t k, size_t rows, size_t cols, float *c,
                    size_t ldc) {
#define CALL(s) stepwise_sgemm_##s(a, b, ldb, k, rows, cols, c, ldc)
    DISPATCH(isa, CALL);
#undef CALL
}

void stepwise_sgemv(int isa, const float *a, const float *b, size_t ldb, size_t k, size_t cols, float *c) {
#define CALL(s) stepwise_sgemv_##s(a, b, ldb, k, cols, c)
    DISPATCH(isa, CALL);
#undef CALL
}
