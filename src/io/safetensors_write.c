/* safetensors writer: deterministic files (names sorted, data in that order, header padded to 8
 * bytes), written atomically through a temporary file in the same directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ops.h"
#include "safetensors.h"

static wick_status oom(void) { return wick_errorf(WICK_ERR_OOM, "save: out of memory"); }

/* Names are byte strings with a length: print at most 200 bytes of one. */
#define NAME_ARG(p, n) (int)((n) > 200 ? 200 : (n)), (p)

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb) {
  int c = memcmp(a, b, na < nb ? na : nb);
  return c ? c : (na > nb) - (na < nb);
}

static int cmp_item(const void *a, const void *b) {
  const wick_st_item *x = *(wick_st_item *const *)a, *y = *(wick_st_item *const *)b;
  return cmp_bytes(x->name, x->name_len, y->name, y->name_len);
}

static int cmp_meta(const void *a, const void *b) {
  const wick_st_meta *x = *(wick_st_meta *const *)a, *y = *(wick_st_meta *const *)b;
  return cmp_bytes(x->key, x->key_len, y->key, y->key_len);
}

/* Names and metadata: valid UTF-8 (what JSON readers require), no reserved name. */
static wick_status check_inputs(const wick_st_item *items, size_t n, const wick_st_meta *meta,
                                size_t nmeta) {
  for (size_t i = 0; i < n; i++) {
    const wick_st_item *it = &items[i];
    if (!wick_utf8_valid(it->name, it->name_len))
      return wick_errorf(WICK_ERR_ARG, "save: tensor name '%.*s' is not valid UTF-8",
                         NAME_ARG(it->name, it->name_len));
    if (it->name_len == 12 && memcmp(it->name, "__metadata__", 12) == 0)
      return wick_errorf(WICK_ERR_ARG, "save: '__metadata__' is reserved and cannot name a tensor");
    if (!it->tensor) return wick_errorf(WICK_ERR_ARG, "save: tensor '%.*s' is missing",
                                         NAME_ARG(it->name, it->name_len));
  }
  for (size_t i = 0; i < nmeta; i++) {
    const wick_st_meta *m = &meta[i];
    if (!wick_utf8_valid(m->key, m->key_len))
      return wick_errorf(WICK_ERR_ARG, "save: metadata key '%.*s' is not valid UTF-8",
                         NAME_ARG(m->key, m->key_len));
    if (!wick_utf8_valid(m->value, m->value_len))
      return wick_errorf(WICK_ERR_ARG, "save: metadata '%.*s' is not valid UTF-8",
                         NAME_ARG(m->key, m->key_len));
  }
  return WICK_OK;
}

/* The padded header (without the 8-byte length) for items and meta sorted by name. */
static wick_status build_header(wick_st_item *const *items, size_t n, wick_st_meta *const *meta,
                                size_t nmeta, wick_json_writer *w) {
  wick_json_write_raw(w, "{", 1);
  if (nmeta) {
    wick_json_write_raw(w, "\"__metadata__\":{", 16);
    for (size_t i = 0; i < nmeta; i++) {
      if (i) wick_json_write_raw(w, ",", 1);
      wick_json_write_string(w, meta[i]->key, meta[i]->key_len);
      wick_json_write_raw(w, ":", 1);
      wick_json_write_string(w, meta[i]->value, meta[i]->value_len);
    }
    wick_json_write_raw(w, "}", 1);
  }
  uint64_t off = 0;
  for (size_t i = 0; i < n; i++) {
    const wick_tensor *t = items[i]->tensor;
    if (i || nmeta) wick_json_write_raw(w, ",", 1);
    wick_json_write_string(w, items[i]->name, items[i]->name_len);
    wick_json_write_raw(w, ":{\"dtype\":\"", 11);
    const char *dt = wick_st_dtype_name(t->dtype);
    wick_json_write_raw(w, dt, strlen(dt));
    wick_json_write_raw(w, "\",\"shape\":[", 11);
    for (int d = 0; d < t->ndim; d++) {
      if (d) wick_json_write_raw(w, ",", 1);
      wick_json_write_int(w, t->sizes[d]);
    }
    uint64_t nbytes = (uint64_t)wick_tensor_numel(t) * wick_dtype_size(t->dtype);
    wick_json_write_raw(w, "],\"data_offsets\":[", 18);
    wick_json_write_int(w, (int64_t)off);
    wick_json_write_raw(w, ",", 1);
    off += nbytes;
    wick_json_write_int(w, (int64_t)off);
    wick_json_write_raw(w, "]}", 2);
  }
  wick_json_write_raw(w, "}", 1);
  /* Spaces after the JSON keep the data section 8-byte aligned, as the format allows. */
  while (!w->oom && w->len % 8) wick_json_write_raw(w, " ", 1);
  return w->oom ? oom() : WICK_OK;
}

static wick_status write_all(int fd, const char *path, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    size_t chunk = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
    ssize_t r = write(fd, p, chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return wick_errorf(WICK_ERR_IO, "save: cannot write '%s': %s", path, strerror(errno));
    p += r;
    n -= (size_t)r;
  }
  return WICK_OK;
}

static wick_status write_tensor(int fd, const char *path, const wick_tensor *t) {
  /* One tensor at a time on the CPU in row-major order: views and CUDA tensors are copied. */
  wick_tensor *cpu = NULL, *c = NULL;
  wick_status s = wick_to(t, t->dtype, wick_cpu(), false, &cpu);
  if (s == WICK_OK) s = wick_contiguous(cpu, &c);
  if (s != WICK_OK) wick_error_prefix("save");
  else s = write_all(fd, path, wick_tensor_data(c),
                     (size_t)wick_tensor_numel(c) * wick_dtype_size(c->dtype));
  wick_tensor_release(c);
  wick_tensor_release(cpu);
  return s;
}

/* fsync of the directory makes the rename itself durable; some filesystems refuse it. */
static void sync_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
  if (!dir) return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (fd < 0) return;
  (void)fsync(fd);
  close(fd);
}

static _Atomic unsigned tmp_counter;

/* Creates "<path>.tmp.<pid>.<n>" exclusively (mode 0666 less the umask, like a plain file). */
static wick_status create_tmp(const char *path, char **tmp_out, int *fd_out) {
  size_t n = strlen(path) + 48;
  char *tmp = malloc(n);
  if (!tmp) return oom();
  for (int attempt = 0; attempt < 100; attempt++) {
    snprintf(tmp, n, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&tmp_counter, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      *tmp_out = tmp;
      *fd_out = fd;
      return WICK_OK;
    }
    if (errno != EEXIST) break;
  }
  wick_status s = wick_errorf(WICK_ERR_IO, "save: cannot create '%s': %s", path, strerror(errno));
  free(tmp);
  return s;
}

static wick_status write_file(const char *path, const wick_json_writer *hdr,
                              wick_st_item *const *items, size_t n) {
  unsigned char len8[8];
  uint64_t hlen = hdr->len;
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hlen >> (8 * i));
  char *tmp = NULL;
  int fd = -1;
  WICK_TRY(create_tmp(path, &tmp, &fd));
  wick_status s = write_all(fd, path, len8, 8);
  if (s == WICK_OK) s = write_all(fd, path, hdr->data, hdr->len);
  for (size_t i = 0; i < n && s == WICK_OK; i++) s = write_tensor(fd, path, items[i]->tensor);
  if (s == WICK_OK && fsync(fd) != 0)
    s = wick_errorf(WICK_ERR_IO, "save: cannot write '%s': %s", path, strerror(errno));
  if (close(fd) != 0 && s == WICK_OK)
    s = wick_errorf(WICK_ERR_IO, "save: cannot write '%s': %s", path, strerror(errno));
  if (s == WICK_OK && rename(tmp, path) != 0)
    s = wick_errorf(WICK_ERR_IO, "save: cannot write '%s': %s", path, strerror(errno));
  if (s != WICK_OK) unlink(tmp);
  else sync_dir(path);
  free(tmp);
  return s;
}

wick_status wick_safetensors_save(const char *path, const wick_st_item *items, size_t n,
                                  const wick_st_meta *meta, size_t nmeta) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return wick_errorf(WICK_ERR_UNSUPPORTED, "save: safetensors files need a little-endian host");
#endif
  WICK_TRY(check_inputs(items, n, meta, nmeta));
  wick_st_item **order = malloc((n ? n : 1) * sizeof *order);
  wick_st_meta **morder = malloc((nmeta ? nmeta : 1) * sizeof *morder);
  wick_json_writer w = {0};
  wick_status s = WICK_OK;
  if (!order || !morder) { s = oom(); goto done; }
  for (size_t i = 0; i < n; i++) order[i] = (wick_st_item *)&items[i];
  for (size_t i = 0; i < nmeta; i++) morder[i] = (wick_st_meta *)&meta[i];
  qsort(order, n, sizeof *order, cmp_item);
  qsort(morder, nmeta, sizeof *morder, cmp_meta);
  for (size_t i = 1; i < n && s == WICK_OK; i++)
    if (cmp_item(&order[i - 1], &order[i]) == 0)
      s = wick_errorf(WICK_ERR_ARG, "save: duplicate tensor name '%.*s'",
                      NAME_ARG(order[i]->name, order[i]->name_len));
  for (size_t i = 1; i < nmeta && s == WICK_OK; i++)
    if (cmp_meta(&morder[i - 1], &morder[i]) == 0)
      s = wick_errorf(WICK_ERR_ARG, "save: duplicate metadata key '%.*s'",
                      NAME_ARG(morder[i]->key, morder[i]->key_len));
  if (s == WICK_OK) s = build_header(order, n, morder, nmeta, &w);
  if (s == WICK_OK) s = write_file(path, &w, order, n);
done:
  wick_json_writer_free(&w);
  free(order);
  free(morder);
  return s;
}
