/* Checksums of tensor data for checkpoints: CRC-32C of a CPU tensor's bytes in row-major order
 * (whatever its strides). */
#ifndef WICK_IO_CHECKSUM_H
#define WICK_IO_CHECKSUM_H

#include <stdint.h>

#include "core/tensor.h"

/* *out = CRC-32C of t's elements, as a contiguous copy would hold them. t must be on the CPU. */
wick_status wick_tensor_crc32c(const wick_tensor *t, uint32_t *out);

#endif
