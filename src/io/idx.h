/* IDX files (the format of MNIST and Fashion-MNIST), gzip-compressed or plain: a reader that
 * validates the header against the file's length before allocating, and a writer. Lua-free. */
#ifndef WICK_IDX_H
#define WICK_IDX_H

#include <stdbool.h>

#include "core/tensor.h"

/* Reads an IDX file (gzip or plain, told apart by the gzip magic, not the name) into a new
 * contiguous CPU tensor. Element types: 0x08 -> u8, 0x0C -> i32, 0x0D -> f32, 0x0E -> f64;
 * the signed 0x09 (i8) and 0x0B (i16), which wick has no dtype for, widen to i32.
 * Checked before the data is allocated: the magic (two zero bytes), the type code, 1 to
 * WICK_MAX_DIMS dims, and that the dims match the data length (the file size for a plain
 * file; the gzip trailer's length and the deflate ratio bound for a gzip file). Errors are
 * WICK_ERR_IO (cannot open/read) or WICK_ERR_PARSE (bad content), naming the path. */
wick_status wick_idx_read(const char *path, wick_tensor **out);

/* Writes t (u8, i32, f32 or f64; any strides) as an IDX file, gzip-compressed when gzip. */
wick_status wick_idx_write(const char *path, const wick_tensor *t, bool gzip);

#endif
