/* Joining: cat and stack. Shapes, dtypes (promoted over all inputs, as in PyTorch) and
 * devices are checked first; each input is then copied into its slice of the output. */
#include <string.h>

#include "ops.h"

static wick_status check_devices(const char *op, int n, const wick_tensor *const *ts) {
  for (int i = 1; i < n; i++)
    WICK_TRY(wick_check_same_device(op, ts[0]->device, ts[i]->device));
  return WICK_OK;
}

static wick_dtype promote_all(int n, const wick_tensor *const *ts) {
  wick_dtype dt = ts[0]->dtype;
  for (int i = 1; i < n; i++) dt = wick_dtype_promote(dt, ts[i]->dtype);
  return dt;
}

/* PyTorch still skips 1-D empty tensors in cat whatever the other shapes (legacy rule). */
static bool skipped(const wick_tensor *t) { return t->ndim == 1 && t->sizes[0] == 0; }

wick_status wick_cat(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out) {
  const char *op = "cat";
  if (n <= 0) return wick_errorf(WICK_ERR_ARG, "cat: expected a non-empty list of tensors");
  for (int i = 0; i < n; i++)
    if (ts[i]->ndim == 0)
      return wick_errorf(WICK_ERR_SHAPE, "cat: zero-dimensional tensor (at position %d) cannot be concatenated", i);
  WICK_TRY(check_devices(op, n, ts));
  const wick_tensor *ref = NULL;
  for (int i = 0; i < n && !ref; i++)
    if (!skipped(ts[i])) ref = ts[i];
  wick_dtype dt = promote_all(n, ts);
  if (!ref) { /* only legacy empties: an empty 1-D result */
    int64_t zero = 0;
    WICK_TRY(wick_dim_wrap(op, dim, 1, &(int){0}));
    return wick_tensor_new(dt, ts[0]->device, 1, &zero, out);
  }
  int d;
  WICK_TRY(wick_dim_wrap(op, dim, ref->ndim, &d));
  int64_t sizes[WICK_MAX_DIMS];
  memcpy(sizes, ref->sizes, sizeof sizes);
  sizes[d] = 0;
  for (int i = 0; i < n; i++) {
    const wick_tensor *t = ts[i];
    if (skipped(t)) continue;
    if (t->ndim != ref->ndim)
      return wick_errorf(WICK_ERR_SHAPE, "cat: tensors must have same number of dimensions: got %d and %d",
                         ref->ndim, t->ndim);
    for (int k = 0; k < t->ndim; k++)
      if (k != d && t->sizes[k] != ref->sizes[k])
        return wick_errorf(WICK_ERR_SHAPE,
                           "cat: sizes of tensors must match except in dimension %d (expected %lld, got %lld "
                           "in tensor %d)", d, (long long)ref->sizes[k], (long long)t->sizes[k], i);
    sizes[d] += t->sizes[d];
  }
  wick_tensor *o;
  WICK_TRY(wick_tensor_new(dt, ref->device, ref->ndim, sizes, &o));
  wick_status s = WICK_OK;
  int64_t at = 0;
  for (int i = 0; i < n && !s; i++) {
    if (skipped(ts[i]) || ts[i]->sizes[d] == 0) continue;
    wick_tensor *slot;
    if ((s = wick_narrow(o, d, at, ts[i]->sizes[d], &slot))) break;
    s = wick_copy_(slot, ts[i]);
    wick_tensor_release(slot);
    at += ts[i]->sizes[d];
  }
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

wick_status wick_stack(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out) {
  const char *op = "stack";
  if (n <= 0) return wick_errorf(WICK_ERR_ARG, "stack: expected a non-empty list of tensors");
  const wick_tensor *ref = ts[0];
  int d;
  WICK_TRY(wick_dim_wrap(op, dim, ref->ndim + 1, &d));
  if (ref->ndim + 1 > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_SHAPE, "stack: at most %d dimensions supported", WICK_MAX_DIMS);
  for (int i = 1; i < n; i++)
    if (!wick_shape_eq(ts[i], ref)) {
      char b1[128], b2[128];
      return wick_errorf(WICK_ERR_SHAPE,
                         "stack: expects each tensor to be equal size, but got %s at entry 0 and %s at entry %d",
                         wick_shape_str(ref->ndim, ref->sizes, b1, sizeof b1),
                         wick_shape_str(ts[i]->ndim, ts[i]->sizes, b2, sizeof b2), i);
    }
  WICK_TRY(check_devices(op, n, ts));
  int64_t sizes[WICK_MAX_DIMS];
  for (int k = 0, j = 0; k <= ref->ndim; k++) sizes[k] = k == d ? n : ref->sizes[j++];
  wick_tensor *o;
  WICK_TRY(wick_tensor_new(promote_all(n, ts), ref->device, ref->ndim + 1, sizes, &o));
  wick_status s = WICK_OK;
  for (int i = 0; i < n && !s && wick_tensor_numel(o); i++) {
    wick_tensor *slot;
    if ((s = wick_select(o, d, i, &slot))) break;
    s = wick_copy_(slot, ts[i]);
    wick_tensor_release(slot);
  }
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}
