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
    void stepwise_sgemv_##s(const float *, const float *, size_t, size_t, size_t, float *);                      \
    void stepwise_dequantize_##s(int, const uint8_t *, size_t, float *);                                         \
    void stepwise_sgemm_stored_##s(int, const uint8_t *, size_t, size_t, size_t, const float *, size_t, size_t,  \
                                   float *, size_t);                                                         \
    void stepwise_activation_##s(int, const float *, const float *, float *, size_t);                            \
    void stepwise_attention_scores_##s(const float *, const float *, size_t, size_t, size_t, size_t, float, float *, \
                                       size_t);                                                                  \
    void stepwise_attention_values_##s(const float *, size_t, const float *, size_t, size_t, size_t, size_t, float *);

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

void stepwise_activation(int isa, int kind, const float *x, const float *up, float *out, size_t n) {
#define CALL(s) stepwise_activation_##s(kind, x, up, out, n)
    DISPATCH(isa, CALL);
#undef CALL
}

void stepwise_attention_scores(int isa, const float *q, const float *k, size_t heads, size_t kv_heads, size_t d,
                               size_t keys, float scale, float *out, size_t out_stride) {
#define CALL(s) stepwise_attention_scores_##s(q, k, heads, kv_heads, d, keys, scale, out, out_stride)
    DISPATCH(isa, CALL);
#undef CALL
}

void stepwise_attention_values(int isa, const float *p, size_t p_stride, const float *v, size_t heads, size_t kv_heads,
                               size_t d, size_t keys, float *z) {
#define CALL(s) stepwise_attention_values_##s(p, p_stride, v, heads, kv_heads, d, keys, z)
    DISPATCH(isa, CALL);
#undef CALL
}

int stepwise_format_block_values(int format) {
    switch (format) {
    case STEPWISE_Q4_K: case STEPWISE_Q5_K: case STEPWISE_Q6_K: return 256;
    case STEPWISE_F32: case STEPWISE_F16: case STEPWISE_BF16: return 1;
    default: return 32;
    }
}

int stepwise_format_block_bytes(int format) {
    switch (format) {
    case STEPWISE_Q4_0: return 18;
    case STEPWISE_Q4_1: return 20;
    case STEPWISE_Q5_0: return 22;
    case STEPWISE_Q5_1: return 24;
    case STEPWISE_Q8_0: return 34;
    case STEPWISE_Q4_K: return 144;
    case STEPWISE_Q5_K: return 176;
    case STEPWISE_Q6_K: return 210;
    case STEPWISE_F32: return 4;
    default: return 2;  // F16, BF16
    }
}

void stepwise_dequantize(int isa, int format, const uint8_t *blocks, size_t count, float *values) {
#define CALL(s) stepwise_dequantize_##s(format, blocks, count, values)
    DISPATCH(isa, CALL);
#undef CALL
}

void stepwise_sgemm_stored(int isa, int format, const uint8_t *weights, size_t row_bytes, size_t c0, size_t k,
                           const float *a, size_t rows, size_t cols, float *c, size_t ldc) {
#define CALL(s) stepwise_sgemm_stored_##s(format, weights, row_bytes, c0, k, a, rows, cols, c, ldc)
    DISPATCH(isa, CALL);
#undef CALL
}

/// True when the float16 at `p` is an infinity or NaN (exponent all ones).
static int half_nonfinite(const uint8_t *p) { return (p[1] & 0x7C) == 0x7C; }

long long stepwise_first_nonfinite_block(int format, const uint8_t *blocks, size_t count) {
    const size_t size = (size_t)stepwise_format_block_bytes(format);
    for (size_t b = 0; b < count; b++) {
        const uint8_t *p = blocks + b * size;
        int bad;
        switch (format) {
        case STEPWISE_F32: bad = (p[3] & 0x7F) == 0x7F && (p[2] & 0x80); break;
        case STEPWISE_F16: bad = half_nonfinite(p); break;
        case STEPWISE_BF16: bad = (p[1] & 0x7F) == 0x7F && (p[0] & 0x80); break;
        case STEPWISE_Q4_1: case STEPWISE_Q5_1: case STEPWISE_Q4_K: case STEPWISE_Q5_K:
            bad = half_nonfinite(p) || half_nonfinite(p + 2);
            break;
        case STEPWISE_Q6_K: bad = half_nonfinite(p + 208); break;
        default: bad = half_nonfinite(p); break;  // Q4_0, Q5_0, Q8_0: d first
        }
        if (bad) return (long long)b;
    }
    return -1;
}
