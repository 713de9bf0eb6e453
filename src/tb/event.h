/* Builders for tensorboard.Event and Summary.Value messages (field numbers from event.proto,
 * summary.proto, tensor.proto, histogram.proto; see /work/shared/notes/tfevents.md §3). */
#ifndef WICK_TB_EVENT_H
#define WICK_TB_EVENT_H

#include "tb/proto.h"

/* TensorFlow DataType values used by our tensors. */
enum { WICK_TB_DT_FLOAT = 1, WICK_TB_DT_DOUBLE = 2, WICK_TB_DT_INT32 = 3, WICK_TB_DT_STRING = 7 };
/* SummaryMetadata.DataClass */
enum { WICK_TB_DC_UNKNOWN = 0, WICK_TB_DC_SCALAR = 1, WICK_TB_DC_TENSOR = 2, WICK_TB_DC_BLOB = 3 };

/* The first event of every file: file_version "brain.Event:2" and source_metadata{writer}. */
void wick_tb_event_file_version(wick_pb *b, double wall_time);
/* Event{wall_time, step, summary{<values>}}: values is a concatenation of Summary.value fields
 * as the wick_tb_value_* builders append them. step 0 is omitted, as proto3 does. */
void wick_tb_event_summary(wick_pb *b, double wall_time, int64_t step, const void *values, size_t n);
/* Event{wall_time, step, <field> = bytes}: graph_def (4) and other byte members of Event.what. */
void wick_tb_event_bytes(wick_pb *b, double wall_time, int64_t step, int field, const void *p,
                         size_t n);
/* Event{wall_time, step, session_log{status}} (1 START, 2 STOP). */
void wick_tb_event_session_log(wick_pb *b, double wall_time, int64_t step, int status);

/* Summary.value{tag, simple_value} */
void wick_tb_value_simple(wick_pb *b, const char *tag, float v);

typedef struct {
  double min, max, num, sum, sum_squares;
  const double *limits, *counts;
  size_t n;
} wick_tb_histo;
void wick_tb_value_histo(wick_pb *b, const char *tag, const wick_tb_histo *h);

/* Summary.value{tag, image{height, width, colorspace, encoded_image_string}} */
void wick_tb_value_image(wick_pb *b, const char *tag, int64_t h, int64_t w, int colorspace,
                         const void *png, size_t n);

/* A small tensor: floats (dtype FLOAT) or byte strings (dtype STRING). */
typedef struct {
  int dtype;
  int ndim;
  const int64_t *shape;
  const float *floats;      /* dtype FLOAT: product(shape) values */
  const char *const *strs;  /* dtype STRING: product(shape) strings ... */
  const size_t *str_lens;   /* ... and their lengths */
  size_t count;             /* number of values */
} wick_tb_tensor;

/* Summary.value{tag, tensor, metadata{plugin_data{plugin_name, content}, data_class}};
 * t NULL gives the null tensor {DT_FLOAT, shape [0]} used by metadata-only summaries. */
void wick_tb_value_tensor(wick_pb *b, const char *tag, const wick_tb_tensor *t,
                          const char *plugin, const void *content, size_t content_len,
                          int data_class);

#endif
