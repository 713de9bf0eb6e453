/* Event / Summary.Value builders (event.h): fields in ascending number order, zero scalars
 * omitted, so our bytes equal the official serializer's (checked in spec/c/test_tb_record.c). */
#include "tb/event.h"

static void event_head(wick_pb *b, double wall_time, int64_t step) {
  wick_pb_double(b, 1, wall_time);
  if (step != 0) wick_pb_int(b, 2, step);
}

void wick_tb_event_file_version(wick_pb *b, double wall_time) {
  event_head(b, wall_time, 0);
  wick_pb_string(b, 3, "brain.Event:2");
  size_t m = wick_pb_begin(b, 10); /* source_metadata, "only logged in the very first event" */
  wick_pb_string(b, 1, "wick");
  wick_pb_end(b, m);
}

void wick_tb_event_summary(wick_pb *b, double wall_time, int64_t step, const void *values, size_t n) {
  event_head(b, wall_time, step);
  wick_pb_bytes(b, 5, values, n);
}

void wick_tb_event_bytes(wick_pb *b, double wall_time, int64_t step, int field, const void *p,
                         size_t n) {
  event_head(b, wall_time, step);
  wick_pb_bytes(b, field, p, n);
}

void wick_tb_event_session_log(wick_pb *b, double wall_time, int64_t step, int status) {
  event_head(b, wall_time, step);
  size_t m = wick_pb_begin(b, 7);
  wick_pb_int(b, 1, status);
  wick_pb_end(b, m);
}

void wick_tb_value_simple(wick_pb *b, const char *tag, float v) {
  size_t m = wick_pb_begin(b, 1);
  wick_pb_string(b, 1, tag);
  wick_pb_float(b, 2, v);
  wick_pb_end(b, m);
}

static void double_nz(wick_pb *b, int field, double v) {
  if (v != 0.0) wick_pb_double(b, field, v);
}

void wick_tb_value_histo(wick_pb *b, const char *tag, const wick_tb_histo *h) {
  size_t m = wick_pb_begin(b, 1);
  wick_pb_string(b, 1, tag);
  size_t hm = wick_pb_begin(b, 5);
  double_nz(b, 1, h->min);
  double_nz(b, 2, h->max);
  double_nz(b, 3, h->num);
  double_nz(b, 4, h->sum);
  double_nz(b, 5, h->sum_squares);
  wick_pb_packed_double(b, 6, h->limits, h->n);
  wick_pb_packed_double(b, 7, h->counts, h->n);
  wick_pb_end(b, hm);
  wick_pb_end(b, m);
}

void wick_tb_value_image(wick_pb *b, const char *tag, int64_t h, int64_t w, int colorspace,
                         const void *png, size_t n) {
  size_t m = wick_pb_begin(b, 1);
  wick_pb_string(b, 1, tag);
  size_t im = wick_pb_begin(b, 4);
  wick_pb_int(b, 1, h);
  wick_pb_int(b, 2, w);
  wick_pb_int(b, 3, colorspace);
  wick_pb_bytes(b, 4, png, n);
  wick_pb_end(b, im);
  wick_pb_end(b, m);
}

static void tensor_proto(wick_pb *b, const wick_tb_tensor *t) {
  size_t tm = wick_pb_begin(b, 8);
  if (!t) { /* the null tensor: DT_FLOAT, shape [0] */
    wick_pb_int(b, 1, WICK_TB_DT_FLOAT);
    size_t sm = wick_pb_begin(b, 2);
    size_t dm = wick_pb_begin(b, 2);
    wick_pb_end(b, dm);
    wick_pb_end(b, sm);
    wick_pb_end(b, tm);
    return;
  }
  wick_pb_int(b, 1, t->dtype);
  size_t sm = wick_pb_begin(b, 2); /* tensor_shape is set even when empty (rank 0): `12 00` */
  for (int d = 0; d < t->ndim; d++) {
    size_t dm = wick_pb_begin(b, 2); /* TensorShapeProto.dim is field 2 */
    if (t->shape[d] != 0) wick_pb_int(b, 1, t->shape[d]);
    wick_pb_end(b, dm);
  }
  wick_pb_end(b, sm);
  if (t->dtype == WICK_TB_DT_STRING) {
    for (size_t i = 0; i < t->count; i++) wick_pb_bytes(b, 8, t->strs[i], t->str_lens[i]);
  } else if (t->count) {
    wick_pb_packed_float(b, 5, t->floats, t->count);
  }
  wick_pb_end(b, tm);
}

void wick_tb_value_tensor(wick_pb *b, const char *tag, const wick_tb_tensor *t,
                          const char *plugin, const void *content, size_t content_len,
                          int data_class) {
  size_t m = wick_pb_begin(b, 1);
  wick_pb_string(b, 1, tag);
  tensor_proto(b, t);
  size_t mm = wick_pb_begin(b, 9);
  size_t pm = wick_pb_begin(b, 1);
  wick_pb_string(b, 1, plugin);
  if (content_len) wick_pb_bytes(b, 2, content, content_len);
  wick_pb_end(b, pm);
  if (data_class) wick_pb_int(b, 4, data_class);
  wick_pb_end(b, mm);
  wick_pb_end(b, m);
}
