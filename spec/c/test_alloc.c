/* C unit test of the host allocator's block cache: small and large freed blocks come back for
 * requests of their size class, other classes get other blocks, counters stay exact, and
 * wick_host_cache_clear empties the cache. */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

#include "check.h"

static void test_reuse(size_t n, size_t same, size_t other) {
  int64_t live0 = wick_mem_live();
  char *p = wick_host_alloc(n);
  CHECK(p && ((uintptr_t)p & 63) == 0, "%zu bytes: 64-byte aligned", n);
  memset(p, 1, n);
  CHECK(wick_mem_live() == live0 + (int64_t)n, "%zu bytes counted", n);
  wick_host_free(p, n);
  CHECK(wick_mem_live() == live0, "%zu bytes uncounted", n);
  char *q = wick_host_alloc(same);
  CHECK(q == p, "%zu bytes reuse the freed block of %zu", same, n);
  memset(q, 2, same);
  char *r = wick_host_alloc(other);
  CHECK(r != p, "%zu bytes get another block", other);
  memset(r, 3, other);
  wick_host_free(q, same);
  wick_host_free(r, other);
  CHECK(wick_mem_live() == live0, "counters back to the start");
}

int main(void) {
  test_reuse(1000, 1024, 2048);
  /* large: classes are an eighth of a doubling wide (4 MiB .. 4.5 MiB is one) */
  test_reuse((4u << 20) + 1, (4u << 20) + 100000, (5u << 20));
  test_reuse((16u << 20), (16u << 20) - 4096, (16u << 20) + 1);
  /* after clearing, the cache hands out fresh blocks and still works */
  wick_host_cache_clear();
  char *p = wick_host_alloc(8u << 20);
  CHECK(p != NULL, "fresh large block");
  memset(p, 0, 8u << 20);
  wick_host_free(p, 8u << 20);
  CHECK(wick_host_alloc(8u << 20) == p, "reused after clear");
  wick_host_free(p, 8u << 20);
  wick_host_cache_clear();
  return failures != 0;
}
