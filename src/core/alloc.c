/* Counts every byte of tensor memory: Lua's GC cannot see it, so the bindings use these
 * counters to run collection steps in proportion (see src/lua/l_tensor.c: l_gc_pace). */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>

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

void *wick_host_alloc(size_t nbytes) {
  size_t rounded = (nbytes + 63) & ~(size_t)63;
  void *p = aligned_alloc(64, rounded ? rounded : 64);
  if (p) wick_mem_account((int64_t)nbytes);
  return p;
}

void wick_host_free(void *p, size_t nbytes) {
  if (!p) return;
  free(p);
  wick_mem_account(-(int64_t)nbytes);
}

int64_t wick_mem_live(void) { return atomic_load(&live_bytes); }
int64_t wick_mem_peak(void) { return atomic_load(&peak_bytes); }
int64_t wick_mem_take_allocated(void) { return atomic_exchange(&fresh_bytes, 0); }
int64_t wick_tensor_live_count(void) { return atomic_load(&wick_tensor_count_); }
