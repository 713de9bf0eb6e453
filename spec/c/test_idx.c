/* C unit test of the IDX reader/writer (src/io/idx.c) and the batch gather (src/io/batch.c):
 * hand-built files, round trips through gzip, errors before allocation, gathers and scaling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/ops.h"
#include "io/batch.h"
#include "io/idx.h"

#include "check.h"

static char dir[64];

static const char *path(const char *name) {
  static char buf[4][128];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static void write_bytes(const char *p, const void *b, size_t n) {
  FILE *f = fopen(p, "wb");
  fwrite(b, 1, n, f);
  fclose(f);
}

static void test_read_plain(void) {
  const unsigned char f32[] = {0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3f, 0xc0, 0, 0, 0xbe, 0x80, 0, 0};
  write_bytes(path("f32"), f32, sizeof f32);
  wick_tensor *t = NULL;
  CHECK(wick_idx_read(path("f32"), &t) == WICK_OK, "read f32: %s", wick_last_error());
  if (t) {
    const float *v = wick_tensor_data(t);
    CHECK(t->dtype == WICK_DTYPE_F32 && t->ndim == 1 && t->sizes[0] == 2, "f32 shape");
    CHECK(v[0] == 1.5f && v[1] == -0.25f, "f32 values %g %g", v[0], v[1]);
  }
  wick_tensor_release(t);
}

static void test_round_trip(void) {
  int64_t sizes[3] = {3, 4, 5};
  wick_tensor *t = NULL, *r = NULL;
  wick_tensor_new(WICK_DTYPE_U8, wick_cpu(), 3, sizes, &t);
  unsigned char *d = wick_tensor_data(t);
  for (int i = 0; i < 60; i++) d[i] = (unsigned char)(i * 7);
  for (int gz = 0; gz < 2; gz++) {
    const char *p = path(gz ? "rt.gz" : "rt");
    CHECK(wick_idx_write(p, t, gz) == WICK_OK, "write: %s", wick_last_error());
    CHECK(wick_idx_read(p, &r) == WICK_OK, "read back: %s", wick_last_error());
    if (!r) continue;
    CHECK(r->ndim == 3 && r->sizes[0] == 3 && r->sizes[1] == 4 && r->sizes[2] == 5, "shape");
    CHECK(memcmp(wick_tensor_data(r), d, 60) == 0, "bytes (gzip %d)", gz);
    wick_tensor_release(r);
    r = NULL;
  }
  wick_tensor_release(t);
}

static void test_errors(void) {
  wick_tensor *t = NULL;
  const unsigned char short_data[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5};
  write_bytes(path("short"), short_data, sizeof short_data);
  int64_t live = wick_mem_live();
  CHECK(wick_idx_read(path("short"), &t) == WICK_ERR_PARSE && t == NULL, "short data must fail");
  char want[256];
  snprintf(want, sizeof want, "idx: '%s': data length 5 bytes does not match dims [2, 3] of u8 (6 bytes)",
           path("short"));
  CHECK(strcmp(wick_last_error(), want) == 0, "message: %s", wick_last_error());
  CHECK(wick_mem_live() == live, "nothing allocated");
  CHECK(wick_idx_read(path("missing"), &t) == WICK_ERR_IO, "missing file");
  const unsigned char magic[] = {0, 1, 8, 1, 0, 0, 0, 1, 9};
  write_bytes(path("magic"), magic, sizeof magic);
  CHECK(wick_idx_read(path("magic"), &t) == WICK_ERR_PARSE, "bad magic");
  snprintf(want, sizeof want, "idx: '%s' is not an IDX file (magic 0x00010801)", path("magic"));
  CHECK(strcmp(wick_last_error(), want) == 0, "message: %s", wick_last_error());
  int64_t n = 2;
  wick_tensor *i64 = NULL;
  wick_tensor_zeros(WICK_DTYPE_I64, wick_cpu(), 1, &n, &i64);
  CHECK(wick_idx_write(path("x"), i64, false) == WICK_ERR_DTYPE, "i64 cannot be written");
  wick_tensor_release(i64);
}

static void test_gather(void) {
  int64_t ssz[3] = {4, 2, 2}, isz = 3, osz[4] = {3, 1, 2, 2};
  wick_tensor *src = NULL, *idx = NULL, *out = NULL;
  wick_tensor_new(WICK_DTYPE_U8, wick_cpu(), 3, ssz, &src);
  unsigned char *s = wick_tensor_data(src);
  for (int i = 0; i < 16; i++) s[i] = (unsigned char)(i * 17);
  wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 1, &isz, &idx);
  int64_t *ix = wick_tensor_data(idx);
  ix[0] = 3; ix[1] = 0; ix[2] = -1;
  wick_tensor_new(WICK_DTYPE_F32, wick_cpu(), 4, osz, &out);
  CHECK(wick_batch_gather(src, idx, 1.0 / 255, 0.5, out) == WICK_OK, "gather: %s", wick_last_error());
  const float *o = wick_tensor_data(out);
  for (int b = 0; b < 3; b++) {
    int row = b == 1 ? 0 : 3;
    for (int j = 0; j < 4; j++) {
      float want = (float)s[row * 4 + j] * (float)(1.0 / 255) + 0.5f;
      CHECK(o[b * 4 + j] == want, "out[%d][%d] = %g, want %g", b, j, o[b * 4 + j], want);
    }
  }
  ix[1] = 4;
  CHECK(wick_batch_gather(src, idx, 1, 0, out) == WICK_ERR_INDEX, "index 4 of 4 rows");
  CHECK(strcmp(wick_last_error(), "index 4 is out of range for 4 samples") == 0, "message: %s", wick_last_error());
  CHECK(o[4] == (float)s[0] / 255 + 0.5f, "out untouched on error");
  /* plain copy into an integer output */
  ix[1] = 1;
  wick_tensor *lab = NULL;
  int64_t lsz[3] = {3, 2, 2};
  wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 3, lsz, &lab);
  CHECK(wick_batch_gather(src, idx, 1, 0, lab) == WICK_OK, "int gather: %s", wick_last_error());
  CHECK(((int64_t *)wick_tensor_data(lab))[4] == s[4], "int value");
  CHECK(wick_batch_gather(src, idx, 2, 0, lab) == WICK_ERR_DTYPE, "cannot scale into i64");
  wick_tensor_release(lab);
  wick_tensor_release(src);
  wick_tensor_release(idx);
  wick_tensor_release(out);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/wick_test_idx_XXXXXX");
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  test_read_plain();
  test_round_trip();
  test_errors();
  test_gather();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) printf("could not remove %s\n", dir);
  if (wick_tensor_live_count() != 0) { printf("FAIL: %lld tensors leaked\n", (long long)wick_tensor_live_count()); failures++; }
  if (failures) printf("%d failure(s)\n", failures);
  else printf("test_idx: all passed\n");
  return failures != 0;
}
