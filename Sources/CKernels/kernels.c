#include "CKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define STEPWISE_TARGET __attribute__((target("avx2,fma,f16c")))

int stepwise_block_kernels_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

STEPWISE_TARGET static inline float half_to_float(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    return _cvtsh_ss(h);
}

STEPWISE_TARGET static inline float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Σ_j f_j x_j for the 32 codes of a block already widened to floats (values 0-7, 8-15, 16-23,
/// 24-31), as 8 partial sums.
STEPWISE_TARGET static inline __m256 block_dot(__m256 f0, __m256 f1, __m256 f2, __m256 f3, const float *x) {
    __m256 s0 = _mm256_mul_ps(f0, _mm256_loadu_ps(x));
    __m256 s1 = _mm256_mul_ps(f1, _mm256_loadu_ps(x + 8));
    s0 = _mm256_fmadd_ps(f2, _mm256_loadu_ps(x + 16), s0);
    s1 = _mm256_fmadd_ps(f3, _mm256_loadu_ps(x + 24), s1);
    return _mm256_add_ps(s0, s1);
}

/// Σ_j q_j x_j over one block of 16 nibble bytes.
STEPWISE_TARGET static inline __m256 nibble_dot(const uint8_t *codes, const float *x) {
    const __m128i low_mask = _mm_set1_epi8(0x0F);
    __m128i q = _mm_loadu_si128((const __m128i *)codes);
    __m128i lo = _mm_and_si128(q, low_mask);                     // values 0-15
    __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), low_mask);  // values 16-31
    return block_dot(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)),
                     _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))),
                     _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)),
                     _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))), x);
}

/// Σ_j q_j x_j over one block of 32 signed bytes.
STEPWISE_TARGET static inline __m256 byte_dot(const uint8_t *codes, const float *x) {
    __m128i a = _mm_loadu_si128((const __m128i *)codes);
    __m128i b = _mm_loadu_si128((const __m128i *)(codes + 16));
    return block_dot(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(a)),
                     _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(a, 8))),
                     _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)),
                     _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8))), x);
}

/// One Q4_0 / Q4_1 row against one input: d·Σq·x per block into vector accumulators, the offset
/// m·Σx (m = −8d for Q4_0) into scalar ones. Two blocks per iteration keep two FMA chains busy.
STEPWISE_TARGET static float dot_q4(const uint8_t *w, const float *x, const float *sums, size_t blocks, int has_min) {
    const size_t block_bytes = has_min ? 20 : 18, codes = has_min ? 4 : 2;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float off0 = 0, off1 = 0;
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *p0 = w + b * block_bytes, *p1 = p0 + block_bytes;
        float d0 = half_to_float(p0), d1 = half_to_float(p1);
        acc0 = _mm256_fmadd_ps(nibble_dot(p0 + codes, x + b * 32), _mm256_set1_ps(d0), acc0);
        acc1 = _mm256_fmadd_ps(nibble_dot(p1 + codes, x + b * 32 + 32), _mm256_set1_ps(d1), acc1);
        off0 += (has_min ? half_to_float(p0 + 2) : -8 * d0) * sums[b];
        off1 += (has_min ? half_to_float(p1 + 2) : -8 * d1) * sums[b + 1];
    }
    if (b < blocks) {
        const uint8_t *p = w + b * block_bytes;
        float d = half_to_float(p);
        acc0 = _mm256_fmadd_ps(nibble_dot(p + codes, x + b * 32), _mm256_set1_ps(d), acc0);
        off0 += (has_min ? half_to_float(p + 2) : -8 * d) * sums[b];
    }
    return horizontal_sum(_mm256_add_ps(acc0, acc1)) + (off0 + off1);
}

/// One Q8_0 row against one input.
STEPWISE_TARGET static float dot_q8_0(const uint8_t *w, const float *x, size_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *p0 = w + b * 34, *p1 = p0 + 34;
        acc0 = _mm256_fmadd_ps(byte_dot(p0 + 2, x + b * 32), _mm256_set1_ps(half_to_float(p0)), acc0);
        acc1 = _mm256_fmadd_ps(byte_dot(p1 + 2, x + b * 32 + 32), _mm256_set1_ps(half_to_float(p1)), acc1);
    }
    if (b < blocks) {
        const uint8_t *p = w + b * 34;
        acc0 = _mm256_fmadd_ps(byte_dot(p + 2, x + b * 32), _mm256_set1_ps(half_to_float(p)), acc0);
    }
    return horizontal_sum(_mm256_add_ps(acc0, acc1));
}

STEPWISE_TARGET void stepwise_block_matvec(int format, const uint8_t *weights, size_t row_bytes, size_t row_begin,
                                           size_t row_end, const float *x, const float *sums, size_t m, size_t blocks,
                                           float *out, size_t out_stride) {
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *w = weights + r * row_bytes;
        for (size_t i = 0; i < m; i++) {
            const float *xi = x + i * blocks * 32;
            float s;
            switch (format) {
            case STEPWISE_Q4_0: s = dot_q4(w, xi, sums + i * blocks, blocks, 0); break;
            case STEPWISE_Q4_1: s = dot_q4(w, xi, sums + i * blocks, blocks, 1); break;
            default: s = dot_q8_0(w, xi, blocks); break;
            }
            out[i * out_stride + r] = s;
        }
    }
}

#else

int stepwise_block_kernels_available(void) { return 0; }

void stepwise_block_matvec(int format, const uint8_t *weights, size_t row_bytes, size_t row_begin, size_t row_end,
                           const float *x, const float *sums, size_t m, size_t blocks, float *out, size_t out_stride) {
    (void)format; (void)weights; (void)row_bytes; (void)row_begin; (void)row_end;
    (void)x; (void)sums; (void)m; (void)blocks; (void)out; (void)out_stride;
}

#endif
