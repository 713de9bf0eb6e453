/* Thread-local execution modes that ops and device code consult: autocast, non-blocking copies
 * and the index that the device "cuda" stands for. Plain C; present in every build. */
#ifndef WICK_EXEC_MODE_H
#define WICK_EXEC_MODE_H

#include <stdbool.h>

#include "dtype.h"
#include "tensor.h"

/* Autocast: matmul/linear/conv2d on floating inputs compute in this dtype (f16 or bf16);
 * WICK_DTYPE_COUNT when off. Returns the previous value so callers can restore it. */
wick_dtype wick_autocast_set(wick_dtype dt);
wick_dtype wick_autocast_get(void);
/* The dtype an operand of dtype `a` is cast to under autocast: `a` itself when autocast is off
 * or `a` is not f32/f16/bf16 (f64 and integers are not eligible, as in PyTorch). */
wick_dtype wick_autocast_dtype_for(wick_dtype a);

/* Copies involving pinned host memory may return before they finish (to(..., {non_blocking})).
 * Returns the previous value. */
bool wick_copy_set_non_blocking(bool on);
bool wick_copy_non_blocking(void);

/* The index `cuda` without ":N" stands for (wick.cuda.set_device). */
void wick_cuda_set_default_index(int index);
int wick_cuda_default_index(void);

#endif
