/* Tensor and storage lifetime, geometry helpers. */
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "backend.h"
#include "exec_mode.h"

extern _Atomic int64_t wick_tensor_count_;
void (*wick_autograd_free_hook)(struct wick_autograd_meta *);

void wick_device_format(wick_device d, char *buf, int n) {
  if (d.type == WICK_DEVICE_CPU) snprintf(buf, (size_t)n, "cpu");
  else snprintf(buf, (size_t)n, "cuda:%d", d.index);
}

wick_status wick_device_parse(const char *s, wick_device *out) {
  if (strcmp(s, "cpu") == 0) { *out = wick_cpu(); return WICK_OK; }
  if (strncmp(s, "cuda", 4) == 0) {
    int idx = wick_cuda_default_index(); /* "cuda" is the current device (wick.cuda.set_device) */
    if (s[4] == ':') {
      char *end;
      long v = strtol(s + 5, &end, 10);
      if (*end || end == s + 5 || v < 0 || v > 1023)
        return wick_errorf(WICK_ERR_ARG, "invalid device '%s'", s);
      idx = (int)v;
    } else if (s[4]) {
      return wick_errorf(WICK_ERR_ARG, "invalid device '%s' (expected 'cpu' or 'cuda:N')", s);
    }
    out->type = WICK_DEVICE_CUDA;
    out->index = (int16_t)idx;
    return WICK_OK;
  }
  return wick_errorf(WICK_ERR_ARG, "invalid device '%s' (expected 'cpu' or 'cuda:N')", s);
}

wick_status wick_check_same_device(const char *op, wick_device a, wick_device b) {
  if (wick_device_eq(a, b)) return WICK_OK;
  char d1[32], d2[32];
  wick_device_format(a, d1, sizeof d1);
  wick_device_format(b, d2, sizeof d2);
  return wick_errorf(WICK_ERR_DEVICE,
                     "%s: expected all tensors to be on the same device, but found %s and %s", op, d1, d2);
}

static wick_tensor *tensor_alloc(void) {
  wick_tensor *t = wick_small_alloc(sizeof *t);
  if (!t) return NULL;
  atomic_init(&t->refcount, 1);
  atomic_fetch_add(&wick_tensor_count_, 1);
  return t;
}

static void storage_release(wick_storage *s) {
  if (!s || atomic_fetch_sub(&s->refcount, 1) != 1) return;
  if (s->deleter) {
    s->deleter(s->deleter_ctx, s->data, s->nbytes);
    wick_mem_account(-(int64_t)s->nbytes);
  } else {
    const wick_backend *b = wick_backend_get(s->device.type);
    if (b) b->free(s->data, s->nbytes, s->device.index);
  }
  wick_small_free(s, sizeof *s);
}

static wick_status checked_numel(const char *op, int ndim, const int64_t *sizes, int64_t *out) {
  if (ndim < 0 || ndim > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_SHAPE, "%s: %d dimensions (at most %d supported)", op, ndim,
                       WICK_MAX_DIMS);
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (sizes[i] < 0)
      return wick_errorf(WICK_ERR_SHAPE, "%s: negative dimension %lld", op, (long long)sizes[i]);
    if (sizes[i] && n > INT64_MAX / 16 / sizes[i])
      return wick_errorf(WICK_ERR_OOM, "%s: tensor too large", op);
    n *= sizes[i];
  }
  *out = n;
  return WICK_OK;
}

static void set_contiguous_strides(wick_tensor *t) {
  int64_t st = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    t->strides[i] = st;
    st *= t->sizes[i] ? t->sizes[i] : 1;
  }
}

wick_status wick_tensor_new(wick_dtype dtype, wick_device dev, int ndim, const int64_t *sizes,
                            wick_tensor **out) {
  int64_t n = 0;
  WICK_TRY(checked_numel("tensor", ndim, sizes, &n));
  const wick_backend *b = wick_backend_get(dev.type);
  if (!b) {
    if (dev.type == WICK_DEVICE_CUDA)
      return wick_errorf(WICK_ERR_DEVICE, "wick was built without CUDA");
    return wick_errorf(WICK_ERR_DEVICE, "unknown device type %d", dev.type);
  }
  WICK_TRY(b->check_device ? b->check_device(dev.index) : WICK_OK);
  size_t nbytes = (size_t)n * wick_dtype_size(dtype);
  wick_storage *s = wick_small_alloc(sizeof *s);
  wick_tensor *t = tensor_alloc();
  void *data = (s && t) ? b->alloc(nbytes, dev.index) : NULL;
  if (!data) {
    wick_small_free(s, sizeof *s);
    if (t) { atomic_fetch_sub(&wick_tensor_count_, 1); wick_small_free(t, sizeof *t); }
    char buf[128];
    return wick_errorf(WICK_ERR_OOM, "out of memory allocating %zu bytes for a %s tensor of shape %s",
                       nbytes, wick_dtype_name(dtype), wick_shape_str(ndim, sizes, buf, sizeof buf));
  }
  atomic_init(&s->refcount, 1);
  s->data = data;
  s->nbytes = nbytes;
  s->device = dev;
  t->storage = s;
  t->dtype = dtype;
  t->device = dev;
  t->ndim = ndim;
  if (ndim) memcpy(t->sizes, sizes, sizeof(int64_t) * (size_t)ndim);
  set_contiguous_strides(t);
  *out = t;
  return WICK_OK;
}

wick_status wick_tensor_new_like(const wick_tensor *t, wick_tensor **out) {
  return wick_tensor_new(t->dtype, t->device, t->ndim, t->sizes, out);
}

wick_status wick_tensor_zeros(wick_dtype dtype, wick_device dev, int ndim, const int64_t *sizes,
                              wick_tensor **out) {
  WICK_TRY(wick_tensor_new(dtype, dev, ndim, sizes, out));
  const wick_backend *b = wick_backend_get(dev.type);
  wick_status s = b->fill(*out, 0.0, 0);
  if (s != WICK_OK) { wick_tensor_release(*out); *out = NULL; }
  return s;
}

wick_status wick_tensor_scalar(wick_dtype dtype, double v, int64_t iv, wick_tensor **out) {
  WICK_TRY(wick_tensor_new(dtype, wick_cpu(), 0, NULL, out));
  if (wick_dtype_is_float(dtype)) wick_store_f64(wick_tensor_data(*out), dtype, v);
  else wick_store_i64(wick_tensor_data(*out), dtype, iv);
  return WICK_OK;
}

wick_status wick_tensor_as_strided(const wick_tensor *t, int ndim, const int64_t *sizes,
                                   const int64_t *strides, int64_t offset, wick_tensor **out) {
  if (ndim < 0 || ndim > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_SHAPE, "view: %d dimensions (at most %d supported)", ndim,
                       WICK_MAX_DIMS);
  wick_tensor *v = tensor_alloc();
  if (!v) return wick_errorf(WICK_ERR_OOM, "out of memory");
  v->storage = t->storage;
  atomic_fetch_add(&t->storage->refcount, 1);
  v->dtype = t->dtype;
  v->device = t->device;
  v->ndim = ndim;
  v->offset = offset;
  if (ndim) {
    memcpy(v->sizes, sizes, sizeof(int64_t) * (size_t)ndim);
    memcpy(v->strides, strides, sizeof(int64_t) * (size_t)ndim);
  }
  *out = v;
  return WICK_OK;
}

wick_status wick_tensor_from_blob(void *data, size_t nbytes, wick_dtype dtype, int ndim,
                                  const int64_t *sizes,
                                  void (*deleter)(void *, void *, size_t), void *ctx,
                                  wick_tensor **out) {
  int64_t n = 0;
  WICK_TRY(checked_numel("from_blob", ndim, sizes, &n));
  if ((size_t)n * wick_dtype_size(dtype) > nbytes)
    return wick_errorf(WICK_ERR_SHAPE, "from_blob: %lld elements do not fit in %zu bytes",
                       (long long)n, nbytes);
  wick_storage *s = wick_small_alloc(sizeof *s);
  wick_tensor *t = tensor_alloc();
  if (!s || !t) {
    wick_small_free(s, sizeof *s);
    if (t) { atomic_fetch_sub(&wick_tensor_count_, 1); wick_small_free(t, sizeof *t); }
    return wick_errorf(WICK_ERR_OOM, "out of memory");
  }
  atomic_init(&s->refcount, 1);
  s->data = data;
  s->nbytes = nbytes;
  s->device = wick_cpu();
  s->deleter = deleter;
  s->deleter_ctx = ctx;
  wick_mem_account((int64_t)nbytes);
  t->storage = s;
  t->dtype = dtype;
  t->device = s->device;
  t->ndim = ndim;
  if (ndim) memcpy(t->sizes, sizes, sizeof(int64_t) * (size_t)ndim);
  set_contiguous_strides(t);
  *out = t;
  return WICK_OK;
}

wick_tensor *wick_tensor_retain(wick_tensor *t) {
  if (t) atomic_fetch_add(&t->refcount, 1);
  return t;
}

void wick_tensor_release(wick_tensor *t) {
  if (!t || atomic_fetch_sub(&t->refcount, 1) != 1) return;
  if (t->autograd && wick_autograd_free_hook) wick_autograd_free_hook(t->autograd);
  storage_release(t->storage);
  atomic_fetch_sub(&wick_tensor_count_, 1);
  wick_small_free(t, sizeof *t);
}

int64_t wick_tensor_numel(const wick_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->sizes[i];
  return n;
}

bool wick_tensor_is_contiguous(const wick_tensor *t) {
  int64_t st = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->sizes[i] == 1) continue;
    if (t->sizes[i] == 0) return true;
    if (t->strides[i] != st) return false;
    st *= t->sizes[i];
  }
  return true;
}

bool wick_shape_eq(const wick_tensor *a, const wick_tensor *b) {
  if (a->ndim != b->ndim) return false;
  for (int i = 0; i < a->ndim; i++)
    if (a->sizes[i] != b->sizes[i]) return false;
  return true;
}

const char *wick_shape_str(int ndim, const int64_t *sizes, char *buf, int n) {
  int len = snprintf(buf, (size_t)n, "[");
  for (int i = 0; i < ndim && len < n; i++)
    len += snprintf(buf + len, (size_t)(n - len), i ? ", %lld" : "%lld", (long long)sizes[i]);
  if (len < n) snprintf(buf + len, (size_t)(n - len), "]");
  return buf;
}

wick_status wick_dim_wrap(const char *op, int64_t dim, int ndim, int *out) {
  int64_t lo = ndim ? -ndim : -1, hi = ndim ? ndim - 1 : 0;
  if (dim < lo || dim > hi)
    return wick_errorf(WICK_ERR_INDEX,
                       "%s: dimension out of range (expected to be in range of [%lld, %lld], but got %lld)",
                       op, (long long)lo, (long long)hi, (long long)dim);
  *out = (int)(dim < 0 ? dim + (ndim ? ndim : 1) : dim);
  return WICK_OK;
}
