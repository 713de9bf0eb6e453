/* The safetensors format (8-byte little-endian header length, JSON header, raw little-endian
 * data): an atomic writer and a validating reader. No Lua here: src/lua/l_io.c binds it. */
#ifndef WICK_SAFETENSORS_H
#define WICK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"
#include "io/json.h"

/* The reference implementation's header size limit (100 MB). */
#define WICK_ST_MAX_HEADER (100u * 1000u * 1000u)
/* JSON values allowed in one header: bounds the parser's memory on hostile files. */
#define WICK_ST_MAX_VALUES ((size_t)1 << 23)

/* A borrowed name (bytes, need not be NUL-terminated) and tensor to write. */
typedef struct {
  const char *name;
  size_t name_len;
  const wick_tensor *tensor;
} wick_st_item;

/* A __metadata__ entry (string to string). */
typedef struct {
  const char *key;
  size_t key_len;
  const char *value;
  size_t value_len;
} wick_st_meta;

/* Writes the tensors (any strides, any device: copied to contiguous CPU memory one at a time)
 * sorted by name, data in that order, header padded with spaces to a multiple of 8. The file
 * appears atomically: a temporary file in the same directory is written, fsynced and renamed
 * over path. Names and metadata must be valid UTF-8 and names unique; errors start "save: ". */
wick_status wick_safetensors_save(const char *path, const wick_st_item *items, size_t n,
                                  const wick_st_meta *meta, size_t nmeta);

/* One tensor of a parsed header. */
typedef struct {
  const char *name; /* NUL-terminated, into the header document */
  size_t name_len;
  wick_dtype dtype;
  int ndim;
  int64_t sizes[WICK_MAX_DIMS];
  uint64_t begin, end;  /* data_offsets, relative to the start of the data section */
  wick_tensor *tensor;  /* set by wick_safetensors_load: one reference, owned by the file */
} wick_st_entry;

typedef struct {
  wick_json_doc *doc;
  size_t n;
  wick_st_entry *entries; /* in header order */
  size_t nmeta;
  wick_st_meta *meta;     /* pointing into doc */
} wick_safetensors;

/* Checks a header (JSON text of len bytes) against a data section of data_len bytes: dtypes,
 * shapes, offsets inside the data section and matching the shape, no overlaps, metadata
 * values strings. Reads no tensor data. Errors start "load: ". */
wick_status wick_safetensors_parse_header(const char *json, size_t len, uint64_t data_len,
                                          wick_safetensors **out);
/* Reads a file: header validated against the file size first, then each tensor read into
 * its own contiguous CPU tensor (so a later change to the file cannot touch loaded memory). */
wick_status wick_safetensors_load(const char *path, wick_safetensors **out);
/* Releases the entries' tensors (callers retain the ones they keep) and the header. */
void wick_safetensors_free(wick_safetensors *st);

/* "F32", "BF16", ...: the format's name of a dtype. */
const char *wick_st_dtype_name(wick_dtype d);

#endif
