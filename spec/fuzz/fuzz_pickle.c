/* libFuzzer target for the restricted unpickler alone: the input is the pickle, wrapped in a
 * valid stored zip next to eight 256-byte storages ("archive/data/0" .. "7"), so mutations reach
 * the opcode interpreter instead of being stopped by the zip reader's checks. */
#include "fuzz_input.h"

#include <string.h>
#include <zlib.h>

#include "core/status.h"
#include "core/tensor.h"
#include "io/pickle.h"

typedef struct { uint8_t *b; size_t n, cap; } buf;

static void put(buf *o, const void *p, size_t n) {
  if (o->n + n > o->cap) {
    o->cap = (o->n + n) * 2;
    o->b = realloc(o->b, o->cap);
    if (!o->b) abort();
  }
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static void put16(buf *o, unsigned v) { uint8_t c[2] = {v & 255, v >> 8}; put(o, c, 2); }
static void put32(buf *o, uint32_t v) {
  uint8_t c[4] = {v & 255, (v >> 8) & 255, (v >> 16) & 255, v >> 24};
  put(o, c, 4);
}

/* One zip header (local: signature 0x04034b50; central: 0x02014b50 with its extra fields). */
static void header(buf *z, int central, const char *name, const uint8_t *d, size_t n, uint32_t off) {
  put32(z, central ? 0x02014b50 : 0x04034b50);
  if (central) put16(z, 20);
  put16(z, 20), put16(z, 0), put16(z, 0), put16(z, 0), put16(z, 0);
  put32(z, (uint32_t)crc32(0, d, (uInt)n)), put32(z, (uint32_t)n), put32(z, (uint32_t)n);
  put16(z, (unsigned)strlen(name)), put16(z, 0);
  if (central) put16(z, 0), put16(z, 0), put16(z, 0), put32(z, 0), put32(z, off);
  put(z, name, strlen(name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  if (n > (1u << 20)) return 0;
  static uint8_t storage[256];
  for (size_t i = 0; i < sizeof storage; i++) storage[i] = (uint8_t)(i * 37);
  enum { MEMBERS = 9 };
  char names[MEMBERS][32] = {"archive/data.pkl"};
  for (int i = 1; i < MEMBERS; i++) snprintf(names[i], sizeof names[i], "archive/data/%d", i - 1);
  buf z = {0};
  uint32_t offs[MEMBERS];
  for (int i = 0; i < MEMBERS; i++) {
    const uint8_t *d = i ? storage : data;
    size_t len = i ? sizeof storage : n;
    offs[i] = (uint32_t)z.n;
    header(&z, 0, names[i], d, len, 0);
    put(&z, d, len);
  }
  uint32_t cd = (uint32_t)z.n;
  for (int i = 0; i < MEMBERS; i++) {
    const uint8_t *d = i ? storage : data;
    header(&z, 1, names[i], d, i ? sizeof storage : n, offs[i]);
  }
  put32(&z, 0x06054b50), put16(&z, 0), put16(&z, 0), put16(&z, MEMBERS), put16(&z, MEMBERS);
  put32(&z, (uint32_t)z.n - cd), put32(&z, cd), put16(&z, 0);

  char path[64];
  int fd = fuzz_file(z.b, z.n, path, sizeof path);
  wick_torch_entry *e = NULL;
  size_t count = 0;
  if (wick_torch_load(path, &e, &count) == WICK_OK) wick_torch_entries_free(e, count);
  close(fd);
  free(z.b);
  return 0;
}
