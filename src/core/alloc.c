/* Host memory for tensors. Every byte is counted (Lua's GC cannot see tensor memory, so the
 * bindings pace collection with these counters; see src/lua/l_aux.c: l_gc_pace), and freed
 * blocks are cached: up to 1 MiB in power-of-two size classes (small tensor ops allocate and
 * free the same sizes over and over, and malloc's slow paths would otherwise dominate them),
 * larger ones in eighth-of-a-doubling classes (a training step frees and allocates the same
 * large activations every step; fresh ones come from mmap and pay a page fault per 4 KiB). */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic int64_t live_bytes, peak_bytes, fresh_bytes;
_Atomic int64_t wick_tensor_count_;

void wick_mem_account(int64_t delta) {
  int64_t now = atomic_fetch_add(&live_bytes, delta) + delta;
  if (delta > 0) {
    atomic_fetch_add(&fresh_bytes, delta);
    int64_t peak = atomic_load(&peak_bytes);
    while (now > peak && !atomic_compare_exchange_weak(&peak_bytes, &peak, now)) {}
  }
}

/* ---- the block cache ---- */

#define MIN_SHIFT 6  /* 64 B */
#define MAX_SHIFT 20 /* 1 MiB */
#define NCLASS (MAX_SHIFT - MIN_SHIFT + 1)
#define CACHE_CAP ((size_t)64 << 20) /* bytes kept in all small free lists together */
/* Large blocks: class (k, j) holds sizes in (2^k + (j-1) 2^(k-3), 2^k + j 2^(k-3)], k > 20. */
#define LARGE_SUB 8
#define NLARGE ((48 - MAX_SHIFT) * LARGE_SUB)
#define LARGE_CAP ((size_t)1 << 30) /* bytes kept in all large free lists together */

typedef struct block { struct block *next; } block;

static struct {
  atomic_flag lock;
  block *free[NCLASS];
  block *large[NLARGE];
  size_t cached, large_cached;
} cache = {ATOMIC_FLAG_INIT};

static inline void lock(void) { while (atomic_flag_test_and_set_explicit(&cache.lock, memory_order_acquire)) {} }
static inline void unlock(void) { atomic_flag_clear_explicit(&cache.lock, memory_order_release); }

static inline int size_class(size_t n) {
  if (n <= ((size_t)1 << MIN_SHIFT)) return 0;
  int c = 64 - __builtin_clzll((unsigned long long)(n - 1)) - MIN_SHIFT;
  return c < NCLASS ? c : -1;
}

/* The large class of n > 1 MiB (-1 past 2^48 bytes) and the size every block of it has. */
static inline int large_class(size_t n, size_t *cap) {
  int k = 63 - __builtin_clzll((unsigned long long)n); /* 2^k <= n < 2^(k+1) */
  size_t step = (size_t)1 << (k - 3);
  size_t j = (n - ((size_t)1 << k) + step - 1) / step; /* 0..8 */
  *cap = ((size_t)1 << k) + j * step;
  int c = (k - MAX_SHIFT) * LARGE_SUB + (int)j; /* j == 8 is class (k+1, 0): the same size */
  return c < NLARGE ? c : -1;
}

static void *large_alloc(size_t n) {
  size_t cap;
  int c = large_class(n, &cap);
  if (c < 0) return aligned_alloc(64, (n + 63) & ~(size_t)63);
  lock();
  block *b = cache.large[c];
  if (b) {
    cache.large[c] = b->next;
    cache.large_cached -= cap;
  }
  unlock();
  return b ? (void *)b : aligned_alloc(64, cap);
}

static void large_free(void *p, size_t n) {
  size_t cap;
  int c = large_class(n, &cap);
  if (c >= 0) {
    lock();
    if (cache.large_cached + cap <= LARGE_CAP) {
      block *b = p;
      b->next = cache.large[c];
      cache.large[c] = b;
      cache.large_cached += cap;
      p = NULL;
    }
    unlock();
  }
  free(p);
}

static void *block_alloc(size_t n) {
  int c = size_class(n);
  if (c < 0) return large_alloc(n);
  lock();
  block *b = cache.free[c];
  if (b) {
    cache.free[c] = b->next;
    cache.cached -= (size_t)1 << (c + MIN_SHIFT);
  }
  unlock();
  return b ? (void *)b : aligned_alloc(64, (size_t)1 << (c + MIN_SHIFT));
}

static void block_free(void *p, size_t n) {
  int c = size_class(n);
  if (c < 0) {
    large_free(p, n);
    return;
  }
  size_t sz = (size_t)1 << (c + MIN_SHIFT);
  lock();
  if (cache.cached + sz <= CACHE_CAP) {
    block *b = p;
    b->next = cache.free[c];
    cache.free[c] = b;
    cache.cached += sz;
    p = NULL;
  }
  unlock();
  free(p);
}

void *wick_host_alloc(size_t nbytes) {
  void *p = block_alloc(nbytes ? nbytes : 1);
  if (p) wick_mem_account((int64_t)nbytes);
  return p;
}

void wick_host_free(void *p, size_t nbytes) {
  if (!p) return;
  block_free(p, nbytes ? nbytes : 1);
  wick_mem_account(-(int64_t)nbytes);
}

void *wick_small_alloc(size_t nbytes) {
  void *p = block_alloc(nbytes);
  if (p) memset(p, 0, nbytes);
  return p;
}

void wick_small_free(void *p, size_t nbytes) {
  if (p) block_free(p, nbytes);
}

void *wick_scratch_alloc(size_t nbytes) { return block_alloc(nbytes ? nbytes : 1); }

void wick_scratch_free(void *p, size_t nbytes) {
  if (p) block_free(p, nbytes ? nbytes : 1);
}

void wick_host_cache_clear(void) {
  lock();
  block *lists[NCLASS], *large[NLARGE];
  memcpy(lists, cache.free, sizeof lists);
  memset(cache.free, 0, sizeof cache.free);
  memcpy(large, cache.large, sizeof large);
  memset(cache.large, 0, sizeof cache.large);
  cache.cached = cache.large_cached = 0;
  unlock();
  for (int c = 0; c < NCLASS + NLARGE; c++)
    for (block *b = c < NCLASS ? lists[c] : large[c - NCLASS], *next; b; b = next) {
      next = b->next;
      free(b);
    }
}

int64_t wick_mem_live(void) { return atomic_load(&live_bytes); }
int64_t wick_mem_peak(void) { return atomic_load(&peak_bytes); }
int64_t wick_mem_take_allocated(void) { return atomic_exchange(&fresh_bytes, 0); }
int64_t wick_tensor_live_count(void) { return atomic_load(&wick_tensor_count_); }
