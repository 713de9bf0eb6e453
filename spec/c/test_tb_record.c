/* Event encoding and TFRecord framing against golden bytes from the official protobuf runtime
 * (notes/tfevents.md §1, §3), plus the record scanner on torn files, histogram and PNG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tb/event.h"
#include "tb/histogram.h"
#include "tb/png.h"
#include "tb/proto.h"
#include "tb/record.h"
#include "tb/writer.h"

#include "check.h"

static size_t unhex(const char *hex, uint8_t *out) {
  size_t n = 0;
  for (const char *p = hex; *p;) {
    if (*p == ' ' || *p == '|') { p++; continue; }
    unsigned v;
    sscanf(p, "%2x", &v);
    out[n++] = (uint8_t)v;
    p += 2;
  }
  return n;
}

static void expect(const char *what, const uint8_t *got, size_t n, const char *hex) {
  uint8_t want[512];
  size_t wn = unhex(hex, want);
  if (wn != n || memcmp(want, got, n) != 0) {
    printf("FAIL %s: got %zu bytes:\n  ", what, n);
    for (size_t i = 0; i < n; i++) printf("%02x", got[i]);
    printf("\n  want %zu bytes:\n  %s\n", wn, hex);
    failures++;
  }
}

static void framed(const char *what, const wick_pb *b, const char *hex) {
  uint8_t out[512];
  wick_tb_record_frame(out, b->data, b->len);
  expect(what, out, b->len + 16, hex);
}

int main(void) {
  wick_pb b = {0};
  /* file_version event, without our source_metadata to match the golden vector */
  wick_pb_double(&b, 1, 1700000000.0);
  wick_pb_string(&b, 3, "brain.Event:2");
  framed("file_version record", &b,
         "1800000000000000 a37f4b22 | 0900000040fc54d941 1a0d627261696e2e4576656e743a32 | eced8f9d");
  wick_pb_free(&b);

  wick_pb v = {0};
  wick_tb_value_simple(&v, "loss", 0.5f);
  wick_tb_event_summary(&b, 1700000001.0, 1, v.data, v.len);
  framed("scalar record", &b,
         "1a00000000000000 129bd82d | 0900004040fc54d941 1001 2a0d 0a0b 0a046c6f7373 150000003f | 97d67404");
  wick_pb_free(&b);
  wick_pb_free(&v);

  float acc = 0.25f;
  wick_tb_tensor t = {.dtype = WICK_TB_DT_FLOAT, .ndim = 0, .floats = &acc, .count = 1};
  wick_tb_value_tensor(&v, "acc", &t, "scalars", NULL, 0, WICK_TB_DC_SCALAR);
  wick_tb_event_summary(&b, 1700000002.0, 2, v.data, v.len);
  expect("tensor scalar payload", b.data, b.len,
         "0900008040fc54d941 1002 2a22 0a20 0a03616363 420a 0801 1200 2a040000803e 4a0d 0a09 0a077363616c617273 2001");
  wick_pb_free(&b);
  wick_pb_free(&v);

  int64_t one = 1;
  const char *hi = "hi";
  size_t hil = 2;
  wick_tb_tensor tt = {.dtype = WICK_TB_DT_STRING, .ndim = 1, .shape = &one, .strs = &hi, .str_lens = &hil, .count = 1};
  wick_tb_value_tensor(&v, "note/text_summary", &tt, "text", NULL, 0, 0);
  wick_tb_event_summary(&b, 1700000003.0, 3, v.data, v.len);
  expect("text payload", b.data, b.len,
         "090000c040fc54d941 1003 2a2d 0a2b 0a116e6f74652f746578745f73756d6d617279 420c 0807 1204 12020801 42026869 4a08 0a06 0a0474657874");
  wick_pb_free(&b);
  wick_pb_free(&v);

  /* negative int64: 10-byte varint */
  wick_pb_int(&b, 2, -1);
  expect("negative varint", b.data, b.len, "10ffffffffffffffffff01");
  wick_pb_free(&b);

  /* scanner: 3 records, then a torn 4th */
  uint8_t file[4096];
  size_t off = 0;
  for (int i = 0; i < 4; i++) {
    wick_tb_value_simple(&v, "x", (float)i);
    wick_tb_event_summary(&b, 1700000000.0 + i, i, v.data, v.len);
    wick_tb_record_frame(file + off, b.data, b.len);
    off += b.len + 16;
    wick_pb_free(&b);
    wick_pb_free(&v);
  }
  size_t valid, nrec = wick_tb_records_scan(file, off, &valid);
  CHECK(nrec == 4 && valid == off, "scan whole: %zu records, %zu/%zu bytes", nrec, valid, off);
  nrec = wick_tb_records_scan(file, off - 3, &valid);
  CHECK(nrec == 3, "scan torn: %zu records", nrec);
  file[20] ^= 1;
  nrec = wick_tb_records_scan(file, off, &valid);
  CHECK(nrec == 0 && valid == 0, "scan corrupt: %zu records", nrec);

  /* histogram: the golden example of notes §3.4 (PyTorch's algorithm, default edges) */
  size_t ne;
  const double *edges = wick_tb_default_edges(&ne);
  double vals[5] = {0.5, -0.25, 0, 1, 3}, *st;
  wick_tb_histo h;
  CHECK(ne == 1549, "default edges: %zu", ne);
  if (wick_tb_histogram("h", vals, 5, edges, ne, 0, &h, &st) != WICK_OK) { printf("FAIL histogram\n"); return 1; }
  if (h.n != 581 || h.min != -0.25 || h.max != 3 || h.sum != 4.25 || h.sum_squares != 10.3125 ||
      h.limits[0] != -0.2656936063469233 || h.limits[580] != 3.1665833053880363 || h.counts[1] != 1 ||
      h.counts[278] != 1 || h.limits[278] != 1e-12 || h.counts[580] != 1 || h.counts[0] != 0) {
    printf("FAIL histogram golden: n %zu first %.17g last %.17g\n", h.n, h.limits[0], h.limits[h.n - 1]);
    failures++;
  }
  free(st);
  double v4[4] = {1, 2, 2, 3}, e5[5];
  wick_tb_uniform_edges(1, 3, 4, e5);
  wick_tb_histogram("h", v4, 4, e5, 5, 0, &h, &st);
  wick_tb_value_histo(&b, "h", &h);
  /* value{tag "h", histo{...}}: compare the HistogramProto part from the notes */
  expect("histogram proto", b.data + 9, b.len - 9, /* 0a 8701 0a0168 2a 8101 */
         "09000000000000f03f 110000000000000840 190000000000001040 210000000000002040 290000000000003240 "
         "3228 000000000000f03f 000000000000f83f 0000000000000040 0000000000000440 0000000000000840 "
         "3a28 0000000000000000 000000000000f03f 0000000000000000 0000000000000040 000000000000f03f");
  wick_pb_free(&b);
  free(st);

  /* PNG: 2x1 RGB, red then blue; check structure and that zlib inflates the IDAT back */
  uint8_t px[6] = {255, 0, 0, 0, 0, 255}, *png;
  size_t pn;
  if (wick_png_encode(px, 1, 2, 3, &png, &pn) != WICK_OK) { printf("FAIL png\n"); return 1; }
  expect("png head", png, 33, "89504e470d0a1a0a0000000d49484452000000020000000108020000007b40e8dd");
  uint32_t zl = (uint32_t)png[33] << 24 | png[34] << 16 | png[35] << 8 | png[36];
  uint8_t raw[16];
  uLongf rn = sizeof raw;
  if (uncompress(raw, &rn, png + 41, zl) != Z_OK || rn != 7 || memcmp(raw, "\0\xff\0\0\0\0\xff", 7) != 0) {
    printf("FAIL png idat\n");
    failures++;
  }
  expect("png tail", png + pn - 12, 12, "0000000049454e44ae426082");
  free(png);

  /* the writer: file_version at open, records queued until flush, whole file valid at close */
  char dir[] = "/tmp/wick_tb_test_XXXXXX";
  if (!mkdtemp(dir)) { printf("FAIL mkdtemp\n"); return 1; }
  wick_tb_writer *w;
  if (wick_tb_writer_open(dir, ".t", 100, 120.0, 1700000000.0, &w) != WICK_OK) {
    printf("FAIL writer open: %s\n", wick_last_error());
    return 1;
  }
  const char *path = wick_tb_writer_path(w);
  char want[256];
  snprintf(want, sizeof want, "%s/events.out.tfevents.1700000000.", dir);
  if (strncmp(path, want, strlen(want)) != 0 || strcmp(path + strlen(path) - 2, ".t") != 0) {
    printf("FAIL writer path %s\n", path);
    failures++;
  }
  static uint8_t fbuf[1 << 16];
  size_t flen;
#define READ_FILE()                                   \
  do {                                                \
    FILE *f_ = fopen(path, "rb");                     \
    flen = f_ ? fread(fbuf, 1, sizeof fbuf, f_) : 0;  \
    if (f_) fclose(f_);                               \
  } while (0)
  for (int i = 0; i < 3; i++) {
    wick_tb_value_simple(&v, "x", (float)i);
    wick_tb_event_summary(&b, 1700000000.0 + i, i, v.data, v.len);
    CHECK(wick_tb_writer_add(w, b.data, b.len) == WICK_OK, "add");
    wick_pb_free(&b);
    wick_pb_free(&v);
  }
  READ_FILE();
  CHECK(wick_tb_records_scan(fbuf, flen, &valid) == 1 && valid == flen, "before flush");
  CHECK(wick_tb_writer_flush(w) == WICK_OK, "flush");
  READ_FILE();
  CHECK(wick_tb_records_scan(fbuf, flen, &valid) == 4 && valid == flen, "after flush");
  CHECK(wick_tb_writer_close(w) == WICK_OK && wick_tb_writer_close(w) == WICK_OK, "close");
  if (wick_tb_writer_add(w, "x", 1) == WICK_OK || strcmp(wick_last_error(), "SummaryWriter: the writer is closed") != 0) {
    printf("FAIL add after close: %s\n", wick_last_error());
    failures++;
  }
  unlink(path);
  wick_tb_writer_free(w);
  rmdir(dir);

  if (!failures) printf("tb record: all ok\n");
  return failures != 0;
}
