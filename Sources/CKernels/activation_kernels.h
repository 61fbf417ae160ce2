// The MLP nonlinearities that go through `exp`: SiLU and GELU's tanh form, 16 values at a time.
// Included by kernels_portable.c, kernels_avx2.c and kernels_avx512.c after block_kernels.h (whose vector
// types it uses).
//
// Every operation is a separately rounded IEEE multiply, add or divide (no fused multiply-add, no
// estimate instructions), so each variant gives the same bits as the others for every input.
//
// Not a public header: only those three files include it.

#include <stdint.h>
#include <string.h>

#include "CKernels.h"

typedef int32_t act_i32x16 __attribute__((vector_size(64)));

/// `a` where `m` is true (all ones), else `b`.
static inline __attribute__((always_inline)) f32x16 act_select(act_i32x16 m, f32x16 a, f32x16 b) {
    return (f32x16)(((act_i32x16)a & m) | ((act_i32x16)b & ~m));
}

/// 2^n for integer lanes −126 ≤ n ≤ 127, built from the exponent bits.
static inline __attribute__((always_inline)) f32x16 act_pow2(act_i32x16 n) {
    const act_i32x16 bits = (n + 127) << 23;
    f32x16 f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/// e^x per lane, within 2 units in the last place; +inf above ≈ 88.72, 0 (through the subnormals) below
/// ≈ −103.97, NaN for NaN.
///
/// x = n·ln 2 + r with n = round(x / ln 2) and ln 2 split in two so n·ln2_hi is exact (Cody and Waite);
/// e^r on |r| ≤ ln 2 / 2 by Cephes' degree-7 polynomial; then 2^n applied as two halves so results near
/// overflow and in the subnormal range round once, at the end.
static inline __attribute__((always_inline)) f32x16 act_exp(f32x16 x) {
#pragma clang fp contract(off)
    const f32x16 big = splat(88.9f), small = splat(-104.0f);
    f32x16 c = act_select(x > big, big, x);
    c = act_select(c < small, small, c);
    // round(c·log2 e) by the 1.5·2^23 trick: exact round-to-nearest-even for |value| < 2^22.
    const f32x16 shifter = splat(12582912.0f);
    const f32x16 n = (c * 1.44269504088896341f + shifter) - shifter;
    const f32x16 r = (c - n * 0.693359375f) - n * -2.12194440e-4f;
    f32x16 p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = (p * (r * r) + r) + 1.0f;
    const act_i32x16 k = __builtin_convertvector(n, act_i32x16), k1 = k >> 1;
    const f32x16 e = (p * act_pow2(k1)) * act_pow2(k - k1);
    return act_select(x != x, x, e);
}

/// x / (1 + e^(−x)).
static inline __attribute__((always_inline)) f32x16 act_silu(f32x16 x) {
#pragma clang fp contract(off)
    return x / (1.0f + act_exp(-x));
}

/// 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), computed as x / (1 + e^(−2u)), the same
/// function (1 + tanh u = 2 / (1 + e^(−2u))) without the cancellation of 1 + tanh u for negative u.
static inline __attribute__((always_inline)) f32x16 act_gelu_tanh(f32x16 x) {
#pragma clang fp contract(off)
    const f32x16 u = (x + (x * x * x) * 0.044715f) * 0.7978845608028654f;
    return x / (1.0f + act_exp(u * -2.0f));
}

static inline __attribute__((always_inline)) f32x16 act_apply(int kind, f32x16 x) {
    return kind == STEPWISE_ACT_SILU ? act_silu(x) : act_gelu_tanh(x);
}

void VARIANT(stepwise_activation)(int kind, const float *x, const float *up, float *out, size_t n) {
#pragma clang fp contract(off)
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        f32x16 v = act_apply(kind, load16(x + i));
        if (up) v = v * load16(up + i);
        memcpy(out + i, &v, sizeof v);
    }
    if (i < n) {  // the tail through one zero-padded vector
        float t[16] = {0}, u[16] = {0};
        memcpy(t, x + i, sizeof(float) * (n - i));
        f32x16 v = act_apply(kind, load16(t));
        if (up) {
            memcpy(u, up + i, sizeof(float) * (n - i));
            v = v * load16(u);
        }
        memcpy(t, &v, sizeof v);
        memcpy(out + i, t, sizeof(float) * (n - i));
    }
}
