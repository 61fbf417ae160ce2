// Products with weights as the file stores them: float32, float16, bfloat16 rows or ggml's blocks,
// converted to float32 a few rows at a time into the float32 kernel's panels, so a model's matrices
// never exist as a whole in float32 (llama.cpp's approach to prompts, with float32 activations).
// Included by kernels_portable.c, kernels_avx2.c and kernels_avx512.c after block_kernels.h (whose vector
// types and helpers it uses) and sgemm_kernels.h (whose packing and tiles it feeds).
//
// The conversions compute each value exactly as GGUFQuantization.swift does (`d·q`, `d·q + m`,
// `d·sc·q − dmin·m`, each product and sum rounded on its own: no fused multiply-add), so a product
// through them equals the float32 kernel on the dequantized matrix bit for bit.
//
// Not a public header: only those three files include it.

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "CKernels.h"

typedef uint32_t u32x16 __attribute__((vector_size(64)));

static inline __attribute__((always_inline)) void store16(float *p, f32x16 v) { memcpy(p, &v, sizeof v); }

/// Lane i holds i.
static inline __attribute__((always_inline)) u32x16 lane_index(void) {
    return (u32x16){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
}

// MARK: - One format each: `blocks` consecutive blocks at `x` into `y`

static void dq_q4_0(const uint8_t *x, size_t blocks, float *y) {
#pragma clang fp contract(off)
    for (size_t b = 0; b < blocks; b++, x += 18, y += 32) {
        const f32x16 d = splat(half_at(x));
        const i32x16 q = widen_u8(x + 2);
        store16(y, to_float((q & 15) - 8) * d);
        store16(y + 16, to_float((q >> 4) - 8) * d);
    }
}

static void dq_q4_1(const uint8_t *x, size_t blocks, float *y) {
#pragma clang fp contract(off)
    for (size_t b = 0; b < blocks; b++, x += 20, y += 32) {
        const f32x16 d = splat(half_at(x)), m = splat(half_at(x + 2));
        const i32x16 q = widen_u8(x + 4);
        store16(y, to_float(q & 15) * d + m);
        store16(y + 16, to_float(q >> 4) * d + m);
    }
}

/// Bit i and bit i + 16 of `qh` as 16 (a code's fifth bit), for lanes i < 16.
static inline __attribute__((always_inline)) void fifth_bit_lanes(uint32_t qh, i32x16 *lo, i32x16 *hi) {
    const u32x16 i = lane_index(), h = (u32x16){} + qh;
    *lo = (i32x16)(((h >> i) & 1) << 4);
    *hi = (i32x16)(((h >> (i + 16)) & 1) << 4);
}

static void dq_q5_0(const uint8_t *x, size_t blocks, float *y) {
#pragma clang fp contract(off)
    for (size_t b = 0; b < blocks; b++, x += 22, y += 32) {
        const f32x16 d = splat(half_at(x));
        i32x16 h0, h1;
        fifth_bit_lanes(u32_at(x + 2), &h0, &h1);
        const i32x16 q = widen_u8(x + 6);
        store16(y, to_float(((q & 15) | h0) - 16) * d);
        store16(y + 16, to_float(((q >> 4) | h1) - 16) * d);
    }
}

static void dq_q5_1(const uint8_t *x, size_t blocks, float *y) {
#pragma clang fp contract(off)
    for (size_t b = 0; b < blocks; b++, x += 24, y += 32) {
        const f32x16 d = splat(half_at(x)), m = splat(half_at(x + 2));
        i32x16 h0, h1;
        fifth_bit_lanes(u32_at(x + 4), &h0, &h1);
        const i32x16 q = widen_u8(x + 8);
        store16(y, to_float((q & 15) | h0) * d + m);
        store16(y + 16, to_float((q >> 4) | h1) * d + m);
    }
}

static void dq_q8_0(const uint8_t *x, size_t blocks, float *y) {
#pragma clang fp contract(off)
    for (size_t b = 0; b < blocks; b++, x += 34, y += 32) {
        const f32x16 d = splat(half_at(x));
        store16(y, to_float(widen_i8(x + 2)) * d);
        store16(y + 16, to_float(widen_i8(x + 18)) * d);
    }
}

static void dq_q4_K(const uint8_t *x, size_t blocks, float *y) {
#pragma clang fp contract(off)
    for (size_t b = 0; b < blocks; b++, x += 144, y += 256) {
        const float d = half_at(x), dmin = half_at(x + 2);
        uint8_t sc[8], mn[8];
        scales_and_mins(x + 4, sc, mn);
        for (int j = 0; j < 8; j++) {
            const f32x16 dl = splat(d * (float)sc[j]), ml = splat(dmin * (float)mn[j]);
            const uint8_t *q = x + 16 + (j / 2) * 32;
            const int shift = 4 * (j % 2);
            for (int half = 0; half < 2; half++) {
                const i32x16 v = (widen_u8(q + 16 * half) >> shift) & 15;
                store16(y + 32 * j + 16 * half, to_float(v) * dl - ml);
            }
        }
    }
}

static void dq_q5_K(const uint8_t *x, size_t blocks, float *y) {
#pragma clang fp contract(off)
    for (size_t b = 0; b < blocks; b++, x += 176, y += 256) {
        const float d = half_at(x), dmin = half_at(x + 2);
        uint8_t sc[8], mn[8];
        scales_and_mins(x + 4, sc, mn);
        for (int j = 0; j < 8; j++) {
            const f32x16 dl = splat(d * (float)sc[j]), ml = splat(dmin * (float)mn[j]);
            const uint8_t *q = x + 48 + (j / 2) * 32;
            const int shift = 4 * (j % 2);
            for (int half = 0; half < 2; half++) {
                const i32x16 lo = (widen_u8(q + 16 * half) >> shift) & 15;
                const i32x16 hi = ((widen_u8(x + 16 + 16 * half) >> j) & 1) << 4;
                store16(y + 32 * j + 16 * half, to_float(lo | hi) * dl - ml);
            }
        }
    }
}

static void dq_q6_K(const uint8_t *x, size_t blocks, float *y) {
#pragma clang fp contract(off)
    for (size_t b = 0; b < blocks; b++, x += 210, y += 256) {
        const float d = half_at(x + 208);
        const int8_t *scale = (const int8_t *)(x + 192);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x + 64 * h, *qh = x + 128 + 32 * h;
            for (int k = 0; k < 4; k++) {
                const int low_shift = 4 * (k / 2), high_shift = 2 * k;
                const int e0 = 128 * h + 32 * k;
                for (int half = 0; half < 2; half++) {
                    const f32x16 sc = splat(d * (float)scale[e0 / 16 + half]);
                    const i32x16 lo = (widen_u8(ql + 32 * (k % 2) + 16 * half) >> low_shift) & 15;
                    const i32x16 hi = (widen_u8(qh + 16 * half) >> high_shift) & 3;
                    store16(y + e0 + 16 * half, to_float((lo | (hi << 4)) - 32) * sc);
                }
            }
        }
    }
}

static void dq_f16(const uint8_t *x, size_t count, float *y) {
    for (size_t i = 0; i < count; i++) y[i] = BLOCK_HALF((uint16_t)(x[2 * i] | (x[2 * i + 1] << 8)));
}

static void dq_bf16(const uint8_t *x, size_t count, float *y) {
    for (size_t i = 0; i < count; i++) {
        const uint32_t bits = (uint32_t)(x[2 * i] | (x[2 * i + 1] << 8)) << 16;
        memcpy(y + i, &bits, sizeof bits);
    }
}

static void dq_f32(const uint8_t *x, size_t count, float *y) { memcpy(y, x, 4 * count); }

/// `blocks` blocks of `format` (values, for F32/F16/BF16) at `x` into `y`.
static void dq_blocks(int format, const uint8_t *x, size_t blocks, float *y) {
    switch (format) {
    case STEPWISE_Q4_0: dq_q4_0(x, blocks, y); break;
    case STEPWISE_Q4_1: dq_q4_1(x, blocks, y); break;
    case STEPWISE_Q5_0: dq_q5_0(x, blocks, y); break;
    case STEPWISE_Q5_1: dq_q5_1(x, blocks, y); break;
    case STEPWISE_Q8_0: dq_q8_0(x, blocks, y); break;
    case STEPWISE_Q4_K: dq_q4_K(x, blocks, y); break;
    case STEPWISE_Q5_K: dq_q5_K(x, blocks, y); break;
    case STEPWISE_Q6_K: dq_q6_K(x, blocks, y); break;
    case STEPWISE_F16: dq_f16(x, blocks, y); break;
    case STEPWISE_BF16: dq_bf16(x, blocks, y); break;
    case STEPWISE_F32: dq_f32(x, blocks, y); break;
    default: break;
    }
}

void VARIANT(stepwise_dequantize)(int format, const uint8_t *x, size_t blocks, float *y) { dq_blocks(format, x, blocks, y); }

// MARK: - The product

void VARIANT(stepwise_sgemm_stored)(int format, const uint8_t *w, size_t row_bytes, size_t c0, size_t k, const float *a,
                                    size_t rows, size_t cols, float *c, size_t ldc) {
    if (rows == 0 || cols == 0 || k == 0) return;
    const size_t unit = 16 * SGEMM_NV;
    const size_t values = (size_t)stepwise_format_block_values(format), bytes = (size_t)stepwise_format_block_bytes(format);
    // The whole blocks covering columns c0 ..< c0 + k, and where c0 falls in the first.
    const size_t b0 = c0 / values, b1 = (c0 + k + values - 1) / values;
    const size_t pitch = (b1 - b0) * values, skip = c0 - b0 * values;
    float *panels = malloc(sizeof(float) * unit * k);
    // One panel's 16 rows converted at a time, then packed while they are still in the nearest cache.
    float *converted = format == STEPWISE_F32 ? NULL : malloc(sizeof(float) * 16 * pitch);
    if (!panels || (format != STEPWISE_F32 && !converted)) abort();
    for (size_t j = 0; j < cols; j += unit) {
        const size_t n = cols - j < unit ? cols - j : unit;
        if (format == STEPWISE_F32) {
            VARIANT(stepwise_sgemm_pack_b)((const float *)(const void *)(w + j * row_bytes) + c0, row_bytes / 4, n, k, panels);
        } else {
            for (size_t q = 0; 16 * q < n; q++) {
                const size_t rn = n - 16 * q < 16 ? n - 16 * q : 16;
                for (size_t r = 0; r < rn; r++) {
                    dq_blocks(format, w + (j + 16 * q + r) * row_bytes + b0 * bytes, b1 - b0, converted + r * pitch);
                }
                VARIANT(stepwise_sgemm_pack_b)(converted + skip, pitch, rn, k, panels + q * 16 * k);
            }
        }
        VARIANT(stepwise_sgemm_panels)(a, panels, k, rows, (n + 15) / 16, n, c + j, ldc);
    }
    free(converted);
    free(panels);
}
