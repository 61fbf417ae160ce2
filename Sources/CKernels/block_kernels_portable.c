// The block kernels for any CPU: the compiler's baseline vectors (SSE2 on x86-64, NEON on arm64).
#define BLOCK_KERNEL_NAME stepwise_block_matvec_portable
#include "block_kernels.h"
