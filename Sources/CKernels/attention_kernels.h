// Attention for one query against a cache of keys and values (token-by-token generation): the scores
// q·kⱼ for every key and the pattern-weighted sum of the values, straight from the `[keys, kvHeads, d]`
// layout the cache keeps. Included by kernels_portable.c, kernels_avx2.c and kernels_avx512.c after
// block_kernels.h (whose vector types it uses).
//
// Not a public header: only those three files include it.

#include <stddef.h>
#include <string.h>

#include "CKernels.h"

/// `lane_sum(v[r])` for r < 4, bit for bit, the four sums' additions done side by side.
static inline __attribute__((always_inline)) void att_lane_sums4(const f32x16 v[4], float out[4]) {
    typedef float f32x4 __attribute__((vector_size(16)));
    // [v0[0..7] + v0[8..15] | v1[0..7] + v1[8..15]], and the same for v2, v3.
    const f32x16 a01 = __builtin_shufflevector(v[0], v[1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                       __builtin_shufflevector(v[0], v[1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    const f32x16 a23 = __builtin_shufflevector(v[2], v[3], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                       __builtin_shufflevector(v[2], v[3], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    // [b0 | b1 | b2 | b3] with b_r = a_r[0..3] + a_r[4..7].
    const f32x16 b = __builtin_shufflevector(a01, a23, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +
                     __builtin_shufflevector(a01, a23, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    // (b_r[0] + b_r[2]) + (b_r[1] + b_r[3]).
    const f32x4 s = (__builtin_shufflevector(b, b, 0, 4, 8, 12) + __builtin_shufflevector(b, b, 2, 6, 10, 14)) +
                    (__builtin_shufflevector(b, b, 1, 5, 9, 13) + __builtin_shufflevector(b, b, 3, 7, 11, 15));
    memcpy(out, &s, sizeof s);
}

/// Σ_e a[e]·b[e] for the `d % 16` values after the whole vectors.
static inline __attribute__((always_inline)) float att_tail_dot(const float *a, const float *b, size_t from, size_t d) {
    float s = 0;
    for (size_t e = from; e < d; e++) s += a[e] * b[e];
    return s;
}

// Both kernels walk the cache once, key by key in memory order, every head taking its part of each key
// while that key is in L1: the cache is cold (the weights streamed through since this layer last ran),
// and one head's slices of the keys, 1/kvHeads of each row, are a pattern the prefetcher follows less well.

void VARIANT(stepwise_attention_scores)(const float *q, const float *k, size_t heads, size_t kv_heads, size_t d,
                                        size_t keys, float scale, float *out, size_t out_stride) {
    const size_t group = heads / kv_heads, whole = d / 16 * 16, row = kv_heads * d;
    size_t j = 0;
    // Four keys at a time: each vector of q is loaded once for all four.
    for (; j + 4 <= keys; j += 4) {
        for (size_t h = 0; h < heads; h++) {
            const float *qh = q + h * d, *kh = k + (h / group) * d;
            const float *kj[4] = {kh + j * row, kh + (j + 1) * row, kh + (j + 2) * row, kh + (j + 3) * row};
            f32x16 acc[4] = {};
            for (size_t e = 0; e < whole; e += 16) {
                const f32x16 qv = load16(qh + e);
                for (int t = 0; t < 4; t++) acc[t] += qv * load16(kj[t] + e);
            }
            float s[4];
            att_lane_sums4(acc, s);
            for (int t = 0; t < 4; t++) out[h * out_stride + j + t] = (s[t] + att_tail_dot(qh, kj[t], whole, d)) * scale;
        }
    }
    for (; j < keys; j++) {
        for (size_t h = 0; h < heads; h++) {
            const float *qh = q + h * d, *kj = k + j * row + (h / group) * d;
            f32x16 acc = {};
            for (size_t e = 0; e < whole; e += 16) acc += load16(qh + e) * load16(kj + e);
            out[h * out_stride + j] = (lane_sum(acc) + att_tail_dot(qh, kj, whole, d)) * scale;
        }
    }
}

/// Adds keys [j0, j1) to head h's z: `zh[e] += Σ_j ph[j] · vh[j·row + e]` for e < width, the keys in
/// order, weight 0 skipped.
static inline __attribute__((always_inline)) void att_add_values(float *zh, const float *ph, const float *vh, size_t row,
                                                                 size_t width, size_t j0, size_t j1) {
    size_t e = 0;
    // 64 values of z in registers while the keys add to them.
    for (; e + 64 <= width; e += 64) {
        f32x16 acc[4];
        memcpy(acc, zh + e, sizeof acc);
        for (size_t j = j0; j < j1; j++) {
            const float w = ph[j];
            if (w == 0) continue;
            const float *vj = vh + j * row + e;
            for (int c = 0; c < 4; c++) acc[c] += splat(w) * load16(vj + 16 * c);
        }
        memcpy(zh + e, acc, sizeof acc);
    }
    for (; e + 16 <= width; e += 16) {
        f32x16 acc = load16(zh + e);
        for (size_t j = j0; j < j1; j++) {
            const float w = ph[j];
            if (w != 0) acc += splat(w) * load16(vh + j * row + e);
        }
        memcpy(zh + e, &acc, sizeof acc);
    }
    for (; e < width; e++) {
        float acc = zh[e];
        for (size_t j = j0; j < j1; j++) {
            const float w = ph[j];
            if (w != 0) acc += w * vh[j * row + e];
        }
        zh[e] = acc;
    }
}

void VARIANT(stepwise_attention_values)(const float *p, size_t p_stride, const float *v, size_t heads, size_t kv_heads,
                                        size_t d, size_t keys, float *z) {
    const size_t group = heads / kv_heads, row = kv_heads * d, span = 8;
    memset(z, 0, heads * d * sizeof *z);
    // Eight keys at a time for every head: z goes through registers once per eight keys.
    for (size_t j0 = 0; j0 < keys; j0 += span) {
        const size_t j1 = j0 + span < keys ? j0 + span : keys;
        for (size_t h = 0; h < heads; h++) att_add_values(z + h * d, p + h * p_stride, v + (h / group) * d, row, d, j0, j1);
    }
}
