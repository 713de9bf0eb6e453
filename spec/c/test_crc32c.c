/* CRC-32C and its mask against the vectors of notes/tfevents.md §1 (RFC 3720, TensorBoard). */
#include <stdio.h>
#include <string.h>

#include "tb/crc32c.h"

static int fails;
static void check(const char *what, const void *p, size_t n, uint32_t crc, uint32_t masked) {
  uint32_t c = wick_crc32c(0, p, n), m = wick_crc32c_mask(c);
  if (c != crc || m != masked) {
    printf("FAIL %s: crc %08x (want %08x), masked %08x (want %08x)\n", what, c, crc, m, masked);
    fails++;
  }
}

int main(void) {
  unsigned char z[32], f[32], len24[8] = {0x18};
  memset(z, 0, 32);
  memset(f, 0xFF, 32);
  check("123456789", "123456789", 9, 0xE3069283u, 0xC78AB0E5u);
  check("32 x 00", z, 32, 0x8A9136AAu, 0x0FD7FFFAu);
  check("32 x FF", f, 32, 0x62A8AB43u, 0xF909B029u);
  check("empty", "", 0, 0, 0xA282EAD8u);
  check("1a 11 CRC test", "\x1a\x11" "CRC test, one two", 19, 0xF2D95A88u, 0x5794D08Au);
  check("u64le(0)", z, 8, 0x8C28B28Au, 0x07980329u);
  check("u64le(24)", len24, 8, 0x4A65BFE4u, 0x224B7FA3u);
  /* incremental == one shot, across the 8-byte fast path boundary */
  const char *s = "the quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= strlen(s); cut++) {
    uint32_t a = wick_crc32c(wick_crc32c(0, s, cut), s + cut, strlen(s) - cut);
    if (a != wick_crc32c(0, s, strlen(s))) { printf("FAIL incremental at %zu\n", cut); fails++; }
  }
  if (!fails) printf("crc32c: all ok\n");
  return fails != 0;
}
