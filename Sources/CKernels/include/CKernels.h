#ifndef STEPWISE_CKERNELS_H
#define STEPWISE_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The few things Stepwise does in C.
///
/// The hot kernels are compiled several times, once per x86 instruction set (with `#pragma clang attribute`
/// target attributes, so the rest of the binary stays baseline x86-64), and each call names the variant
/// it wants; `stepwise_isa_best()` is what this CPU can run, found once with `__builtin_cpu_supports`.
/// An ISA the CPU lacks falls back to the portable variant, so no call can raise an illegal instruction.

/// Instruction sets with their own kernel variants, as in the Swift `KernelISA`.
enum {
    /// Compiled for the baseline of the target (SSE2 on x86-64, NEON on arm64).
    STEPWISE_ISA_PORTABLE = 0,
    /// AVX2 + FMA + F16C (x86-64-v3).
    STEPWISE_ISA_AVX2 = 1,
    /// AVX-512 F, BW, DQ, VL (x86-64-v4) and the AVX2 set.
    STEPWISE_ISA_AVX512 = 2,
};

/// 1 when this CPU (and its operating system) runs the variant `isa`, else 0. Portable is always 1.
int stepwise_isa_supported(int isa);

/// The widest ISA this CPU runs.
int stepwise_isa_best(void);

/// The nonlinearities ``stepwise_activation`` computes, as in the Swift `Activation`.
enum {
    /// GELU's tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (`gelu_new`, `gelu_pytorch_tanh`).
    STEPWISE_ACT_GELU_TANH = 0,
    /// SiLU, x / (1 + e^(−x)).
    STEPWISE_ACT_SILU = 1,
};

/// `out[i] = f(x[i])`, times `up[i]` when `up` is not NULL (a gated MLP), for `n` values; `out` may be `x`.
/// Every variant gives the same bits (separately rounded operations only); e^x is within 2 ulp.
void stepwise_activation(int isa, int kind, const float *x, const float *up, float *out, size_t n);

/// Attention for one query against `keys` cached keys and values, each `[keys, kv_heads, d]` row-major;
/// query head h reads key/value head h / (heads / kv_heads).
///
/// Scores: `out[h · out_stride + j] = scale · Σ_e q[h·d + e] · k[(j·kv_heads + h/group)·d + e]` for the
/// query's `q` `[heads, d]`. A score is the same however the keys are split between calls.
void stepwise_attention_scores(int isa, const float *q, const float *k, size_t heads, size_t kv_heads, size_t d,
                               size_t keys, float scale, float *out, size_t out_stride);

/// Weighted values: `z[h·d + e] = Σ_j p[h · p_stride + j] · v[(j·kv_heads + h/group)·d + e]`, the keys
/// added in order from 0, those with weight 0 (masked) skipped; `z` `[heads, d]` is overwritten.
void stepwise_attention_values(int isa, const float *p, size_t p_stride, const float *v, size_t heads, size_t kv_heads,
                               size_t d, size_t keys, float *z);

/// Block formats, as in the Swift `QuantizedMatrix.Format` (ggml's layouts).
///
/// 32-value blocks: Q4_0 = f16 d, 16 bytes of nibbles (value d·(q−8)); Q4_1 = f16 d, f16 m, 16 bytes of
/// nibbles (d·q + m); Q5_0 = f16 d, u32 of fifth bits, nibbles (d·(q5−16)); Q5_1 = f16 d, f16 m, u32,
/// nibbles (d·q5 + m); Q8_0 = f16 d, 32 int8 (d·q). In those, byte j holds value j in its low nibble and
/// value j+16 in its high nibble, and bit j of the u32 is value j's fifth bit.
/// 256-value super-blocks: Q4_K (144 bytes), Q5_K (176) and Q6_K (210), laid out as
/// GGUFQuantization.swift describes.
enum {
    STEPWISE_Q4_0 = 0, STEPWISE_Q4_1 = 1, STEPWISE_Q8_0 = 2, STEPWISE_Q5_0 = 3, STEPWISE_Q5_1 = 4,
    STEPWISE_Q4_K = 5, STEPWISE_Q5_K = 6, STEPWISE_Q6_K = 7,
    /// Plain rows of IEEE float32, float16 or bfloat16 values (a "block" of one value).
    STEPWISE_F32 = 8, STEPWISE_F16 = 9, STEPWISE_BF16 = 10,
};

/// Values per block of `format`: 32, 256 for the K formats, 1 for F32/F16/BF16.
int stepwise_format_block_values(int format);

/// Bytes per block of `format`.
int stepwise_format_block_bytes(int format);

/// `count` consecutive blocks of `format` at `blocks` converted to float32 into `values`
/// (`count · stepwise_format_block_values(format)` of them), each value computed exactly as
/// GGUFQuantization.swift computes it.
void stepwise_dequantize(int isa, int format, const uint8_t *blocks, size_t count, float *values);

/// The first of `count` blocks of `format` that holds an infinity or NaN (a non-finite scale, or value
/// for F32/F16/BF16), or −1. A block whose scales are finite has only finite values.
long long stepwise_first_nonfinite_block(int format, const uint8_t *blocks, size_t count);

/// `C[rows, cols] = A · B[:, c0 ..< c0 + k]ᵀ` where B's `cols` rows are stored in `format`, `row_bytes`
/// apart from `weights` (F32 rows must be 4-byte aligned): A packed in row tiles as for
/// ``stepwise_sgemm_panels``, with depth `k`. B is converted 16 rows at a time into panels and
/// multiplied by the float32 kernel 16 or 32 rows at a time, so the result equals ``stepwise_sgemm_panels`` on the dequantized
/// matrix bit for bit. Overwrites C.
void stepwise_sgemm_stored(int isa, int format, const uint8_t *weights, size_t row_bytes, size_t c0, size_t k,
                           const float *a, size_t rows, size_t cols, float *c, size_t ldc);

/// `sums[b]` = Σ of the 32 values `x[32b …< 32b + 32]`, for b < blocks: the offsets of the formats with a
/// min (Q4_1, Q5_1, Q4_K, Q5_K) are one multiply per 32 values with these.
void stepwise_block_sums(const float *x, size_t blocks, float *sums);

/// For rows r in [row_begin, row_end) and inputs i in [0, m):
///   out[i * out_stride + r] = Σ_j W[r, j] · x[i * columns + j],
/// where row r's blocks start at `weights + r * row_bytes` and `sums + i * columns / 32` holds x[i]'s
/// block sums (``stepwise_block_sums``; read for Q4_1, Q5_1, Q4_K, Q5_K only, else may be NULL).
/// `columns` is a multiple of the format's block (32, or 256 for the K formats).
///
/// The codes are multiplied as whole numbers against the float32 inputs and each (sub-)block's scale
/// and offset applied once (`d·Σq·x + m·Σx`), which equals the product with the dequantized weights up
/// to float32 rounding. The activations stay float32.
void stepwise_block_matvec(int isa, int format, const uint8_t *weights, size_t row_bytes, size_t row_begin,
                           size_t row_end, const float *x, const float *sums, size_t m, size_t columns,
                           float *out, size_t out_stride);

/// Float32 products `C = A·Bᵀ` (A `[rows, k]`, B `[cols, k]`, both row-major, B a PyTorch `[out, in]`
/// weight), in register tiles of `stepwise_sgemm_tile_rows(isa)` rows of A by 16 (AVX2, portable) or 32
/// (AVX-512) columns of B, cache-blocked over k. B is read in panels of 16 of its rows, k-major
/// (`panel[p·16 + c] = B[16q + c][p]`, the last panel padded with zero rows); A in tiles of that many rows,
/// k-major (`tile[p·MR + r]`, padded with zero rows). These functions do one chunk on the calling thread;
/// the Swift side splits a product over the cores.

/// Rows of A per register tile of `isa`'s kernel (the `MR` of the packed A layout).
int stepwise_sgemm_tile_rows(int isa);

/// Packs `rows` rows of A (`lda` apart) into `ceil(rows / MR) * MR * k` floats at `dst`.
void stepwise_sgemm_pack_a(int isa, const float *a, size_t lda, size_t rows, size_t k, float *dst);

/// Packs `rows` rows of B (`ldb` apart) into `ceil(rows / 16)` panels of `16 * k` floats at `dst`.
void stepwise_sgemm_pack_b(int isa, const float *b, size_t ldb, size_t rows, size_t k, float *dst);

/// `C[rows, cols] = A · Bᵀ` with A packed (its first tile at `a`) and B in `panel_count` panels at `panels`
/// (`cols ≤ 16 * panel_count` columns are written); C's rows are `ldc` apart. Overwrites C.
void stepwise_sgemm_panels(int isa, const float *a, const float *panels, size_t k, size_t rows, size_t panel_count,
                           size_t cols, float *c, size_t ldc);

/// As ``stepwise_sgemm_panels`` with B's rows in their own layout (`ldb` apart), packed a k-block at a time.
void stepwise_sgemm(int isa, const float *a, const float *b, size_t ldb, size_t k, size_t rows, size_t cols,
                    float *c, size_t ldc);

/// `c[j] = Σ_p a[p] · B[j][p]` for j < cols (one row of A, unpacked; B's rows `ldb` apart, read once).
void stepwise_sgemv(int isa, const float *a, const float *b, size_t ldb, size_t k, size_t cols, float *c);

/// Keeps freed memory in the process (glibc: serves blocks up to 256 MB from the heap and trims it
/// only above 512 MB free). A traced forward pass allocates a few hundred tensors of 0.1-10 MB; by
/// default glibc maps each with mmap and unmaps it on free, so every pass faulted in and zeroed fresh
/// pages. A no-op on other C libraries.
void stepwise_keep_freed_memory(void);

/// A task of a parallel loop: `index` runs from 0 to count − 1.
typedef void (*stepwise_task_fn)(void *context, size_t index);

/// Runs fn(context, 0) … fn(context, count − 1) on the calling thread and a pool of (usable CPUs − 1)
/// workers, returning when all are done. Workers spin briefly between jobs, then sleep. A call made
/// while another is running (from another thread, or from inside a task) runs inline.
void stepwise_parallel_for(size_t count, stepwise_task_fn fn, void *context);

/// The number of pool workers besides the calling thread (starting them on first use).
int stepwise_parallel_workers(void);

#endif
