#ifndef STEPWISE_CZLIB_SHIM_H
#define STEPWISE_CZLIB_SHIM_H
// The system zlib (zlib1g-dev): deflate for PNG's IDAT stream and the CRC-32 of its chunks.
#include <zlib.h>
#endif
