/* safetensors reader: every length, dtype, shape and offset of the header is checked against
 * the file size before one byte of tensor data is read. The writer is in safetensors_write.c. */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ops.h"

static const struct {
  const char *name;
  wick_dtype dtype;
} st_dtypes[] = {
  {"BOOL", WICK_DTYPE_BOOL}, {"U8", WICK_DTYPE_U8}, {"I32", WICK_DTYPE_I32},
  {"I64", WICK_DTYPE_I64},   {"F16", WICK_DTYPE_F16}, {"BF16", WICK_DTYPE_BF16},
  {"F32", WICK_DTYPE_F32},   {"F64", WICK_DTYPE_F64},
};
#define N_ST_DTYPES (sizeof st_dtypes / sizeof st_dtypes[0])

const char *wick_st_dtype_name(wick_dtype d) {
  for (size_t i = 0; i < N_ST_DTYPES; i++)
    if (st_dtypes[i].dtype == d) return st_dtypes[i].name;
  return "?";
}

static wick_status oom(const char *op) { return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op); }

void wick_safetensors_free(wick_safetensors *st) {
  if (!st) return;
  for (size_t i = 0; i < st->n; i++) wick_tensor_release(st->entries[i].tensor);
  free(st->entries);
  free(st->meta);
  wick_json_doc_free(st->doc);
  free(st);
}

/* ---- header validation ---- */

/* A non-negative integer: 1 (value in *v); 2 when written with digits only but past int64
 * (text in *big); 0 when not a non-negative integer at all. */
static int get_uint(const wick_json *j, uint64_t *v, const char **big) {
  if (j->kind == WICK_JSON_INT) {
    if (j->v.i < 0) return 0;
    *v = (uint64_t)j->v.i;
    return 1;
  }
  if (j->kind == WICK_JSON_NUMBER && strspn(j->v.str.ptr, "0123456789") == j->v.str.len) {
    *big = j->v.str.ptr;
    return 2;
  }
  return 0;
}

/* The data_offsets member as text, for messages ("[0, 100]"), whatever the sizes of numbers. */
static const char *offsets_str(const wick_json *offs, char *buf, size_t n) {
  const wick_json *a = offs->v.list.first, *b = a->next;
  char x[48], y[48];
  const wick_json *items[2] = {a, b};
  char *dst[2] = {x, y};
  for (int i = 0; i < 2; i++) {
    if (items[i]->kind == WICK_JSON_INT) snprintf(dst[i], 48, "%lld", (long long)items[i]->v.i);
    else snprintf(dst[i], 48, "%.40s", items[i]->v.str.ptr);
  }
  snprintf(buf, n, "[%s, %s]", x, y);
  return buf;
}

static wick_status parse_dtype(const wick_json *info, const char *name, wick_dtype *out) {
  const wick_json *d = wick_json_get(info, "dtype");
  if (!d) return wick_errorf(WICK_ERR_PARSE, "load: tensor '%.200s': missing 'dtype'", name);
  if (d->kind != WICK_JSON_STRING)
    return wick_errorf(WICK_ERR_PARSE, "load: tensor '%.200s': 'dtype' must be a string (got %s)",
                       name, wick_json_kind_name(d->kind));
  for (size_t i = 0; i < N_ST_DTYPES; i++)
    if (strlen(st_dtypes[i].name) == d->v.str.len && strcmp(st_dtypes[i].name, d->v.str.ptr) == 0) {
      *out = st_dtypes[i].dtype;
      return WICK_OK;
    }
  return wick_errorf(WICK_ERR_DTYPE,
                     "load: tensor '%.200s': unknown dtype '%.40s' (wick reads BOOL U8 I32 I64 "
                     "F16 BF16 F32 F64)", name, d->v.str.ptr);
}

/* Shape -> e->ndim/sizes, and its byte count (overflow-checked) in *nbytes. */
static wick_status parse_shape(const wick_json *info, wick_st_entry *e, uint64_t *nbytes) {
  const char *name = e->name;
  const wick_json *s = wick_json_get(info, "shape");
  if (!s) return wick_errorf(WICK_ERR_PARSE, "load: tensor '%.200s': missing 'shape'", name);
  if (s->kind != WICK_JSON_ARRAY)
    return wick_errorf(WICK_ERR_PARSE,
                       "load: tensor '%.200s': 'shape' must be an array of non-negative integers", name);
  if (s->v.list.n > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_SHAPE, "load: tensor '%.200s': shape has %zu dimensions (at most %d supported)",
                       name, s->v.list.n, WICK_MAX_DIMS);
  e->ndim = 0;
  bool has_zero = false;
  for (const wick_json *d = s->v.list.first; d; d = d->next) {
    uint64_t v = 0;
    const char *big = NULL;
    int k = get_uint(d, &v, &big);
    if (k == 0)
      return wick_errorf(WICK_ERR_PARSE,
                         "load: tensor '%.200s': 'shape' must be an array of non-negative integers", name);
    if (k == 2)
      return wick_errorf(WICK_ERR_SHAPE, "load: tensor '%.200s': dimension %.40s is too large", name, big);
    e->sizes[e->ndim++] = (int64_t)v;
    has_zero |= v == 0;
  }
  /* The same bound wick_tensor_new enforces, so a shape accepted here can be allocated. */
  uint64_t numel = 1;
  if (!has_zero)
    for (int i = 0; i < e->ndim; i++) {
      if (numel > (uint64_t)INT64_MAX / 16 / (uint64_t)e->sizes[i]) {
        char buf[256];
        return wick_errorf(WICK_ERR_SHAPE, "load: tensor '%.200s': shape %s is too large", name,
                           wick_shape_str(e->ndim, e->sizes, buf, sizeof buf));
      }
      numel *= (uint64_t)e->sizes[i];
    }
  *nbytes = has_zero ? 0 : numel * wick_dtype_size(e->dtype);
  return WICK_OK;
}

static wick_status parse_entry(const wick_json *m, uint64_t data_len, wick_st_entry *e) {
  e->name = m->key;
  e->name_len = m->key_len;
  const char *name = e->name;
  if (m->kind != WICK_JSON_OBJECT)
    return wick_errorf(WICK_ERR_PARSE,
                       "load: tensor '%.200s': expected an object with dtype, shape and "
                       "data_offsets (got %s)", name, wick_json_kind_name(m->kind));
  WICK_TRY(parse_dtype(m, name, &e->dtype));
  uint64_t nbytes = 0;
  WICK_TRY(parse_shape(m, e, &nbytes));
  const wick_json *o = wick_json_get(m, "data_offsets");
  if (!o) return wick_errorf(WICK_ERR_PARSE, "load: tensor '%.200s': missing 'data_offsets'", name);
  uint64_t be[2] = {0, 0};
  int big = 0;
  if (o->kind == WICK_JSON_ARRAY && o->v.list.n == 2) {
    const wick_json *it = o->v.list.first;
    for (int i = 0; i < 2; i++, it = it->next) {
      const char *unused;
      int k = get_uint(it, &be[i], &unused);
      if (k == 0) { big = -1; break; }
      if (k == 2) big = 1;
    }
  } else {
    big = -1;
  }
  if (big < 0)
    return wick_errorf(WICK_ERR_PARSE,
                       "load: tensor '%.200s': 'data_offsets' must be two non-negative integers "
                       "[begin, end]", name);
  char obuf[128], sbuf[256];
  if (big || be[1] > data_len)
    return wick_errorf(WICK_ERR_IO,
                       "load: tensor '%.200s': data_offsets %s are outside the data section "
                       "(%llu bytes)", name, offsets_str(o, obuf, sizeof obuf),
                       (unsigned long long)data_len);
  if (be[0] > be[1] || be[1] - be[0] != nbytes)
    return wick_errorf(WICK_ERR_SHAPE,
                       "load: tensor '%.200s': data_offsets %s do not match shape %s of %s "
                       "(%llu bytes)", name, offsets_str(o, obuf, sizeof obuf),
                       wick_shape_str(e->ndim, e->sizes, sbuf, sizeof sbuf),
                       wick_st_dtype_name(e->dtype), (unsigned long long)nbytes);
  e->begin = be[0];
  e->end = be[1];
  return WICK_OK;
}

static wick_status parse_metadata(const wick_json *m, wick_safetensors *st) {
  if (m->kind == WICK_JSON_NULL) return WICK_OK; /* the reference reader allows null */
  if (m->kind != WICK_JSON_OBJECT)
    return wick_errorf(WICK_ERR_PARSE, "load: '__metadata__' must be an object of strings (got %s)",
                       wick_json_kind_name(m->kind));
  st->meta = calloc(m->v.list.n ? m->v.list.n : 1, sizeof *st->meta);
  if (!st->meta) return oom("load");
  for (const wick_json *v = m->v.list.first; v; v = v->next) {
    if (v->kind != WICK_JSON_STRING)
      return wick_errorf(WICK_ERR_PARSE, "load: metadata '%.200s' must be a string (got %s)", v->key,
                         wick_json_kind_name(v->kind));
    wick_st_meta *md = &st->meta[st->nmeta++];
    md->key = v->key;
    md->key_len = v->key_len;
    md->value = v->v.str.ptr;
    md->value_len = v->v.str.len;
  }
  return WICK_OK;
}

static int cmp_range(const void *a, const void *b) {
  const wick_st_entry *x = *(wick_st_entry *const *)a, *y = *(wick_st_entry *const *)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* No two tensors may share bytes (empty tensors occupy none). */
static wick_status check_overlaps(wick_safetensors *st) {
  if (st->n < 2) return WICK_OK;
  wick_st_entry **v = malloc(st->n * sizeof *v);
  if (!v) return oom("load");
  for (size_t i = 0; i < st->n; i++) v[i] = &st->entries[i];
  qsort(v, st->n, sizeof *v, cmp_range);
  const wick_st_entry *prev = NULL; /* the non-empty range reaching furthest so far */
  wick_status s = WICK_OK;
  for (size_t i = 0; i < st->n && s == WICK_OK; i++) {
    const wick_st_entry *e = v[i];
    if (e->begin == e->end) continue;
    if (prev && e->begin < prev->end)
      s = wick_errorf(WICK_ERR_IO,
                      "load: tensors '%.200s' and '%.200s' overlap (data_offsets [%llu, %llu] and "
                      "[%llu, %llu])", prev->name, e->name, (unsigned long long)prev->begin,
                      (unsigned long long)prev->end, (unsigned long long)e->begin,
                      (unsigned long long)e->end);
    if (!prev || e->end > prev->end) prev = e;
  }
  free(v);
  return s;
}

wick_status wick_safetensors_parse_header(const char *json, size_t len, uint64_t data_len,
                                          wick_safetensors **out) {
  *out = NULL;
  wick_safetensors *st = calloc(1, sizeof *st);
  if (!st) return oom("load");
  wick_status s = wick_json_parse(json, len, WICK_ST_MAX_VALUES, &st->doc);
  if (s != WICK_OK) {
    wick_error_prefix("load");
    goto fail;
  }
  const wick_json *root = wick_json_root(st->doc);
  if (root->kind != WICK_JSON_OBJECT) {
    s = wick_errorf(WICK_ERR_PARSE, "load: the header is not a JSON object (got %s)",
                    wick_json_kind_name(root->kind));
    goto fail;
  }
  st->entries = calloc(root->v.list.n ? root->v.list.n : 1, sizeof *st->entries);
  if (!st->entries) { s = oom("load"); goto fail; }
  for (const wick_json *m = root->v.list.first; m; m = m->next) {
    if (strcmp(m->key, "__metadata__") == 0 && m->key_len == 12) s = parse_metadata(m, st);
    else s = parse_entry(m, data_len, &st->entries[st->n++]);
    if (s != WICK_OK) goto fail;
  }
  s = check_overlaps(st);
  if (s != WICK_OK) goto fail;
  *out = st;
  return WICK_OK;
fail:
  wick_safetensors_free(st);
  return s;
}

/* ---- reading the file ---- */

/* Reads exactly n bytes at offset: a short file is an error, never a partial tensor. */
static wick_status read_at(int fd, const char *path, void *buf, uint64_t n, uint64_t off) {
  char *p = buf;
  while (n > 0) {
    size_t chunk = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : (size_t)n;
    ssize_t r = pread(fd, p, chunk, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0)
      return wick_errorf(WICK_ERR_IO, "load: cannot read '%s': %s", path, strerror(errno));
    if (r == 0)
      return wick_errorf(WICK_ERR_IO, "load: '%s' ended early (was it changed while reading?)", path);
    p += r;
    n -= (uint64_t)r;
    off += (uint64_t)r;
  }
  return WICK_OK;
}

static wick_status load_fd(int fd, const char *path, wick_safetensors **out) {
  struct stat sb;
  if (fstat(fd, &sb) != 0)
    return wick_errorf(WICK_ERR_IO, "load: cannot read '%s': %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode))
    return wick_errorf(WICK_ERR_IO, "load: '%s' is not a regular file", path);
  uint64_t size = (uint64_t)sb.st_size;
  if (size < 8)
    return wick_errorf(WICK_ERR_IO, "load: '%s' is too short to be a safetensors file (%llu bytes)",
                       path, (unsigned long long)size);
  unsigned char lenbuf[8];
  WICK_TRY(read_at(fd, path, lenbuf, 8, 0));
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | lenbuf[i]; /* little-endian on any host */
  if (hlen > size - 8)
    return wick_errorf(WICK_ERR_IO, "load: '%s': header length %llu exceeds the file size (%llu bytes)",
                       path, (unsigned long long)hlen, (unsigned long long)size);
  if (hlen > WICK_ST_MAX_HEADER)
    return wick_errorf(WICK_ERR_IO, "load: '%s': header length %llu exceeds the limit of %u bytes",
                       path, (unsigned long long)hlen, WICK_ST_MAX_HEADER);
  char *header = malloc(hlen ? (size_t)hlen : 1);
  if (!header) return oom("load");
  wick_status s = read_at(fd, path, header, hlen, 8);
  wick_safetensors *st = NULL;
  if (s == WICK_OK) s = wick_safetensors_parse_header(header, (size_t)hlen, size - 8 - hlen, &st);
  free(header); /* the parsed document holds copies of every string */
  if (s != WICK_OK) return s;
  uint64_t base = 8 + hlen;
  for (size_t i = 0; i < st->n && s == WICK_OK; i++) {
    wick_st_entry *e = &st->entries[i];
    s = wick_tensor_new(e->dtype, wick_cpu(), e->ndim, e->sizes, &e->tensor);
    if (s != WICK_OK) { wick_error_prefix("load"); break; }
    s = read_at(fd, path, wick_tensor_data(e->tensor), e->end - e->begin, base + e->begin);
    if (s == WICK_OK && e->dtype == WICK_DTYPE_BOOL) {
      /* Any nonzero byte is true: keep bool tensors canonical (0/1) for the kernels. */
      uint8_t *b = wick_tensor_data(e->tensor);
      for (uint64_t k = 0; k < e->end - e->begin; k++) b[k] = b[k] != 0;
    }
  }
  if (s != WICK_OK) {
    wick_safetensors_free(st);
    return s;
  }
  *out = st;
  return WICK_OK;
}

wick_status wick_safetensors_load(const char *path, wick_safetensors **out) {
  *out = NULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return wick_errorf(WICK_ERR_UNSUPPORTED, "load: safetensors files need a little-endian host");
#endif
  /* O_NONBLOCK: opening a FIFO must not hang; it is then refused as not a regular file. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return wick_errorf(WICK_ERR_IO, "load: cannot open '%s': %s", path, strerror(errno));
  wick_status s = load_fd(fd, path, out);
  close(fd);
  return s;
}
