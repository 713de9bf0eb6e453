/* A tiny protobuf writer: a growable byte buffer plus the wire-format primitives (varints,
 * fixed64/32, length-delimited fields, packed repeated numbers, nested messages). */
#ifndef WICK_TB_PROTO_H
#define WICK_TB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct {
  uint8_t *data;
  size_t len, cap;
  int oom; /* sticky: set when a growth failed; every later append is a no-op */
} wick_pb;

void wick_pb_free(wick_pb *b);
/* WICK_ERR_OOM (with a message naming `op`) if any append failed, else WICK_OK. */
wick_status wick_pb_check(const wick_pb *b, const char *op);

void wick_pb_raw(wick_pb *b, const void *p, size_t n);
void wick_pb_varint(wick_pb *b, uint64_t v);
void wick_pb_key(wick_pb *b, int field, int wire_type);
/* int32/int64/enum/bool/uint: a varint (negative numbers as 10-byte two's complement). */
void wick_pb_int(wick_pb *b, int field, int64_t v);
void wick_pb_double(wick_pb *b, int field, double v);
void wick_pb_float(wick_pb *b, int field, float v);
void wick_pb_bytes(wick_pb *b, int field, const void *p, size_t n);
void wick_pb_string(wick_pb *b, int field, const char *s);
void wick_pb_packed_double(wick_pb *b, int field, const double *v, size_t n);
void wick_pb_packed_float(wick_pb *b, int field, const float *v, size_t n);
void wick_pb_packed_int(wick_pb *b, int field, const int64_t *v, size_t n);
/* Nested message: mark = wick_pb_begin(b, field); ...append the fields...; wick_pb_end(b, mark).
 * The length prefix is inserted at end (the body is moved right by its varint size). */
size_t wick_pb_begin(wick_pb *b, int field);
void wick_pb_end(wick_pb *b, size_t mark);

/* Little-endian fixed-width stores (file formats never fwrite a raw integer). */
static inline void wick_put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void wick_put_le64(uint8_t *p, uint64_t v) {
  wick_put_le32(p, (uint32_t)v);
  wick_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
