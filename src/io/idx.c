/* IDX reader and writer (MNIST's format: big-endian header of magic, type code, dims; then
 * big-endian data), through zlib's gz* API so that gzip and plain files read the same way. */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/ops.h"

/* deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes holds
 * at most this much: a header claiming more is lying, and we never allocate for it. */
#define DEFLATE_MAX_RATIO 1040
/* gzread takes an unsigned length: read in chunks well under INT_MAX. */
#define IO_CHUNK ((size_t)1 << 28)

typedef struct {
  int code;
  const char *name;   /* IDX's own name, for messages */
  int size;           /* bytes per element in the file */
  wick_dtype dtype;   /* what it becomes */
} idx_type;

static const idx_type idx_types[] = {
  {0x08, "u8", 1, WICK_DTYPE_U8},   {0x09, "i8", 1, WICK_DTYPE_I32},
  {0x0B, "i16", 2, WICK_DTYPE_I32}, {0x0C, "i32", 4, WICK_DTYPE_I32},
  {0x0D, "f32", 4, WICK_DTYPE_F32}, {0x0E, "f64", 8, WICK_DTYPE_F64},
};

static const idx_type *find_type(int code) {
  for (size_t i = 0; i < sizeof idx_types / sizeof idx_types[0]; i++)
    if (idx_types[i].code == code) return &idx_types[i];
  return NULL;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads exactly n bytes; returns the count read (short at the end of the data) or -1 on a zlib
 * error, a gzip stream cut short included (zlib's "unexpected end of file"). */
static int64_t gz_read_full(gzFile f, void *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    size_t want = n - done < IO_CHUNK ? n - done : IO_CHUNK;
    int got = gzread(f, (char *)buf + done, (unsigned)want);
    if (got < 0) return -1;
    if (got == 0) {
      int zerr = 0;
      gzerror(f, &zerr);
      if (zerr != Z_OK) return -1;
      break;
    }
    done += (size_t)got;
  }
  return (int64_t)done;
}

/* A failed gzread: an I/O error, a file cut short, or zlib's word on corrupt data (without the
 * path it adds). size: the file's. */
static wick_status gz_fail(gzFile f, const char *path, int64_t size) {
  int zerr = 0;
  const char *msg = gzerror(f, &zerr);
  if (zerr == Z_ERRNO) return wick_errorf(WICK_ERR_IO, "idx: cannot read '%s': %s", path, strerror(errno));
  if (zerr == Z_BUF_ERROR)
    return wick_errorf(WICK_ERR_PARSE, "idx: '%s': truncated gzip file (%lld bytes): the compressed data ends early",
                       path, (long long)size);
  size_t n = strlen(path);
  if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0) msg += n + 2;
  return wick_errorf(WICK_ERR_PARSE, "idx: '%s': corrupt gzip data (%s)", path, msg);
}

/* The file's size, whether it is gzip, and for gzip the trailer's length (mod 2^32). */
static wick_status probe(const char *path, int64_t *size, bool *gz, uint32_t *isize) {
  FILE *f = fopen(path, "rb");
  if (!f) return wick_errorf(WICK_ERR_IO, "idx: cannot open '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return wick_errorf(WICK_ERR_IO, "idx: '%s' is not a regular file", path);
  }
  *size = (int64_t)st.st_size;
  unsigned char m[4] = {0};
  size_t n = fread(m, 1, 2, f);
  *gz = n == 2 && m[0] == 0x1f && m[1] == 0x8b;
  *isize = 0;
  if (*gz) {
    if (*size < 18 || fseek(f, -4, SEEK_END) != 0 || fread(m, 1, 4, f) != 4) {
      fclose(f);
      return wick_errorf(WICK_ERR_PARSE, "idx: '%s': truncated gzip file (%lld bytes)", path,
                         (long long)*size);
    }
    *isize = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
  }
  fclose(f);
  return WICK_OK;
}

/* Converts n big-endian elements of the file type in place (or widening, from raw) into dst. */
static void decode(const idx_type *ty, const unsigned char *raw, void *dst, int64_t n) {
  switch (ty->code) {
    case 0x08: break; /* read in place */
    case 0x09: {
      int32_t *o = dst;
      for (int64_t i = 0; i < n; i++) o[i] = (int8_t)raw[i];
      break;
    }
    case 0x0B: {
      int32_t *o = dst;
      for (int64_t i = 0; i < n; i++) o[i] = (int16_t)(uint16_t)(raw[2 * i] << 8 | raw[2 * i + 1]);
      break;
    }
    case 0x0C: case 0x0D: {
      uint32_t *o = dst;
      for (int64_t i = 0; i < n; i++) o[i] = __builtin_bswap32(o[i]);
      break;
    }
    case 0x0E: {
      uint64_t *o = dst;
      for (int64_t i = 0; i < n; i++) o[i] = __builtin_bswap64(o[i]);
      break;
    }
  }
}

static wick_status read_body(gzFile f, const char *path, bool gz, int64_t size, uint32_t isize,
                             wick_tensor **out) {
  unsigned char head[4 + 4 * WICK_MAX_DIMS];
  int64_t got = gz_read_full(f, head, 4);
  if (got < 0) return gz_fail(f, path, size);
  if (got < 4)
    return wick_errorf(WICK_ERR_PARSE, "idx: '%s': file too short for an IDX header (%lld bytes)",
                       path, (long long)got);
  if (head[0] != 0 || head[1] != 0)
    return wick_errorf(WICK_ERR_PARSE, "idx: '%s' is not an IDX file (magic 0x%02x%02x%02x%02x)",
                       path, head[0], head[1], head[2], head[3]);
  const idx_type *ty = find_type(head[2]);
  if (!ty) return wick_errorf(WICK_ERR_PARSE, "idx: '%s': unknown data type code 0x%02x", path, head[2]);
  int ndim = head[3];
  if (ndim < 1 || ndim > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_PARSE, "idx: '%s': %d dimensions (expected 1 to %d)", path, ndim,
                       WICK_MAX_DIMS);
  got = gz_read_full(f, head + 4, 4 * (size_t)ndim);
  if (got < 0) return gz_fail(f, path, size);
  if (got < 4 * ndim)
    return wick_errorf(WICK_ERR_PARSE, "idx: '%s': truncated header (%lld of %d bytes)", path,
                       (long long)(4 + got), 4 + 4 * ndim);
  int64_t sizes[WICK_MAX_DIMS], numel = 1;
  for (int d = 0; d < ndim; d++) {
    sizes[d] = be32(head + 4 + 4 * d);
    /* each dim < 2^32: the product stays exact while it is under 2^31 * 2^32 */
    if (sizes[d] != 0 && numel > (INT64_C(1) << 40) / sizes[d]) numel = INT64_C(1) << 41;
    else numel *= sizes[d];
  }
  char shape[160];
  wick_shape_str(ndim, sizes, shape, sizeof shape);
  int64_t header = 4 + 4 * (int64_t)ndim, expect = numel * ty->size;
  if (numel >= INT64_C(1) << 41)
    return wick_errorf(WICK_ERR_PARSE, "idx: '%s': dims %s are too large", path, shape);
  /* the data length the file says it has, checked before allocating anything */
  int64_t have = gz ? (int64_t)((isize - (uint32_t)header) & 0xffffffffu) : size - header;
  /* a gzip file cut short has no trailer (its last bytes are compressed data): when the
   * trailer's length disagrees, the data is read anyway (bounded by the deflate ratio) to tell
   * a truncated file from a wrong length */
  bool mismatch = gz ? have != (expect & 0xffffffff) : have != expect;
  if ((mismatch && !gz) || (gz && expect > size * DEFLATE_MAX_RATIO))
    return wick_errorf(WICK_ERR_PARSE,
                       "idx: '%s': data length %lld bytes does not match dims %s of %s (%lld bytes)",
                       path, (long long)have, shape, ty->name, (long long)expect);
  wick_tensor *t = NULL;
  WICK_TRY(wick_tensor_new(ty->dtype, wick_cpu(), ndim, sizes, &t));
  /* types that widen are read into a scratch buffer, the others straight into the tensor */
  bool widen = ty->size != (int)wick_dtype_size(ty->dtype);
  unsigned char *raw = widen ? malloc(expect ? (size_t)expect : 1) : wick_tensor_data(t);
  if (!raw) { wick_tensor_release(t); return wick_errorf(WICK_ERR_OOM, "idx: out of memory"); }
  got = gz_read_full(f, raw, (size_t)expect);
  unsigned char extra;
  /* one more read reaches the end of the gzip stream, where zlib checks the CRC */
  int64_t more = got == expect ? gz_read_full(f, &extra, 1) : 0;
  wick_status s = WICK_OK;
  if (got < 0 || more < 0) s = gz_fail(f, path, size);
  else if (mismatch)
    s = wick_errorf(WICK_ERR_PARSE,
                    "idx: '%s': data length %lld bytes does not match dims %s of %s (%lld bytes)",
                    path, (long long)have, shape, ty->name, (long long)expect);
  else if (got < expect)
    s = wick_errorf(WICK_ERR_PARSE, "idx: '%s': truncated data (%lld of %lld bytes)", path,
                    (long long)got, (long long)expect);
  else if (more > 0)
    s = wick_errorf(WICK_ERR_PARSE, "idx: '%s': data longer than dims %s of %s (%lld bytes)", path,
                    shape, ty->name, (long long)expect);
  if (s == WICK_OK) decode(ty, raw, wick_tensor_data(t), numel);
  if (widen) free(raw);
  if (s != WICK_OK) { wick_tensor_release(t); return s; }
  *out = t;
  return WICK_OK;
}

wick_status wick_idx_read(const char *path, wick_tensor **out) {
  int64_t size = 0;
  bool gz = false;
  uint32_t isize = 0;
  WICK_TRY(probe(path, &size, &gz, &isize));
  gzFile f = gzopen(path, "rb");
  if (!f) return wick_errorf(WICK_ERR_IO, "idx: cannot open '%s': %s", path, strerror(errno));
  gzbuffer(f, 1 << 17);
  wick_status s = read_body(f, path, gz, size, isize, out);
  gzclose(f);
  return s;
}

static wick_status write_all(gzFile f, const char *path, const void *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    size_t want = n - done < IO_CHUNK ? n - done : IO_CHUNK;
    int put = gzwrite(f, (const char *)buf + done, (unsigned)want);
    if (put <= 0) {
      int zerr = 0;
      const char *msg = gzerror(f, &zerr);
      return wick_errorf(WICK_ERR_IO, "idx: cannot write '%s': %s", path,
                         zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    done += (size_t)put;
  }
  return WICK_OK;
}

static wick_status write_body(gzFile f, const char *path, const wick_tensor *c, int code) {
  unsigned char head[4 + 4 * WICK_MAX_DIMS] = {0, 0, (unsigned char)code, (unsigned char)c->ndim};
  for (int d = 0; d < c->ndim; d++) {
    uint32_t v = (uint32_t)c->sizes[d];
    head[4 + 4 * d] = v >> 24; head[5 + 4 * d] = v >> 16; head[6 + 4 * d] = v >> 8; head[7 + 4 * d] = v;
  }
  WICK_TRY(write_all(f, path, head, 4 + 4 * (size_t)c->ndim));
  size_t es = wick_dtype_size(c->dtype);
  int64_t n = wick_tensor_numel(c);
  if (es == 1) return write_all(f, path, wick_tensor_data(c), (size_t)n);
  /* big-endian, a block at a time */
  enum { BLOCK = 8192 };
  uint64_t buf[BLOCK];
  const unsigned char *src = wick_tensor_data(c);
  for (int64_t i = 0; i < n; i += BLOCK) {
    int64_t m = n - i < BLOCK ? n - i : BLOCK;
    memcpy(buf, src + i * (int64_t)es, (size_t)m * es);
    if (es == 4)
      for (int64_t j = 0; j < m; j++) ((uint32_t *)buf)[j] = __builtin_bswap32(((uint32_t *)buf)[j]);
    else
      for (int64_t j = 0; j < m; j++) buf[j] = __builtin_bswap64(buf[j]);
    WICK_TRY(write_all(f, path, buf, (size_t)m * es));
  }
  return WICK_OK;
}

wick_status wick_idx_write(const char *path, const wick_tensor *t, bool gzip) {
  int code;
  switch (t->dtype) {
    case WICK_DTYPE_U8: code = 0x08; break;
    case WICK_DTYPE_I32: code = 0x0C; break;
    case WICK_DTYPE_F32: code = 0x0D; break;
    case WICK_DTYPE_F64: code = 0x0E; break;
    default:
      return wick_errorf(WICK_ERR_DTYPE, "idx: cannot write %s tensors (IDX holds u8, i32, f32 or f64)",
                         wick_dtype_name(t->dtype));
  }
  if (t->device.type != WICK_DEVICE_CPU)
    return wick_errorf(WICK_ERR_DEVICE, "idx: cannot write a tensor that is not on the CPU");
  if (t->ndim < 1)
    return wick_errorf(WICK_ERR_SHAPE, "idx: cannot write a 0-d tensor (IDX needs 1 to %d dims)", WICK_MAX_DIMS);
  for (int d = 0; d < t->ndim; d++)
    if (t->sizes[d] > (int64_t)UINT32_MAX)
      return wick_errorf(WICK_ERR_SHAPE, "idx: dim %d of size %lld does not fit in an IDX header", d,
                         (long long)t->sizes[d]);
  wick_tensor *c = NULL;
  WICK_TRY(wick_contiguous(t, &c));
  /* "T" asks zlib for a plain (transparent) file */
  gzFile f = gzopen(path, gzip ? "wb6" : "wbT");
  if (!f) {
    wick_tensor_release(c);
    return wick_errorf(WICK_ERR_IO, "idx: cannot open '%s' for writing: %s", path, strerror(errno));
  }
  wick_status s = write_body(f, path, c, code);
  int rc = gzclose(f);
  wick_tensor_release(c);
  if (s == WICK_OK && rc != Z_OK)
    return wick_errorf(WICK_ERR_IO, "idx: cannot write '%s': %s", path, strerror(errno));
  return s;
}
