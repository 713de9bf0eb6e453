/* Host memory for tensor storages, with byte counters the Lua layer reads to pace its GC. */
#ifndef WICK_ALLOC_H
#define WICK_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* 64-byte aligned (from a cache of freed blocks, up to 1 GiB of large ones); NULL on failure.
 * nbytes == 0 returns a valid unique pointer. */
void *wick_host_alloc(size_t nbytes);
void wick_host_free(void *p, size_t nbytes);

/* Zeroed bookkeeping objects (tensor and storage structs) from the same cache; not counted. */
void *wick_small_alloc(size_t nbytes);
void wick_small_free(void *p, size_t nbytes);
/* Uncounted work buffers of kernels (conv columns, layout copies) from the same cache, not
 * zeroed: a loop that needs the same scratch every step gets the same block back. */
void *wick_scratch_alloc(size_t nbytes);
void wick_scratch_free(void *p, size_t nbytes);
/* Returns every cached block to the system (empty_cache). */
void wick_host_cache_clear(void);

/* Bytes held by live storages (all devices), and the peak since start. */
int64_t wick_mem_live(void);
int64_t wick_mem_peak(void);
/* Bytes allocated since the last call (the Lua layer turns them into GC work). */
int64_t wick_mem_take_allocated(void);
void wick_mem_account(int64_t delta);
/* Live tensor objects (leak counter checked by the specs). */
int64_t wick_tensor_live_count(void);

#endif
