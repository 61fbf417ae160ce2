// The block-format matrix-vector kernels, written once with Clang vector types and compiled once per
// instruction set: kernels_portable.c, kernels_avx2.c and kernels_avx512.c each define VARIANT(name)
// (the exported names' suffix) and may define BLOCK_HALF (float16 bits to float), set the target with
// `#pragma clang attribute`, then include this file. The compiler maps the 16-lane vectors below onto
// four SSE registers, two AVX2 registers or one AVX-512 register.
//
// Not a public header: only those three files include it.

#include <stdint.h>
#include <string.h>

#include "CKernels.h"

// Every function taking or returning a vector is inlined, so the vector calling convention never applies.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float f32x16 __attribute__((vector_size(64)));
typedef int32_t i32x16 __attribute__((vector_size(64)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef int8_t i8x16 __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) f32x16 load16(const float *p) {
    f32x16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// 16 bytes zero-extended to 32-bit lanes.
static inline __attribute__((always_inline)) i32x16 widen_u8(const uint8_t *p) {
    u8x16 v;
    memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, i32x16);
}

/// 16 bytes sign-extended to 32-bit lanes.
static inline __attribute__((always_inline)) i32x16 widen_i8(const uint8_t *p) {
    i8x16 v;
    memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, i32x16);
}

static inline __attribute__((always_inline)) f32x16 to_float(i32x16 v) { return __builtin_convertvector(v, f32x16); }

static inline __attribute__((always_inline)) f32x16 splat(float s) { return (f32x16){} + s; }

/// Σ of the 16 lanes, pairwise.
static inline __attribute__((always_inline)) float lane_sum(f32x16 v) {
    typedef float f32x8 __attribute__((vector_size(32)));
    typedef float f32x4 __attribute__((vector_size(16)));
    f32x8 a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    f32x4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
    return (b[0] + b[2]) + (b[1] + b[3]);
}

/// IEEE float16 bits to float, exactly (for builds without a conversion instruction).
static inline __attribute__((always_inline)) float half_from_bits(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 31, mantissa = h & 1023;
    if (exponent == 0) {  // zero or subnormal: mantissa · 2^-24
        const float f = (float)mantissa * 5.9604644775390625e-8f;
        return sign ? -f : f;
    }
    const uint32_t bits = sign | (exponent == 31 ? 0x7F800000u | (mantissa << 13) : ((exponent + 112) << 23) | (mantissa << 13));
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#ifndef BLOCK_HALF
#define BLOCK_HALF half_from_bits
#endif

static inline __attribute__((always_inline)) float half_at(const uint8_t *p) {
    return BLOCK_HALF((uint16_t)(p[0] | (p[1] << 8)));
}

static inline __attribute__((always_inline)) uint32_t u32_at(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

typedef uint8_t u8x32 __attribute__((vector_size(32)));
typedef int8_t i8x32 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) u8x32 load32(const uint8_t *p) {
    u8x32 v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// The 32 nibbles of 16 bytes in value order: the low nibbles (values 0-15), then the high ones (16-31).
static inline __attribute__((always_inline)) u8x32 nibbles(const uint8_t *p) {
    u8x16 q;
    memcpy(&q, p, sizeof q);
    const u8x16 lo = q & 15, hi = q >> 4;
    return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                   23, 24, 25, 26, 27, 28, 29, 30, 31);
}

/// Bit j of the little-endian u32 at `p` as 16 (its weight in a 5-bit code) in byte j, for j < 32.
static inline __attribute__((always_inline)) u8x32 fifth_bits(const uint8_t *p) {
    typedef uint8_t u8x4 __attribute__((vector_size(4)));
    u8x4 b;
    memcpy(&b, p, sizeof b);
    const u8x32 spread = __builtin_shufflevector(b, b, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2,
                                                 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const u8x32 bit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
                       1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    return (u8x32)((spread & bit) == bit) & 16;
}

/// Values 0-15 and 16-31 of 32 signed byte codes as float lanes.
static inline __attribute__((always_inline)) f32x16 codes_low(i8x32 c) {
    return to_float(__builtin_convertvector(__builtin_shufflevector(c, c, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), i32x16));
}
static inline __attribute__((always_inline)) f32x16 codes_high(i8x32 c) {
    return to_float(__builtin_convertvector(
        __builtin_shufflevector(c, c, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31), i32x16));
}

/// Σ c·x over 32 values with signed byte codes `c`, as 16 partial sums.
static inline __attribute__((always_inline)) f32x16 codes_dot(i8x32 c, const float *x) {
    return codes_low(c) * load16(x) + codes_high(c) * load16(x + 16);
}

/// Σ c·x over 32 values with codes in 32-bit lanes: `lo` for x[0..15], `hi` for x[16..31]. Widening the
/// bytes first and splitting nibbles in 32-bit lanes takes fewer instructions than splitting them as bytes.
static inline __attribute__((always_inline)) f32x16 lanes_dot(i32x16 lo, i32x16 hi, const float *x) {
    return to_float(lo) * load16(x) + to_float(hi) * load16(x + 16);
}

// MARK: - 32-value blocks

/// Q4_0 (18 bytes): f16 d, 16 bytes of nibbles (byte j: value j low, j+16 high); value d·(q − 8).
static inline __attribute__((always_inline)) float dot_q4_0(const uint8_t *w, const float *x, size_t blocks) {
    f32x16 acc0 = {}, acc1 = {};
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *p0 = w + b * 18, *p1 = p0 + 18;
        const i32x16 v0 = widen_u8(p0 + 2), v1 = widen_u8(p1 + 2);
        acc0 += lanes_dot((v0 & 15) - 8, (v0 >> 4) - 8, x + b * 32) * half_at(p0);
        acc1 += lanes_dot((v1 & 15) - 8, (v1 >> 4) - 8, x + b * 32 + 32) * half_at(p1);
    }
    if (b < blocks) {
        const uint8_t *p = w + b * 18;
        const i32x16 v = widen_u8(p + 2);
        acc0 += lanes_dot((v & 15) - 8, (v >> 4) - 8, x + b * 32) * half_at(p);
    }
    return lane_sum(acc0 + acc1);
}

/// Q4_1 (20 bytes): f16 d, f16 m, 16 bytes of nibbles; value d·q + m. The offset is m·Σx with the
/// block sums `sums`.
static inline __attribute__((always_inline)) float dot_q4_1(const uint8_t *w, const float *x, const float *sums, size_t blocks) {
    f32x16 acc0 = {}, acc1 = {};
    float off0 = 0, off1 = 0;
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *p0 = w + b * 20, *p1 = p0 + 20;
        const i32x16 v0 = widen_u8(p0 + 4), v1 = widen_u8(p1 + 4);
        acc0 += lanes_dot(v0 & 15, v0 >> 4, x + b * 32) * half_at(p0);
        acc1 += lanes_dot(v1 & 15, v1 >> 4, x + b * 32 + 32) * half_at(p1);
        off0 += half_at(p0 + 2) * sums[b];
        off1 += half_at(p1 + 2) * sums[b + 1];
    }
    if (b < blocks) {
        const uint8_t *p = w + b * 20;
        const i32x16 v = widen_u8(p + 4);
        acc0 += lanes_dot(v & 15, v >> 4, x + b * 32) * half_at(p);
        off0 += half_at(p + 2) * sums[b];
    }
    return lane_sum(acc0 + acc1) + (off0 + off1);
}

/// Q5_0 (22 bytes): f16 d, u32 of fifth bits (bit j: value j), 16 bytes of nibbles; value d·(q5 − 16).
static inline __attribute__((always_inline)) float dot_q5_0(const uint8_t *w, const float *x, size_t blocks) {
    f32x16 acc0 = {}, acc1 = {};
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *p0 = w + b * 22, *p1 = p0 + 22;
        acc0 += codes_dot((i8x32)(nibbles(p0 + 6) | fifth_bits(p0 + 2)) - 16, x + b * 32) * half_at(p0);
        acc1 += codes_dot((i8x32)(nibbles(p1 + 6) | fifth_bits(p1 + 2)) - 16, x + b * 32 + 32) * half_at(p1);
    }
    if (b < blocks) {
        const uint8_t *p = w + b * 22;
        acc0 += codes_dot((i8x32)(nibbles(p + 6) | fifth_bits(p + 2)) - 16, x + b * 32) * half_at(p);
    }
    return lane_sum(acc0 + acc1);
}

/// Q5_1 (24 bytes): f16 d, f16 m, u32 of fifth bits, 16 bytes of nibbles; value d·q5 + m.
static inline __attribute__((always_inline)) float dot_q5_1(const uint8_t *w, const float *x, const float *sums, size_t blocks) {
    f32x16 acc0 = {}, acc1 = {};
    float off0 = 0, off1 = 0;
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *p0 = w + b * 24, *p1 = p0 + 24;
        acc0 += codes_dot((i8x32)(nibbles(p0 + 8) | fifth_bits(p0 + 4)), x + b * 32) * half_at(p0);
        acc1 += codes_dot((i8x32)(nibbles(p1 + 8) | fifth_bits(p1 + 4)), x + b * 32 + 32) * half_at(p1);
        off0 += half_at(p0 + 2) * sums[b];
        off1 += half_at(p1 + 2) * sums[b + 1];
    }
    if (b < blocks) {
        const uint8_t *p = w + b * 24;
        acc0 += codes_dot((i8x32)(nibbles(p + 8) | fifth_bits(p + 4)), x + b * 32) * half_at(p);
        off0 += half_at(p + 2) * sums[b];
    }
    return lane_sum(acc0 + acc1) + (off0 + off1);
}

/// Q8_0 (34 bytes): f16 d, 32 int8; value d·q.
static inline __attribute__((always_inline)) float dot_q8_0(const uint8_t *w, const float *x, size_t blocks) {
    f32x16 acc0 = {}, acc1 = {};
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *p0 = w + b * 34, *p1 = p0 + 34;
        acc0 += codes_dot((i8x32)load32(p0 + 2), x + b * 32) * half_at(p0);
        acc1 += codes_dot((i8x32)load32(p1 + 2), x + b * 32 + 32) * half_at(p1);
    }
    if (b < blocks) {
        const uint8_t *p = w + b * 34;
        acc0 += codes_dot((i8x32)load32(p + 2), x + b * 32) * half_at(p);
    }
    return lane_sum(acc0 + acc1);
}

// MARK: - 256-value super-blocks

/// The eight 6-bit scales and mins of a Q4_K / Q5_K super-block's 12 scale bytes `s`.
static inline __attribute__((always_inline)) void scales_and_mins(const uint8_t *s, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
        sc[j + 4] = (s[j + 8] & 15) | ((s[j] >> 6) << 4);
        mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
    }
}

/// Σ_j (dmin·m[j])·Σx over the super-block's eight sub-blocks (`sums`: Σx per 32 values).
static inline __attribute__((always_inline)) float min_offset(float dmin, const uint8_t mn[8], const float *sums) {
    float o0 = 0, o1 = 0;
    for (int j = 0; j < 8; j += 2) {
        o0 += (dmin * (float)mn[j]) * sums[j];
        o1 += (dmin * (float)mn[j + 1]) * sums[j + 1];
    }
    return o0 + o1;
}

/// Q4_K (144 bytes / 256 values): f16 d, f16 dmin, 12 scale bytes, 128 bytes of nibbles. Sub-block j
/// (32 values) takes the low (even j) or high (odd j) nibbles of bytes 32·(j/2) … +31; value
/// d·sc[j]·q − dmin·m[j]. `sums` holds Σx per 32 values.
static inline __attribute__((always_inline)) float dot_q4_K(const uint8_t *w, const float *x, const float *sums, size_t supers) {
    f32x16 acc0 = {}, acc1 = {};
    float off = 0;
    for (size_t s = 0; s < supers; s++) {
        const uint8_t *p = w + s * 144;
        const float *xs = x + s * 256;
        const float d = half_at(p);
        uint8_t sc[8], mn[8];
        scales_and_mins(p + 4, sc, mn);
        for (int i = 0; i < 4; i++) {
            const i32x16 a = widen_u8(p + 16 + 32 * i), b = widen_u8(p + 32 + 32 * i);
            acc0 += lanes_dot(a & 15, b & 15, xs + 64 * i) * (d * (float)sc[2 * i]);
            acc1 += lanes_dot(a >> 4, b >> 4, xs + 64 * i + 32) * (d * (float)sc[2 * i + 1]);
        }
        off += min_offset(half_at(p + 2), mn, sums + s * 8);
    }
    return lane_sum(acc0 + acc1) - off;
}

/// Q5_K (176 bytes / 256 values): as Q4_K, with 32 bytes of fifth bits after the scales (bit j of
/// byte l belongs to value l of sub-block j) and the nibbles after those.
static inline __attribute__((always_inline)) float dot_q5_K(const uint8_t *w, const float *x, const float *sums, size_t supers) {
    f32x16 acc0 = {}, acc1 = {};
    float off = 0;
    for (size_t s = 0; s < supers; s++) {
        const uint8_t *p = w + s * 176;
        const float *xs = x + s * 256;
        const float d = half_at(p);
        uint8_t sc[8], mn[8];
        scales_and_mins(p + 4, sc, mn);
        const u8x32 h = load32(p + 16);
        for (int i = 0; i < 4; i++) {
            const u8x32 q = load32(p + 48 + 32 * i);
            const uint8_t be = (uint8_t)(1 << (2 * i)), bo = (uint8_t)(2 << (2 * i));
            const u8x32 he = (u8x32)((h & be) == be) & 16, ho = (u8x32)((h & bo) == bo) & 16;
            acc0 += codes_dot((i8x32)((q & 15) | he), xs + 64 * i) * (d * (float)sc[2 * i]);
            acc1 += codes_dot((i8x32)((q >> 4) | ho), xs + 64 * i + 32) * (d * (float)sc[2 * i + 1]);
        }
        off += min_offset(half_at(p + 2), mn, sums + s * 8);
    }
    return lane_sum(acc0 + acc1) - off;
}

/// Q6_K (210 bytes / 256 values): 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8 scales,
/// f16 d. In each half of 128 values, value 32k + l (k < 4, l < 32) takes nibble k/2 of low byte
/// 32·(k%2) + l and bits 2k, 2k+1 of high byte l; value d·scale[e/16]·(q6 − 32).
static inline __attribute__((always_inline)) float dot_q6_K(const uint8_t *w, const float *x, size_t supers) {
    f32x16 acc0 = {}, acc1 = {};
    for (size_t s = 0; s < supers; s++) {
        const uint8_t *p = w + s * 210;
        const float d = half_at(p + 208);
        const int8_t *scale = (const int8_t *)(p + 192);
        for (int h = 0; h < 2; h++) {
            const u8x32 l01 = load32(p + 64 * h), l23 = load32(p + 64 * h + 32), g = load32(p + 128 + 32 * h);
            const float *xs = x + s * 256 + 128 * h;
            const int8_t *sh = scale + 8 * h;
            const u8x32 lo[4] = {l01 & 15, l23 & 15, l01 >> 4, l23 >> 4};
            for (int k = 0; k < 4; k++) {
                const i8x32 c = (i8x32)(lo[k] | (((g >> (2 * k)) & 3) << 4)) - 32;
                acc0 += codes_low(c) * load16(xs + 32 * k) * (d * (float)sh[2 * k]);
                acc1 += codes_high(c) * load16(xs + 32 * k + 16) * (d * (float)sh[2 * k + 1]);
            }
        }
    }
    return lane_sum(acc0 + acc1);
}

// MARK: - The exported loop

void VARIANT(stepwise_block_matvec)(int format, const uint8_t *weights, size_t row_bytes, size_t row_begin, size_t row_end,
                       const float *x, const float *sums, size_t m, size_t columns, float *out, size_t out_stride) {
    const size_t blocks = columns / 32, supers = columns / 256;
#define STEPWISE_ROWS(expr)                                                          \
    for (size_t r = row_begin; r < row_end; r++) {                                   \
        const uint8_t *w = weights + r * row_bytes;                                  \
        for (size_t i = 0; i < m; i++) {                                             \
            const float *xi = x + i * columns, *si = sums ? sums + i * blocks : 0;  \
            (void)si;                                                                \
            out[i * out_stride + r] = (expr);                                        \
        }                                                                            \
    }
    switch (format) {
    case STEPWISE_Q4_0: STEPWISE_ROWS(dot_q4_0(w, xi, blocks)); break;
    case STEPWISE_Q4_1: STEPWISE_ROWS(dot_q4_1(w, xi, si, blocks)); break;
    case STEPWISE_Q5_0: STEPWISE_ROWS(dot_q5_0(w, xi, blocks)); break;
    case STEPWISE_Q5_1: STEPWISE_ROWS(dot_q5_1(w, xi, si, blocks)); break;
    case STEPWISE_Q8_0: STEPWISE_ROWS(dot_q8_0(w, xi, blocks)); break;
    case STEPWISE_Q4_K: STEPWISE_ROWS(dot_q4_K(w, xi, si, supers)); break;
    case STEPWISE_Q5_K: STEPWISE_ROWS(dot_q5_K(w, xi, si, supers)); break;
    case STEPWISE_Q6_K: STEPWISE_ROWS(dot_q6_K(w, xi, supers)); break;
    default: break;
    }
#undef STEPWISE_ROWS
}
