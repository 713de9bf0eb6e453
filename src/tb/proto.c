/* Protobuf wire-format writer (see proto.h): fields are appended in the caller's order; callers
 * emit ascending field numbers and skip zero scalars, as the official serializer does. */
#include "tb/proto.h"

#include <stdlib.h>
#include <string.h>

static int grow(wick_pb *b, size_t extra) {
  if (b->oom) return 0;
  if (b->len + extra <= b->cap) return 1;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra) cap *= 2;
  uint8_t *d = realloc(b->data, cap);
  if (!d) { b->oom = 1; return 0; }
  b->data = d;
  b->cap = cap;
  return 1;
}

void wick_pb_free(wick_pb *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}

wick_status wick_pb_check(const wick_pb *b, const char *op) {
  if (b->oom) return wick_errorf(WICK_ERR_OOM, "%s: out of memory while encoding an event", op);
  return WICK_OK;
}

void wick_pb_raw(wick_pb *b, const void *p, size_t n) {
  if (n == 0 || !grow(b, n)) return;
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static size_t varint_encode(uint8_t *out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) { out[n++] = (uint8_t)(v | 0x80); v >>= 7; }
  out[n++] = (uint8_t)v;
  return n;
}

void wick_pb_varint(wick_pb *b, uint64_t v) {
  uint8_t tmp[10];
  wick_pb_raw(b, tmp, varint_encode(tmp, v));
}

void wick_pb_key(wick_pb *b, int field, int wire_type) {
  wick_pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire_type);
}

void wick_pb_int(wick_pb *b, int field, int64_t v) {
  wick_pb_key(b, field, 0);
  wick_pb_varint(b, (uint64_t)v);
}

/* fixed64 / fixed32 bodies: the value's bits, little-endian. */
static void fixed64(wick_pb *b, double v) {
  uint64_t u;
  uint8_t tmp[8];
  memcpy(&u, &v, 8);
  wick_put_le64(tmp, u);
  wick_pb_raw(b, tmp, 8);
}

static void fixed32(wick_pb *b, float v) {
  uint32_t u;
  uint8_t tmp[4];
  memcpy(&u, &v, 4);
  wick_put_le32(tmp, u);
  wick_pb_raw(b, tmp, 4);
}

void wick_pb_double(wick_pb *b, int field, double v) {
  wick_pb_key(b, field, 1);
  fixed64(b, v);
}

void wick_pb_float(wick_pb *b, int field, float v) {
  wick_pb_key(b, field, 5);
  fixed32(b, v);
}

void wick_pb_bytes(wick_pb *b, int field, const void *p, size_t n) {
  wick_pb_key(b, field, 2);
  wick_pb_varint(b, n);
  wick_pb_raw(b, p, n);
}

void wick_pb_string(wick_pb *b, int field, const char *s) { wick_pb_bytes(b, field, s, strlen(s)); }

/* Packed fixed-width values: the length is known up front, so no begin/end move is needed. */
void wick_pb_packed_double(wick_pb *b, int field, const double *v, size_t n) {
  wick_pb_key(b, field, 2);
  wick_pb_varint(b, n * 8);
  if (!grow(b, n * 8)) return;
  for (size_t i = 0; i < n; i++) fixed64(b, v[i]);
}

void wick_pb_packed_float(wick_pb *b, int field, const float *v, size_t n) {
  wick_pb_key(b, field, 2);
  wick_pb_varint(b, n * 4);
  if (!grow(b, n * 4)) return;
  for (size_t i = 0; i < n; i++) fixed32(b, v[i]);
}

void wick_pb_packed_int(wick_pb *b, int field, const int64_t *v, size_t n) {
  size_t mark = wick_pb_begin(b, field);
  for (size_t i = 0; i < n; i++) wick_pb_varint(b, (uint64_t)v[i]);
  wick_pb_end(b, mark);
}

size_t wick_pb_begin(wick_pb *b, int field) {
  wick_pb_key(b, field, 2);
  return b->len;
}

void wick_pb_end(wick_pb *b, size_t mark) {
  if (b->oom) return;
  uint8_t tmp[10];
  size_t body = b->len - mark, k = varint_encode(tmp, body);
  if (!grow(b, k)) return;
  memmove(b->data + mark + k, b->data + mark, body);
  memcpy(b->data + mark, tmp, k);
  b->len += k;
}
