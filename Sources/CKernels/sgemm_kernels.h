// The float32 matrix-product kernels (`C = A·Bᵀ`), written once with Clang vector types and compiled once
// per instruction set by kernels_portable.c, kernels_avx2.c and kernels_avx512.c. Each defines
// VARIANT(name) (the exported names), SGEMM_MR (rows of A per register tile) and SGEMM_NV (16-column
// panels per register tile: 1 or 2) before including this file, under its `#pragma clang attribute`
// target.
//
// B is in panels of 16 of its rows, `k`-major: panel q holds `panel[p][c] = B[16q + c][p]` (PackedMatrix's
// layout). A register tile is SGEMM_MR rows of A against SGEMM_NV adjacent panels: per `k` step it loads
// NV 16-float vectors of the panels, broadcasts MR values of A, and issues MR·NV fused multiply-adds into
// MR·NV accumulators that stay in registers for the whole `k`-block.
//
// Not a public header: only those three files include it.

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "CKernels.h"

#pragma clang diagnostic ignored "-Wpsabi"

typedef float sg_f32x16 __attribute__((vector_size(64)));

static inline __attribute__((always_inline)) sg_f32x16 sg_load(const float *p) {
    sg_f32x16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void sg_store(float *p, sg_f32x16 v) { memcpy(p, &v, sizeof v); }

/// Σ of the 16 lanes, pairwise.
static inline __attribute__((always_inline)) float sg_sum(sg_f32x16 v) {
    typedef float f32x8 __attribute__((vector_size(32)));
    typedef float f32x4 __attribute__((vector_size(16)));
    f32x8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    f32x4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
    return (q[0] + q[2]) + (q[1] + q[3]);
}

/// One register tile: `mr` (≤ SGEMM_MR) rows of A, packed (`a[p·SGEMM_MR + r]`), against `nv` panels
/// (`b`, the next one `panel_stride` floats on) for `len` k-steps, into C: stores when `first`, else
/// adds; only the first `cols` columns of the tile are written. `mr` and `nv` are constants after
/// inlining, so the accumulators are registers.
static inline __attribute__((always_inline)) void sg_tile(const int mr, const int nv, const float *a, const float *b,
                                                          size_t panel_stride, size_t len, float *c, size_t ldc,
                                                          size_t cols, int first) {
    sg_f32x16 acc[SGEMM_MR][SGEMM_NV];
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = (sg_f32x16){};
    const float *b0 = b, *b1 = b + panel_stride;
    for (size_t p = 0; p < len; p++) {
        const sg_f32x16 y0 = sg_load(b0 + 16 * p);
        const sg_f32x16 y1 = nv > 1 ? sg_load(b1 + 16 * p) : (sg_f32x16){};
        const float *ap = a + p * SGEMM_MR;
        for (int r = 0; r < mr; r++) {
            acc[r][0] += ap[r] * y0;
            if (nv > 1) acc[r][SGEMM_NV - 1] += ap[r] * y1;
        }
    }
    if (cols == (size_t)(16 * nv)) {
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++) {
                float *o = c + r * ldc + 16 * v;
                sg_store(o, first ? acc[r][v] : sg_load(o) + acc[r][v]);
            }
    } else {
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++)
                for (size_t j = 0; j < 16 && 16 * v + j < cols; j++) {
                    float *o = c + r * ldc + 16 * v + j;
                    *o = first ? acc[r][v][j] : *o + acc[r][v][j];
                }
    }
}

/// The tile for `mr` rows and `nv` panels, with both as constants.
static inline __attribute__((always_inline)) void sg_tile_any(int mr, int nv, const float *a, const float *b,
                                                              size_t panel_stride, size_t len, float *c, size_t ldc,
                                                              size_t cols, int first) {
#define SG_CASE(R)                                                                 \
    case R:                                                                        \
        if (SGEMM_NV > 1 && nv > 1)                                                \
            sg_tile(R, SGEMM_NV, a, b, panel_stride, len, c, ldc, cols, first);    \
        else                                                                       \
            sg_tile(R, 1, a, b, panel_stride, len, c, ldc, cols, first);           \
        break;
    switch (mr) {
        SG_CASE(1)
#if SGEMM_MR >= 2
        SG_CASE(2)
#endif
#if SGEMM_MR >= 3
        SG_CASE(3)
#endif
#if SGEMM_MR >= 4
        SG_CASE(4)
#endif
#if SGEMM_MR >= 5
        SG_CASE(5)
#endif
#if SGEMM_MR >= 6
        SG_CASE(6)
#endif
#if SGEMM_MR >= 7
        SG_CASE(7)
#endif
#if SGEMM_MR >= 8
        SG_CASE(8)
#endif
#if SGEMM_MR >= 9
        SG_CASE(9)
#endif
#if SGEMM_MR >= 10
        SG_CASE(10)
#endif
#if SGEMM_MR >= 11
        SG_CASE(11)
#endif
#if SGEMM_MR >= 12
        SG_CASE(12)
#endif
    default: break;
    }
#undef SG_CASE
}

/// At most SGEMM_FEW_ROWS (≤ 3) rows of A (a matrix-vector product, or nearly) against `np`
/// (≤ SGEMM_FEW_PANELS) panels for all `k` steps: with so few rows, one tile of SGEMM_NV panels would
/// leave too few independent multiply-add chains to hide their latency, so this one spans more panels.
/// Overwrites C.
static inline __attribute__((always_inline)) void sg_few(const int mr, const int np, const float *a, const float *b,
                                                         size_t panel_stride, size_t k, float *c, size_t ldc,
                                                         size_t cols) {
    sg_f32x16 acc[3][SGEMM_FEW_PANELS];
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < np; v++) acc[r][v] = (sg_f32x16){};
    for (size_t p = 0; p < k; p++) {
        const float *ap = a + p * SGEMM_MR;
        for (int v = 0; v < np; v++) {
            const sg_f32x16 y = sg_load(b + v * panel_stride + 16 * p);
            for (int r = 0; r < mr; r++) acc[r][v] += ap[r] * y;
        }
    }
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < np; v++) {
            if ((size_t)(16 * v + 16) <= cols) {
                sg_store(c + r * ldc + 16 * v, acc[r][v]);
            } else {
                for (size_t j = 0; 16 * v + j < cols; j++) c[r * ldc + 16 * v + j] = acc[r][v][j];
            }
        }
}

static void sg_few_any(int mr, const float *a, const float *panels, size_t k, size_t panel_count, size_t cols,
                       float *c, size_t ldc) {
    for (size_t q = 0; q < panel_count; q += SGEMM_FEW_PANELS) {
        const size_t np = panel_count - q < SGEMM_FEW_PANELS ? panel_count - q : SGEMM_FEW_PANELS;
        const size_t width = cols - 16 * q < 16 * np ? cols - 16 * q : 16 * np;
        const float *b = panels + q * 16 * k;
        float *o = c + 16 * q;
        if (np == (size_t)SGEMM_FEW_PANELS) {
            if (mr == 1) sg_few(1, SGEMM_FEW_PANELS, a, b, 16 * k, k, o, ldc, width);
            else if (mr == 2) sg_few(2, SGEMM_FEW_PANELS, a, b, 16 * k, k, o, ldc, width);
            else sg_few(3, SGEMM_FEW_PANELS, a, b, 16 * k, k, o, ldc, width);
        } else {
            for (size_t v = 0; v < np; v++) {
                const size_t wv = width - 16 * v < 16 ? width - 16 * v : 16;
                if (mr == 1) sg_few(1, 1, a, b + v * 16 * k, 16 * k, k, o + 16 * v, ldc, wv);
                else if (mr == 2) sg_few(2, 1, a, b + v * 16 * k, 16 * k, k, o + 16 * v, ldc, wv);
                else sg_few(3, 1, a, b + v * 16 * k, 16 * k, k, o + 16 * v, ldc, wv);
            }
        }
    }
}

/// Every row tile of packed A (`rows` rows; the k-block starts at `a`, tiles `tile_stride` floats apart)
/// against up to NV panels whose k-block starts at `b`, for `len` k-steps, into `cols` columns of C.
static void sg_block(const float *a, size_t tile_stride, const float *b, size_t panel_stride, size_t panel_count,
                     size_t len, float *c, size_t ldc, size_t rows, size_t cols, int first) {
    const int nv = panel_count >= SGEMM_NV ? SGEMM_NV : (int)panel_count;
    for (size_t i = 0, t = 0; i < rows; i += SGEMM_MR, t++) {
        const int mr = rows - i >= SGEMM_MR ? SGEMM_MR : (int)(rows - i);
        sg_tile_any(mr, nv, a + t * tile_stride, b, panel_stride, len, c + i * ldc, ldc, cols, first);
    }
}

/// Depth of one k-block: the NV panels of a block (16·NV·kb floats) stay in the level-1 cache while every
/// row tile reads them. Balanced blocks, multiples of 8 but the last.
static size_t sg_kblock(size_t k) {
    const size_t most = SGEMM_KC;
    const size_t blocks = (k + most - 1) / most;
    const size_t kb = ((k + blocks - 1) / blocks + 7) / 8 * 8;
    return kb < k ? kb : k;
}

static inline __attribute__((always_inline)) sg_f32x16 sg_zip_lo(sg_f32x16 x, sg_f32x16 y) {
    return __builtin_shufflevector(x, y, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
static inline __attribute__((always_inline)) sg_f32x16 sg_zip_hi(sg_f32x16 x, sg_f32x16 y) {
    return __builtin_shufflevector(x, y, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

/// One panel of B: its rows `b`, `b + ldb`, … (`n` ≤ 16 of them; zeros for the rest) for `len` k-steps,
/// k-major into `dst` (`dst[p·16 + c] = b[c·ldb + p]`). Whole 16x16 squares are transposed in registers:
/// four rounds of interleaving row i with row i + 8 (Eklundh's perfect-shuffle transpose).
static void sg_pack_panel(const float *b, size_t ldb, size_t n, size_t len, float *dst) {
    size_t p = 0;
#if SGEMM_PACK_LANES == 16
    if (n == 16) {
        for (; p + 16 <= len; p += 16) {
            sg_f32x16 v[16], w[16];
            for (int i = 0; i < 16; i++) v[i] = sg_load(b + i * ldb + p);
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 8; i++) {
                    w[2 * i] = sg_zip_lo(v[i], v[i + 8]);
                    w[2 * i + 1] = sg_zip_hi(v[i], v[i + 8]);
                }
                memcpy(v, w, sizeof v);
            }
            for (int i = 0; i < 16; i++) sg_store(dst + (p + i) * 16, v[i]);
        }
    }
#else
    // 8x8 squares: what 8-lane registers transpose without crossing their halves' limits.
    typedef float f32x8 __attribute__((vector_size(32)));
    if (n == 16) {
        for (; p + 8 <= len; p += 8) {
            for (int half = 0; half < 2; half++) {
                f32x8 v[8], w[8];
                for (int i = 0; i < 8; i++) memcpy(&v[i], b + (8 * half + i) * ldb + p, sizeof v[i]);
                for (int round = 0; round < 3; round++) {
                    for (int i = 0; i < 4; i++) {
                        w[2 * i] = __builtin_shufflevector(v[i], v[i + 4], 0, 8, 1, 9, 2, 10, 3, 11);
                        w[2 * i + 1] = __builtin_shufflevector(v[i], v[i + 4], 4, 12, 5, 13, 6, 14, 7, 15);
                    }
                    memcpy(v, w, sizeof v);
                }
                for (int i = 0; i < 8; i++) memcpy(dst + (p + i) * 16 + 8 * half, &v[i], sizeof v[i]);
            }
        }
    }
#endif
    for (size_t c = 0; c < 16; c++) {
        if (c < n) {
            for (size_t pp = p; pp < len; pp++) dst[pp * 16 + c] = b[c * ldb + pp];
        } else {
            for (size_t pp = p; pp < len; pp++) dst[pp * 16 + c] = 0;
        }
    }
}

void VARIANT(stepwise_sgemm_pack_b)(const float *b, size_t ldb, size_t rows, size_t k, float *dst) {
    for (size_t q = 0; q * 16 < rows; q++) {
        const size_t n = rows - 16 * q < 16 ? rows - 16 * q : 16;
        sg_pack_panel(b + 16 * q * ldb, ldb, n, k, dst + q * 16 * k);
    }
}

int VARIANT(stepwise_sgemm_tile_rows)(void) { return SGEMM_MR; }

void VARIANT(stepwise_sgemm_pack_a)(const float *a, size_t lda, size_t rows, size_t k, float *dst) {
    for (size_t i = 0; i < rows; i += SGEMM_MR) {
        float *t = dst + i * k;  // tile i / MR starts at (i / MR) · MR · k
        const size_t mr = rows - i < SGEMM_MR ? rows - i : SGEMM_MR;
        for (size_t r = 0; r < SGEMM_MR; r++) {
            if (r < mr) {
                const float *src = a + (i + r) * lda;
                for (size_t p = 0; p < k; p++) t[p * SGEMM_MR + r] = src[p];
            } else {
                for (size_t p = 0; p < k; p++) t[p * SGEMM_MR + r] = 0;
            }
        }
    }
}

void VARIANT(stepwise_sgemm_panels)(const float *a, const float *panels, size_t k, size_t rows,
                                         size_t panel_count, size_t cols, float *c, size_t ldc) {
    if (rows <= SGEMM_FEW_ROWS) {
        sg_few_any((int)rows, a, panels, k, panel_count, cols, c, ldc);
        return;
    }
    const size_t kb = sg_kblock(k);
    // Panel groups outer, k-blocks inner: a group's C tile (rows x 16·NV) stays in cache between k-blocks.
    for (size_t q = 0; q < panel_count; q += SGEMM_NV) {
        const size_t count = panel_count - q < SGEMM_NV ? panel_count - q : SGEMM_NV;
        const size_t width = cols - 16 * q < 16 * count ? cols - 16 * q : 16 * count;
        for (size_t kk = 0; kk < k; kk += kb) {
            const size_t len = k - kk < kb ? k - kk : kb;
            sg_block(a + kk * SGEMM_MR, SGEMM_MR * k, panels + q * 16 * k + kk * 16, 16 * k, count, len, c + 16 * q,
                     ldc, rows, width, kk == 0);
        }
    }
}

void VARIANT(stepwise_sgemm)(const float *a, const float *b, size_t ldb, size_t k, size_t rows, size_t cols,
                                  float *c, size_t ldc) {
    const size_t kb = sg_kblock(k);
    float *packed = malloc(sizeof(float) * 16 * SGEMM_NV * kb);
    if (!packed) abort();
    for (size_t j = 0; j < cols; j += 16 * SGEMM_NV) {
        const size_t width = cols - j < 16 * SGEMM_NV ? cols - j : 16 * SGEMM_NV;
        const size_t count = (width + 15) / 16;
        for (size_t kk = 0; kk < k; kk += kb) {
            const size_t len = k - kk < kb ? k - kk : kb;
            for (size_t q = 0; q < count; q++) {
                const size_t n = width - 16 * q < 16 ? width - 16 * q : 16;
                sg_pack_panel(b + (j + 16 * q) * ldb + kk, ldb, n, len, packed + q * 16 * len);
            }
            sg_block(a + kk * SGEMM_MR, SGEMM_MR * k, packed, 16 * len, count, len, c + j, ldc, rows, width, kk == 0);
        }
    }
    free(packed);
}

/// Σ a[p]·b_r[p] for four rows of B at once (one row of A: nothing to reuse, so B streams once), two
/// accumulators per row so eight multiply-add chains are in flight.
void VARIANT(stepwise_sgemv)(const float *a, const float *b, size_t ldb, size_t k, size_t cols, float *c) {
    size_t j = 0;
    for (; j + 4 <= cols; j += 4) {
        const float *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        sg_f32x16 s0 = {}, s1 = {}, s2 = {}, s3 = {}, t0 = {}, t1 = {}, t2 = {}, t3 = {};
        size_t p = 0;
        for (; p + 32 <= k; p += 32) {
            const sg_f32x16 x = sg_load(a + p), y = sg_load(a + p + 16);
            s0 += x * sg_load(b0 + p);
            s1 += x * sg_load(b1 + p);
            s2 += x * sg_load(b2 + p);
            s3 += x * sg_load(b3 + p);
            t0 += y * sg_load(b0 + p + 16);
            t1 += y * sg_load(b1 + p + 16);
            t2 += y * sg_load(b2 + p + 16);
            t3 += y * sg_load(b3 + p + 16);
        }
        if (p + 16 <= k) {
            const sg_f32x16 x = sg_load(a + p);
            s0 += x * sg_load(b0 + p);
            s1 += x * sg_load(b1 + p);
            s2 += x * sg_load(b2 + p);
            s3 += x * sg_load(b3 + p);
            p += 16;
        }
        s0 += t0;
        s1 += t1;
        s2 += t2;
        s3 += t3;
        float t[4] = {sg_sum(s0), sg_sum(s1), sg_sum(s2), sg_sum(s3)};
        for (; p < k; p++) {
            t[0] += a[p] * b0[p];
            t[1] += a[p] * b1[p];
            t[2] += a[p] * b2[p];
            t[3] += a[p] * b3[p];
        }
        memcpy(c + j, t, sizeof t);
    }
    for (; j < cols; j++) {
        const float *bj = b + j * ldb;
        sg_f32x16 s = {};
        size_t p = 0;
        for (; p + 16 <= k; p += 16) s += sg_load(a + p) * sg_load(bj + p);
        float t = sg_sum(s);
        for (; p < k; p++) t += a[p] * bj[p];
        c[j] = t;
    }
}
