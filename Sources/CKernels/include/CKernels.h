#ifndef STEPWISE_CKERNELS_H
#define STEPWISE_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The few things Stepwise does in C.
///
/// Block-format matrix-vector kernels written with x86 AVX2/FMA/F16C intrinsics, for the one place
/// where the Swift compiler does not vectorise well: widening 4- and 8-bit codes to float32 lanes.
///
/// Block layouts are ggml's (32 values per block): Q4_0 = f16 d, 16 bytes of nibbles (value d·(q−8));
/// Q4_1 = f16 d, f16 m, 16 bytes of nibbles (value d·q + m); Q8_0 = f16 d, 32 int8 (value d·q).
/// In a block, byte j holds value j in its low nibble and value j+16 in its high nibble.
///
/// Each output is Σ_blocks (d·Σ q·x + m·Σx): the codes are multiplied as whole numbers and the scale
/// and offset applied once per block, which equals the product with the dequantized weights up to
/// float32 rounding. The activations stay float32.

/// 1 when this CPU runs the kernels below (x86-64 with AVX2, FMA and F16C), else 0.
int stepwise_block_kernels_available(void);

/// Formats, as in the Swift `QuantizedMatrix.Format`.
enum { STEPWISE_Q4_0 = 0, STEPWISE_Q4_1 = 1, STEPWISE_Q8_0 = 2 };

/// For rows r in [row_begin, row_end) and inputs i in [0, m):
///   out[i * out_stride + r] = Σ_blocks row r's block · x[i]'s block,
/// where row r starts at `weights + r * row_bytes`, x[i] at `x + i * blocks * 32`, and `sums[i * blocks + b]`
/// is the sum of x[i]'s block b (read for Q4_0 and Q4_1 only).
/// Only call when stepwise_block_kernels_available() returns 1.
void stepwise_block_matvec(int format, const uint8_t *weights, size_t row_bytes, size_t row_begin, size_t row_end,
                           const float *x, const float *sums, size_t m, size_t blocks,
                           float *out, size_t out_stride);

/// Keeps freed memory in the process (glibc: serves blocks up to 256 MB from the heap and trims it
/// only above 512 MB free). A traced forward pass allocates a few hundred tensors of 0.1-10 MB; by
/// default glibc maps each with mmap and unmaps it on free, so every pass faulted in and zeroed fresh
/// pages. A no-op on other C libraries.
void stepwise_keep_freed_memory(void);

/// A task of a parallel loop: `index` runs from 0 to count − 1.
typedef void (*stepwise_task_fn)(void *context, size_t index);

/// Runs fn(context, 0) … fn(context, count − 1) on the calling thread and a pool of (cores − 1)
/// workers, returning when all are done. Workers spin briefly between jobs, then sleep. A call made
/// while another is running (from another thread, or from inside a task) runs inline.
void stepwise_parallel_for(size_t count, stepwise_task_fn fn, void *context);

/// The number of pool workers besides the calling thread (starting them on first use).
int stepwise_parallel_workers(void);

#endif
