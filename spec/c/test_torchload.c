/* C unit test of the .pt reader (src/io/zip.c, src/io/pickle.c) on a hand-made archive: a
 * state dict is read back; a forbidden global is refused; every truncation and every single-byte
 * change of the file is refused or read, never a crash (run it under ASan). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/status.h"
#include "io/pickle.h"

#include "check.h"

typedef struct { unsigned char b[4096]; size_t n; } buf;

static void put(buf *o, const void *p, size_t n) { memcpy(o->b + o->n, p, n); o->n += n; }
static void put_s(buf *o, const char *s) { put(o, s, strlen(s)); }
static void put16(buf *o, unsigned v) { unsigned char c[2] = {v & 255, v >> 8}; put(o, c, 2); }
static void put32(buf *o, unsigned long v) {
  unsigned char c[4] = {v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >> 24) & 255};
  put(o, c, 4);
}
static void unicode(buf *o, const char *s) { put_s(o, "X"); put32(o, strlen(s)); put_s(o, s); }

/* {'w': tensor([1.5, -2.0])} as torch.save pickles it, with `global` as the storage type. */
static void make_pickle(buf *p, const char *storage_global) {
  put(p, "\x80\x02", 2);
  put_s(p, "ccollections\nOrderedDict\n)R(");
  unicode(p, "w");
  put_s(p, "ctorch._utils\n_rebuild_tensor_v2\n((");
  unicode(p, "storage");
  put_s(p, storage_global);
  unicode(p, "0");
  unicode(p, "cpu");
  static const char tail[] = "K\x02tQK\x00K\x02\x85K\x01\x85\x89" "ccollections\nOrderedDict\n)RtRu.";
  put(p, tail, sizeof tail - 1); /* holds a NUL byte: not put_s */
}

/* A stored zip of the members. */
static void make_zip(buf *z, const char **names, const buf **data, int n) {
  unsigned long offs[8];
  for (int i = 0; i < n; i++) {
    offs[i] = z->n;
    unsigned long crc = crc32(0, data[i]->b, (uInt)data[i]->n);
    put32(z, 0x04034b50); put16(z, 20); put16(z, 0); put16(z, 0); put16(z, 0); put16(z, 0);
    put32(z, crc); put32(z, data[i]->n); put32(z, data[i]->n); put16(z, strlen(names[i])); put16(z, 0);
    put_s(z, names[i]);
    put(z, data[i]->b, data[i]->n);
  }
  unsigned long cd = z->n;
  for (int i = 0; i < n; i++) {
    unsigned long crc = crc32(0, data[i]->b, (uInt)data[i]->n);
    put32(z, 0x02014b50); put16(z, 20); put16(z, 20); put16(z, 0); put16(z, 0); put16(z, 0); put16(z, 0);
    put32(z, crc); put32(z, data[i]->n); put32(z, data[i]->n); put16(z, strlen(names[i])); put16(z, 0);
    put16(z, 0); put16(z, 0); put16(z, 0); put32(z, 0); put32(z, offs[i]);
    put_s(z, names[i]);
  }
  unsigned long cd_size = z->n - cd;
  put32(z, 0x06054b50); put16(z, 0); put16(z, 0); put16(z, n); put16(z, n); put32(z, cd_size); put32(z, cd);
  put16(z, 0);
}

static int write_file(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(p, 1, n, f);
  fclose(f);
  return 1;
}

int main(void) {
  char path[] = "/tmp/wick_test_torchload_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  buf pkl = {0}, data = {0}, zip = {0};
  make_pickle(&pkl, "ctorch\nFloatStorage\n");
  float vals[2] = {1.5f, -2.0f};
  put(&data, vals, sizeof vals);
  const char *names[] = {"archive/data.pkl", "archive/data/0"};
  const buf *members[] = {&pkl, &data};
  make_zip(&zip, names, members, 2);

  wick_torch_entry *e;
  size_t n;
  CHECK(write_file(path, zip.b, zip.n), "write");
  wick_status s = wick_torch_load(path, &e, &n);
  CHECK(s == WICK_OK, "load: %s", wick_last_error());
  if (s == WICK_OK) {
    CHECK(n == 1 && !strcmp(e[0].name, "w"), "one tensor named w");
    const float *d = wick_tensor_data(e[0].tensor);
    CHECK(e[0].tensor->ndim == 1 && e[0].tensor->sizes[0] == 2 && d[0] == 1.5f && d[1] == -2.0f, "values");
    wick_torch_entries_free(e, n);
  }

  buf evil = {0}, zip2 = {0};
  make_pickle(&evil, "cos\nsystem\n");
  const buf *members2[] = {&evil, &data};
  make_zip(&zip2, names, members2, 2);
  write_file(path, zip2.b, zip2.n);
  s = wick_torch_load(path, &e, &n);
  CHECK(s == WICK_ERR_UNSUPPORTED && strstr(wick_last_error(), "refusing global 'os.system'"), "evil: %s",
        wick_last_error());

  int loaded = 0;
  for (size_t len = 0; len < zip.n; len++) { /* truncations */
    write_file(path, zip.b, len);
    if (wick_torch_load(path, &e, &n) == WICK_OK) { loaded++; wick_torch_entries_free(e, n); }
  }
  CHECK(loaded == 0, "a truncated file loaded");
  for (size_t i = 0; i < zip.n; i++) { /* byte changes: CRC, offsets, sizes, signatures */
    buf m = zip;
    m.b[i] ^= 0x5a;
    write_file(path, m.b, m.n);
    if (wick_torch_load(path, &e, &n) == WICK_OK) wick_torch_entries_free(e, n);
    else CHECK(strncmp(wick_last_error(), "load_torch: ", 12) == 0, "message: %s", wick_last_error());
  }
  remove(path);
  if (failures) fprintf(stderr, "%d failure(s)\n", failures);
  return failures != 0;
}
