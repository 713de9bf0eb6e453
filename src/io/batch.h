/* Batch collation for in-memory datasets: gather rows of a sample tensor by an index tensor,
 * converting and scaling on the way (u8 images -> f32 in [0, 1], normalised). Lua-free. */
#ifndef WICK_BATCH_H
#define WICK_BATCH_H

#include "core/tensor.h"

/* out[i, ...] = src[idx[i], ...] * scale + shift, converted to out's dtype (for integer
 * outputs scale must be 1 and shift 0: a plain gather). src: CPU [N, ...]; idx: i64 or i32,
 * 0-d or 1-d of B entries in [-N, N) (negative counts from the end); out: contiguous CPU,
 * B * (numel(src) / N) elements, filled in place. Fast paths: u8 -> f32/f64 and any -> same
 * dtype; the rest goes through doubles. The indices are all checked before out is written. */
wick_status wick_batch_gather(const wick_tensor *src, const wick_tensor *idx, double scale,
                              double shift, wick_tensor *out);

#endif
