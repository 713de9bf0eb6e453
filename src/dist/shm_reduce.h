/* The reductions of the shared-memory process group (shm_pg.c): dst[i] = op over k of src[k][i],
 * in blocks that stay in L1, loops the compiler vectorises. f16/bf16 reduce in f32 and round
 * once; integers wrap (unsigned arithmetic, as PyTorch's CPU sum). */
#ifndef WICK_DIST_SHM_REDUCE_H
#define WICK_DIST_SHM_REDUCE_H

#include <stdbool.h>
#include <stddef.h>

#include "dist/process_group.h"

/* Whether shm_pg can reduce dtype d with op r (avg: floating point only). */
bool wick_shm_reduce_supported(wick_dtype d, wick_pg_reduce r);
/* dst may alias a source; n >= 1 sources. dst2 (NULL: none) gets a copy of the result, written
 * from cache in the same pass. WICK_PG_AVG divides the sum by n. */
void wick_shm_reduce(wick_dtype d, wick_pg_reduce r, void *dst, void *dst2, const void *const *src, int n,
                     size_t count);

#endif
