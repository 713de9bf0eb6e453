/* Views: new geometry over the same storage. */
#include <string.h>

#include "ops.h"

static wick_status infer_sizes(const char *op, const wick_tensor *t, int ndim, const int64_t *in,
                               int64_t *sizes) {
  int64_t numel = wick_tensor_numel(t), known = 1;
  int infer = -1;
  char b1[128], b2[128];
  if (ndim > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_SHAPE, "%s: %d dimensions (at most %d supported)", op, ndim,
                       WICK_MAX_DIMS);
  for (int i = 0; i < ndim; i++) {
    sizes[i] = in[i];
    if (in[i] == -1) {
      if (infer >= 0) return wick_errorf(WICK_ERR_SHAPE, "%s: only one dimension can be inferred", op);
      infer = i;
    } else if (in[i] < 0) {
      return wick_errorf(WICK_ERR_SHAPE, "%s: invalid shape dimension %lld", op, (long long)in[i]);
    } else {
      known *= in[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      return wick_errorf(WICK_ERR_SHAPE, "%s: shape '%s' is invalid for input of size %lld", op,
                         wick_shape_str(ndim, in, b1, sizeof b1), (long long)numel);
    sizes[infer] = numel / known;
  } else if (known != numel) {
    return wick_errorf(WICK_ERR_SHAPE, "%s: shape '%s' is invalid for input of size %lld (shape %s)",
                       op, wick_shape_str(ndim, in, b1, sizeof b1), (long long)numel,
                       wick_shape_str(t->ndim, t->sizes, b2, sizeof b2));
  }
  return WICK_OK;
}

/* Computes strides for viewing t as `sizes` without copying (PyTorch's computeStride). */
static bool view_strides(const wick_tensor *t, int ndim, const int64_t *sizes, int64_t *strides) {
  if (wick_tensor_numel(t) == 0 || t->ndim == 0) {
    int64_t st = 1;
    for (int i = ndim - 1; i >= 0; i--) { strides[i] = st; st *= sizes[i] ? sizes[i] : 1; }
    return true;
  }
  int view_d = ndim - 1;
  int64_t chunk_base_stride = t->strides[t->ndim - 1], tensor_numel = 1, view_numel = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    tensor_numel *= t->sizes[d];
    if (d == 0 || (t->sizes[d - 1] != 1 && t->strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || sizes[view_d] == 1)) {
        strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= sizes[view_d];
        view_d--;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = t->strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

wick_status wick_view(const wick_tensor *t, int ndim, const int64_t *in, wick_tensor **out) {
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  WICK_TRY(infer_sizes("view", t, ndim, in, sizes));
  if (!view_strides(t, ndim, sizes, strides))
    return wick_errorf(WICK_ERR_SHAPE,
                       "view: size is not compatible with input tensor's size and stride "
                       "(at least one dimension spans across two contiguous subspaces); use reshape instead");
  return wick_tensor_as_strided(t, ndim, sizes, strides, t->offset, out);
}

wick_status wick_reshape(const wick_tensor *t, int ndim, const int64_t *in, wick_tensor **out) {
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  WICK_TRY(infer_sizes("reshape", t, ndim, in, sizes));
  if (view_strides(t, ndim, sizes, strides))
    return wick_tensor_as_strided(t, ndim, sizes, strides, t->offset, out);
  wick_tensor *c;
  WICK_TRY(wick_clone(t, &c));
  wick_status s = wick_view(c, ndim, sizes, out);
  wick_tensor_release(c);
  return s;
}

wick_status wick_permute(const wick_tensor *t, int ndim, const int64_t *dims, wick_tensor **out) {
  if (ndim != t->ndim)
    return wick_errorf(WICK_ERR_SHAPE,
                       "permute: number of dims don't match (tensor has %d, got %d)", t->ndim, ndim);
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  bool seen[WICK_MAX_DIMS] = {0};
  for (int i = 0; i < ndim; i++) {
    int d;
    WICK_TRY(wick_dim_wrap("permute", dims[i], ndim, &d));
    if (seen[d]) return wick_errorf(WICK_ERR_ARG, "permute: repeated dim %d", d);
    seen[d] = true;
    sizes[i] = t->sizes[d];
    strides[i] = t->strides[d];
  }
  return wick_tensor_as_strided(t, ndim, sizes, strides, t->offset, out);
}

wick_status wick_transpose(const wick_tensor *t, int64_t d0, int64_t d1, wick_tensor **out) {
  int a, b;
  if (t->ndim == 0) return wick_tensor_as_strided(t, 0, NULL, NULL, t->offset, out);
  WICK_TRY(wick_dim_wrap("transpose", d0, t->ndim, &a));
  WICK_TRY(wick_dim_wrap("transpose", d1, t->ndim, &b));
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  memcpy(sizes, t->sizes, sizeof sizes);
  memcpy(strides, t->strides, sizeof strides);
  sizes[a] = t->sizes[b]; sizes[b] = t->sizes[a];
  strides[a] = t->strides[b]; strides[b] = t->strides[a];
  return wick_tensor_as_strided(t, t->ndim, sizes, strides, t->offset, out);
}

wick_status wick_unsqueeze(const wick_tensor *t, int64_t dim, wick_tensor **out) {
  int d;
  WICK_TRY(wick_dim_wrap("unsqueeze", dim, t->ndim + 1, &d));
  if (t->ndim + 1 > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_SHAPE, "unsqueeze: at most %d dimensions supported", WICK_MAX_DIMS);
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  for (int i = 0, j = 0; i <= t->ndim; i++) {
    if (i == d) {
      sizes[i] = 1;
      strides[i] = d < t->ndim ? t->sizes[d] * t->strides[d] : 1;
    } else {
      sizes[i] = t->sizes[j];
      strides[i] = t->strides[j];
      j++;
    }
  }
  return wick_tensor_as_strided(t, t->ndim + 1, sizes, strides, t->offset, out);
}

wick_status wick_squeeze(const wick_tensor *t, bool all, int64_t dim, wick_tensor **out) {
  int d = -1, n = 0;
  if (!all) WICK_TRY(wick_dim_wrap("squeeze", dim, t->ndim, &d));
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  for (int i = 0; i < t->ndim; i++) {
    if (t->sizes[i] == 1 && (all || i == d)) continue;
    sizes[n] = t->sizes[i];
    strides[n] = t->strides[i];
    n++;
  }
  return wick_tensor_as_strided(t, n, sizes, strides, t->offset, out);
}

wick_status wick_expand(const wick_tensor *t, int ndim, const int64_t *in, wick_tensor **out) {
  char b1[128], b2[128];
  if (ndim < t->ndim || ndim > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_SHAPE,
                       "expand: the number of sizes provided (%d) must be greater or equal to the "
                       "number of dimensions in the tensor (%d)", ndim, t->ndim);
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  int lead = ndim - t->ndim;
  for (int i = ndim - 1; i >= 0; i--) {
    int j = i - lead;
    if (j < 0) {
      if (in[i] < 0)
        return wick_errorf(WICK_ERR_SHAPE, "expand: -1 is not allowed in a leading, non-existing dimension");
      sizes[i] = in[i];
      strides[i] = 0;
      continue;
    }
    int64_t want = in[i] == -1 ? t->sizes[j] : in[i];
    if (t->sizes[j] == want) {
      sizes[i] = want;
      strides[i] = t->strides[j];
    } else if (t->sizes[j] == 1 && want >= 0) {
      sizes[i] = want;
      strides[i] = 0;
    } else {
      return wick_errorf(WICK_ERR_SHAPE,
                         "expand: the expanded size of the tensor (%lld) must match the existing "
                         "size (%lld) at non-singleton dimension %d (shape %s to %s)",
                         (long long)want, (long long)t->sizes[j], i,
                         wick_shape_str(t->ndim, t->sizes, b1, sizeof b1),
                         wick_shape_str(ndim, in, b2, sizeof b2));
    }
  }
  return wick_tensor_as_strided(t, ndim, sizes, strides, t->offset, out);
}

wick_status wick_flatten(const wick_tensor *t, int64_t start, int64_t end, wick_tensor **out) {
  if (t->ndim == 0) {
    int64_t one = 1;
    return wick_reshape(t, 1, &one, out);
  }
  int s, e;
  WICK_TRY(wick_dim_wrap("flatten", start, t->ndim, &s));
  WICK_TRY(wick_dim_wrap("flatten", end, t->ndim, &e));
  if (s > e) return wick_errorf(WICK_ERR_ARG, "flatten: start_dim cannot come after end_dim");
  int64_t sizes[WICK_MAX_DIMS];
  int n = 0;
  for (int i = 0; i < s; i++) sizes[n++] = t->sizes[i];
  int64_t m = 1;
  for (int i = s; i <= e; i++) m *= t->sizes[i];
  sizes[n++] = m;
  for (int i = e + 1; i < t->ndim; i++) sizes[n++] = t->sizes[i];
  return wick_reshape(t, n, sizes, out);
}

wick_status wick_narrow(const wick_tensor *t, int64_t dim, int64_t start, int64_t length,
                        wick_tensor **out) {
  int d;
  if (t->ndim == 0) return wick_errorf(WICK_ERR_SHAPE, "narrow: cannot be applied to a 0-dim tensor");
  WICK_TRY(wick_dim_wrap("narrow", dim, t->ndim, &d));
  int64_t n = t->sizes[d];
  if (start < 0) start += n;
  if (start < 0 || start > n || length < 0 || start + length > n)
    return wick_errorf(WICK_ERR_INDEX,
                       "narrow: start (%lld) + length (%lld) exceeds dimension size (%lld)",
                       (long long)start, (long long)length, (long long)n);
  int64_t sizes[WICK_MAX_DIMS];
  memcpy(sizes, t->sizes, sizeof sizes);
  sizes[d] = length;
  return wick_tensor_as_strided(t, t->ndim, sizes, t->strides, t->offset + start * t->strides[d], out);
}

wick_status wick_slice(const wick_tensor *t, int64_t dim, int64_t start, int64_t stop,
                       int64_t step, wick_tensor **out) {
  int d;
  if (t->ndim == 0) return wick_errorf(WICK_ERR_SHAPE, "slice: cannot slice a 0-dim tensor");
  WICK_TRY(wick_dim_wrap("slice", dim, t->ndim, &d));
  if (step <= 0) return wick_errorf(WICK_ERR_ARG, "slice: step must be positive (got %lld)", (long long)step);
  int64_t n = t->sizes[d];
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > n) start = n;
  if (stop > n) stop = n;
  if (stop < start) stop = start;
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  memcpy(sizes, t->sizes, sizeof sizes);
  memcpy(strides, t->strides, sizeof strides);
  sizes[d] = (stop - start + step - 1) / step;
  strides[d] = t->strides[d] * step;
  return wick_tensor_as_strided(t, t->ndim, sizes, strides, t->offset + start * t->strides[d], out);
}

wick_status wick_select(const wick_tensor *t, int64_t dim, int64_t index, wick_tensor **out) {
  int d;
  if (t->ndim == 0)
    return wick_errorf(WICK_ERR_INDEX, "select: invalid index of a 0-dim tensor");
  WICK_TRY(wick_dim_wrap("select", dim, t->ndim, &d));
  int64_t n = t->sizes[d];
  if (index < -n || index >= n)
    return wick_errorf(WICK_ERR_INDEX,
                       "index %lld is out of bounds for dimension %d with size %lld",
                       (long long)index, d, (long long)n);
  if (index < 0) index += n;
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < t->ndim; i++) {
    if (i == d) continue;
    sizes[k] = t->sizes[i];
    strides[k] = t->strides[i];
    k++;
  }
  return wick_tensor_as_strided(t, t->ndim - 1, sizes, strides, t->offset + index * t->strides[d], out);
}

wick_status wick_diagonal(const wick_tensor *t, wick_tensor **out) {
  if (t->ndim != 2) return wick_errorf(WICK_ERR_SHAPE, "diagonal: expected a 2-D tensor (got %d-D)", t->ndim);
  int64_t n = t->sizes[0] < t->sizes[1] ? t->sizes[0] : t->sizes[1];
  int64_t st = t->strides[0] + t->strides[1];
  return wick_tensor_as_strided(t, 1, &n, &st, t->offset, out);
}

wick_status wick_contiguous(const wick_tensor *t, wick_tensor **out) {
  if (wick_tensor_is_contiguous(t)) {
    *out = wick_tensor_retain((wick_tensor *)t);
    return WICK_OK;
  }
  return wick_clone(t, out);
}

wick_status wick_broadcast_shapes(const char *op, int na, const int64_t *a, int nb,
                                  const int64_t *b, int *nout, int64_t *out) {
  int n = na > nb ? na : nb;
  for (int i = 0; i < n; i++) {
    int64_t x = i < n - na ? 1 : a[i - (n - na)];
    int64_t y = i < n - nb ? 1 : b[i - (n - nb)];
    if (x != y && x != 1 && y != 1) {
      char b1[128], b2[128];
      return wick_errorf(WICK_ERR_SHAPE,
                         "%s: shapes %s and %s cannot be broadcast (dimension %d: %lld vs %lld)",
                         op, wick_shape_str(na, a, b1, sizeof b1), wick_shape_str(nb, b, b2, sizeof b2),
                         i, (long long)x, (long long)y);
    }
    out[i] = x == 1 ? y : x;
  }
  *nout = n;
  return WICK_OK;
}
