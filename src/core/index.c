/* Indexing ops: index_select, gather, scatter(_add), index_fill_/copy_/add_, masked_fill,
 * masked_select, nonzero. Every argument and every index is checked here, on the host,
 * before a backend touches memory; the backends only move data. */
#include <math.h>
#include <string.h>

#include "ops.h"


/* A 0-d tensor seen as [1] (every kernel here wants at least one dim); others retained. */
static wick_status as_1d(const wick_tensor *t, wick_tensor **out) {
  if (t->ndim) { *out = wick_tensor_retain((wick_tensor *)t); return WICK_OK; }
  int64_t one = 1;
  return wick_tensor_as_strided(t, 1, &one, &one, t->offset, out);
}

static int nd1(const wick_tensor *t) { return t->ndim ? t->ndim : 1; }

static wick_status check_index_dtype(const char *op, const wick_tensor *idx, bool allow_i32) {
  if (idx->dtype == WICK_DTYPE_I64 || (allow_i32 && idx->dtype == WICK_DTYPE_I32)) return WICK_OK;
  return wick_errorf(WICK_ERR_DTYPE, "%s: expected an %s index tensor (got %s)", op,
                     allow_i32 ? "i64 or i32" : "i64", wick_dtype_name(idx->dtype));
}

/* The checks of the ops that index along one dim: dim in range (wrapped into *d), an i64 or
 * i32 index of at most 1 dim, on a's device. */
static wick_status check_index_vector(const char *op, const wick_tensor *a, int64_t dim,
                                      const wick_tensor *idx, int *d) {
  WICK_TRY(wick_dim_wrap(op, dim, a->ndim, d));
  WICK_TRY(check_index_dtype(op, idx, true));
  if (idx->ndim > 1)
    return wick_errorf(WICK_ERR_SHAPE, "%s: index must be a 0-D or 1-D tensor (got %d-D)", op, idx->ndim);
  return wick_check_same_device(op, a->device, idx->device);
}

/* Every value of idx must lie in [0, size). Reads a host copy, so it works for any device. */
static wick_status check_range(const char *op, const wick_tensor *idx, int dim, int64_t size) {
  int64_t n = wick_tensor_numel(idx);
  if (n == 0) return WICK_OK;
  wick_tensor *h = NULL, *c = NULL;
  wick_status s = wick_to(idx, WICK_DTYPE_I64, wick_cpu(), false, &h);
  if (!s) s = wick_contiguous(h, &c);
  if (!s) {
    const int64_t *p = wick_tensor_data(c);
    for (int64_t i = 0; i < n; i++)
      if (p[i] < 0 || p[i] >= size) {
        s = wick_errorf(WICK_ERR_INDEX, "%s: index %lld is out of bounds for dimension %d with size %lld",
                        op, (long long)p[i], dim, (long long)size);
        break;
      }
  }
  wick_tensor_release(h);
  wick_tensor_release(c);
  return s;
}

/* Parallel writes through an expanded (stride-0) tensor would race and lose updates. */
static wick_status check_writable(const char *op, const wick_tensor *t) {
  for (int i = 0; i < t->ndim; i++)
    if (t->strides[i] == 0 && t->sizes[i] > 1)
      return wick_errorf(WICK_ERR_ARG,
                         "%s: unsupported operation: more than one element of the written-to tensor "
                         "refers to a single memory location; clone() the tensor first", op);
  return WICK_OK;
}

/* t viewed with `sizes` (ndim of them) keeping t's strides: the leading box of t. */
static wick_status box_view(const wick_tensor *t, int ndim, const int64_t *sizes, wick_tensor **out) {
  return wick_tensor_as_strided(t, ndim, sizes, t->strides, t->offset, out);
}

/* ---- index_select ---- */

wick_status wick_index_select(const wick_tensor *a, int64_t dim, const wick_tensor *idx,
                              wick_tensor **out) {
  const char *op = "index_select";
  int d;
  WICK_TRY(check_index_vector(op, a, dim, idx, &d));
  const wick_backend *be;
  WICK_TRY(wick_backend_for(op, a->device, &be));
  WICK_NEED_SLOT(be, index_select, op);
  wick_tensor *ih = NULL, *ix = NULL, *o = NULL;
  wick_status s;
  int64_t sizes[WICK_MAX_DIMS];
  if ((s = wick_to(idx, WICK_DTYPE_I64, idx->device, false, &ih)) || (s = as_1d(ih, &ix))) goto done;
  if ((s = check_range(op, ix, d, a->ndim ? a->sizes[d] : 1))) goto done;
  if (a->ndim == 0) {
    if (ix->sizes[0] != 1)
      s = wick_errorf(WICK_ERR_SHAPE, "%s: index of a 0-d input can have only 1 value (got %lld)", op,
                      (long long)ix->sizes[0]);
    else s = wick_clone(a, &o);
    goto done;
  }
  memcpy(sizes, a->sizes, sizeof sizes);
  sizes[d] = ix->sizes[0];
  if ((s = wick_tensor_new(a->dtype, a->device, a->ndim, sizes, &o))) goto done;
  s = be->index_select(o, a, d, ix);
done:
  wick_tensor_release(ih);
  wick_tensor_release(ix);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

/* ---- gather ---- */

wick_status wick_gather(const wick_tensor *a, int64_t dim, const wick_tensor *idx, wick_tensor **out) {
  const char *op = "gather";
  int d;
  WICK_TRY(wick_dim_wrap(op, dim, a->ndim, &d));
  WICK_TRY(check_index_dtype(op, idx, false));
  if (nd1(idx) != nd1(a))
    return wick_errorf(WICK_ERR_SHAPE,
                       "%s: index tensor must have the same number of dimensions as input tensor (got %d and %d)",
                       op, idx->ndim, a->ndim);
  WICK_TRY(wick_check_same_device(op, a->device, idx->device));
  const wick_backend *be;
  WICK_TRY(wick_backend_for(op, a->device, &be));
  WICK_NEED_SLOT(be, gather, op);
  wick_tensor *a1 = NULL, *i1 = NULL, *o = NULL, *o1 = NULL;
  wick_status s;
  if ((s = as_1d(a, &a1)) || (s = as_1d(idx, &i1))) goto done;
  for (int k = 0; k < a1->ndim; k++)
    if (k != d && i1->sizes[k] > a1->sizes[k]) {
      char b1[128], b2[128];
      s = wick_errorf(WICK_ERR_SHAPE,
                      "%s: size does not match at dimension %d: expected index %s to be smaller than "
                      "input %s apart from dimension %d", op, k,
                      wick_shape_str(idx->ndim, idx->sizes, b1, sizeof b1),
                      wick_shape_str(a->ndim, a->sizes, b2, sizeof b2), d);
      goto done;
    }
  if ((s = check_range(op, i1, d, a1->sizes[d]))) goto done;
  if ((s = wick_tensor_new(a->dtype, a->device, idx->ndim, idx->sizes, &o))) goto done;
  if ((s = as_1d(o, &o1))) goto done;
  if (wick_tensor_numel(o)) s = be->gather(o1, a1, d, i1);
done:
  wick_tensor_release(a1);
  wick_tensor_release(i1);
  wick_tensor_release(o1);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

/* ---- scatter ---- */

/* src is a tensor, or a wrapped number (a Lua number) that fills every indexed place. */
static wick_status scatter_impl(const char *op, wick_tensor *a, int64_t dim, const wick_tensor *idx,
                                const wick_tensor *src, int reduce) {
  int d;
  bool scalar = src->wrapped_number;
  WICK_TRY(wick_dim_wrap(op, dim, a->ndim, &d));
  WICK_TRY(check_index_dtype(op, idx, false));
  if (nd1(idx) != nd1(a))
    return wick_errorf(WICK_ERR_SHAPE,
                       "%s: index tensor must have the same number of dimensions as input tensor (got %d and %d)",
                       op, idx->ndim, a->ndim);
  if (!scalar && nd1(idx) != nd1(src))
    return wick_errorf(WICK_ERR_SHAPE,
                       "%s: index tensor must have the same number of dimensions as src tensor (got %d and %d)",
                       op, idx->ndim, src->ndim);
  WICK_TRY(wick_check_same_device(op, a->device, idx->device));
  if (!scalar) {
    WICK_TRY(wick_check_same_device(op, a->device, src->device));
    if (src->dtype != a->dtype)
      return wick_errorf(WICK_ERR_DTYPE, "%s: expected src and input to have the same dtype (got %s and %s)",
                         op, wick_dtype_name(src->dtype), wick_dtype_name(a->dtype));
  }
  const wick_backend *be;
  WICK_TRY(wick_backend_for(op, a->device, &be));
  WICK_NEED_SLOT(be, scatter, op);
  WICK_TRY(check_writable(op, a));
  wick_tensor *a1 = NULL, *i1 = NULL, *s1 = NULL, *sv = NULL, *sc = NULL;
  wick_status s;
  if ((s = as_1d(a, &a1)) || (s = as_1d(idx, &i1))) goto done;
  if (scalar) {
    if ((s = wick_to(src, a->dtype, a->device, false, &sc)) || (s = as_1d(sc, &s1))) goto done;
  } else if ((s = as_1d(src, &s1))) {
    goto done;
  }
  for (int k = 0; k < a1->ndim; k++)
    if ((k != d && i1->sizes[k] > a1->sizes[k]) || (!scalar && i1->sizes[k] > s1->sizes[k])) {
      char b1[128], b2[128], b3[128];
      wick_shape_str(idx->ndim, idx->sizes, b1, sizeof b1);
      wick_shape_str(a->ndim, a->sizes, b2, sizeof b2);
      if (scalar)
        s = wick_errorf(WICK_ERR_SHAPE, "%s: expected index %s to be smaller than input %s apart from dimension %d",
                        op, b1, b2, d);
      else
        s = wick_errorf(WICK_ERR_SHAPE,
                        "%s: expected index %s to be smaller than input %s apart from dimension %d and to "
                        "be smaller than src %s", op, b1, b2, d,
                        wick_shape_str(src->ndim, src->sizes, b3, sizeof b3));
      goto done;
    }
  if ((s = check_range(op, i1, d, a1->sizes[d]))) goto done;
  if (scalar) {
    int64_t zeros[WICK_MAX_DIMS] = {0};
    s = wick_tensor_as_strided(s1, i1->ndim, i1->sizes, zeros, s1->offset, &sv);
  } else {
    s = box_view(s1, i1->ndim, i1->sizes, &sv);
  }
  if (s) goto done;
  if ((s = be->scatter(a1, d, i1, sv, reduce))) goto done;
  wick_tensor_bump_version(a);
done:
  wick_tensor_release(a1);
  wick_tensor_release(i1);
  wick_tensor_release(s1);
  wick_tensor_release(sv);
  wick_tensor_release(sc);
  return s;
}

wick_status wick_scatter_(wick_tensor *a, int64_t dim, const wick_tensor *idx,
                          const wick_tensor *src, int reduce) {
  return scatter_impl(reduce ? "scatter_add_" : "scatter_", a, dim, idx, src, reduce);
}

wick_status wick_scatter(const wick_tensor *a, int64_t dim, const wick_tensor *idx,
                         const wick_tensor *src, int reduce, wick_tensor **out) {
  wick_tensor *o;
  WICK_TRY(wick_clone(a, &o));
  wick_status s = scatter_impl(reduce ? "scatter_add" : "scatter", o, dim, idx, src, reduce);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

/* ---- index_fill_ / index_copy_ / index_add_: scatter with the index expanded along dim ---- */

enum { ALONG_FILL, ALONG_COPY, ALONG_ADD };

static wick_status check_source(const char *op, const wick_tensor *a, const wick_tensor *src, int d,
                                int64_t n) {
  if (src->dtype != a->dtype)
    return wick_errorf(WICK_ERR_DTYPE, "%s: expected source and input to have the same dtype (got %s and %s)",
                       op, wick_dtype_name(src->dtype), wick_dtype_name(a->dtype));
  if (nd1(src) != nd1(a))
    return wick_errorf(WICK_ERR_SHAPE,
                       "%s: source must have the same number of dimensions as input (got %d and %d)",
                       op, src->ndim, a->ndim);
  int64_t sd = src->ndim ? src->sizes[d] : 1;
  if (sd != n)
    return wick_errorf(WICK_ERR_SHAPE, "%s: number of indices (%lld) should be equal to source.size(%d) (%lld)",
                       op, (long long)n, d, (long long)sd);
  for (int k = 0; k < a->ndim; k++)
    if (k != d && src->sizes[k] != a->sizes[k]) {
      char b1[128], b2[128];
      return wick_errorf(WICK_ERR_SHAPE, "%s: source %s and input %s must have the same size apart from dimension %d",
                         op, wick_shape_str(src->ndim, src->sizes, b1, sizeof b1),
                         wick_shape_str(a->ndim, a->sizes, b2, sizeof b2), d);
    }
  return WICK_OK;
}

static wick_status index_along(const char *op, wick_tensor *a, int64_t dim, const wick_tensor *idx,
                               const wick_tensor *src, int mode, double alpha) {
  int d;
  WICK_TRY(check_index_vector(op, a, dim, idx, &d));
  int64_t n = wick_tensor_numel(idx);
  if (mode == ALONG_FILL) {
    if (src->ndim != 0)
      return wick_errorf(WICK_ERR_SHAPE,
                         "%s: only supports a 0-dimensional value tensor, but got tensor with %d dimension(s)",
                         op, src->ndim);
  } else {
    WICK_TRY(check_source(op, a, src, d, n));
    WICK_TRY(wick_check_same_device(op, a->device, src->device));
  }
  if (mode == ALONG_ADD && !wick_dtype_is_float(a->dtype) && alpha != floor(alpha))
    return wick_errorf(WICK_ERR_ARG, "%s: alpha must be an integer for integer tensors (got %g)", op, alpha);
  const wick_backend *be;
  WICK_TRY(wick_backend_for(op, a->device, &be));
  WICK_NEED_SLOT(be, scatter, op);
  WICK_TRY(check_writable(op, a));
  wick_tensor *ih = NULL, *ix = NULL, *a1 = NULL, *ie = NULL, *sc = NULL, *s1 = NULL, *se = NULL;
  wick_status s;
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS] = {0};
  if ((s = wick_to(idx, WICK_DTYPE_I64, idx->device, false, &ih)) || (s = as_1d(ih, &ix))) goto done;
  if ((s = as_1d(a, &a1))) goto done;
  if ((s = check_range(op, ix, d, a1->sizes[d]))) goto done;
  memcpy(sizes, a1->sizes, sizeof sizes);
  sizes[d] = n;
  strides[d] = ix->strides[0];
  if ((s = wick_tensor_as_strided(ix, a1->ndim, sizes, strides, ix->offset, &ie))) goto done;
  if (mode == ALONG_FILL) {
    int64_t zeros[WICK_MAX_DIMS] = {0};
    if ((s = wick_to(src, a->dtype, a->device, false, &sc))) goto done;
    s = wick_tensor_as_strided(sc, a1->ndim, sizes, zeros, sc->offset, &se);
  } else {
    if (mode == ALONG_ADD && alpha != 1) {
      wick_tensor *k;
      bool fl = wick_dtype_is_float(a->dtype);
      if ((s = wick_tensor_scalar(fl ? WICK_DTYPE_F64 : WICK_DTYPE_I64, alpha, (int64_t)alpha, &k))) goto done;
      k->wrapped_number = true;
      s = wick_binary(WICK_BIN_MUL, src, k, &sc);
      wick_tensor_release(k);
      if (s) goto done;
    } else {
      sc = wick_tensor_retain((wick_tensor *)src);
    }
    if ((s = as_1d(sc, &s1))) goto done;
    s = box_view(s1, a1->ndim, sizes, &se);
  }
  if (s) goto done;
  if ((s = be->scatter(a1, d, ie, se, mode == ALONG_ADD))) goto done;
  wick_tensor_bump_version(a);
done:
  wick_tensor_release(ih); wick_tensor_release(ix); wick_tensor_release(a1);
  wick_tensor_release(ie); wick_tensor_release(sc); wick_tensor_release(s1);
  wick_tensor_release(se);
  return s;
}

wick_status wick_index_fill_(wick_tensor *a, int64_t dim, const wick_tensor *idx, const wick_tensor *value) {
  return index_along("index_fill_", a, dim, idx, value, ALONG_FILL, 1);
}

wick_status wick_index_copy_(wick_tensor *a, int64_t dim, const wick_tensor *idx, const wick_tensor *src) {
  return index_along("index_copy_", a, dim, idx, src, ALONG_COPY, 1);
}

wick_status wick_index_add_(wick_tensor *a, int64_t dim, const wick_tensor *idx, const wick_tensor *src,
                            double alpha) {
  return index_along("index_add_", a, dim, idx, src, ALONG_ADD, alpha);
}

/* ---- masks ---- */

static wick_status check_mask(const char *op, const wick_tensor *a, const wick_tensor *mask) {
  if (mask->dtype != WICK_DTYPE_BOOL)
    return wick_errorf(WICK_ERR_DTYPE, "%s: mask must be a bool tensor (got %s)", op,
                       wick_dtype_name(mask->dtype));
  return wick_check_same_device(op, a->device, mask->device);
}

static wick_status check_value(const char *op, const wick_tensor *a, const wick_tensor *value) {
  if (value->ndim != 0)
    return wick_errorf(WICK_ERR_SHAPE,
                       "%s: only supports a 0-dimensional value tensor, but got tensor with %d dimension(s)",
                       op, value->ndim);
  if (value->device.type == WICK_DEVICE_CPU) return WICK_OK; /* 0-d CPU values go anywhere */
  return wick_check_same_device(op, a->device, value->device);
}

/* out = mask ? value : a, everything expanded to `shape` (out may be a itself). */
static wick_status fill_where(const char *op, wick_tensor *out, const wick_tensor *a, const wick_tensor *mask,
                              const wick_tensor *value, int nd, const int64_t *shape) {
  const wick_backend *be;
  WICK_TRY(wick_backend_for(op, out->device, &be));
  WICK_NEED_SLOT(be, where, op);
  wick_tensor *me = NULL, *v = NULL, *ve = NULL, *ae = NULL;
  wick_status s;
  if ((s = wick_expand(mask, nd, shape, &me)) || (s = wick_expand(a, nd, shape, &ae))) goto done;
  if ((s = wick_to(value, out->dtype, out->device, false, &v)) || (s = wick_expand(v, nd, shape, &ve))) goto done;
  s = be->where(out, me, ve, ae);
done:
  wick_tensor_release(me); wick_tensor_release(v); wick_tensor_release(ve); wick_tensor_release(ae);
  return s;
}

wick_status wick_masked_fill_(wick_tensor *a, const wick_tensor *mask, const wick_tensor *value) {
  const char *op = "masked_fill_";
  WICK_TRY(check_mask(op, a, mask));
  WICK_TRY(check_value(op, a, value));
  int64_t shape[WICK_MAX_DIMS];
  int nd;
  WICK_TRY(wick_broadcast_shapes(op, a->ndim, a->sizes, mask->ndim, mask->sizes, &nd, shape));
  if (nd != a->ndim || memcmp(shape, a->sizes, sizeof(int64_t) * (size_t)nd) != 0) {
    char b1[128], b2[128];
    return wick_errorf(WICK_ERR_SHAPE, "%s: output with shape %s doesn't match the broadcast shape %s", op,
                       wick_shape_str(a->ndim, a->sizes, b1, sizeof b1), wick_shape_str(nd, shape, b2, sizeof b2));
  }
  WICK_TRY(check_writable(op, a));
  WICK_TRY(fill_where(op, a, a, mask, value, nd, shape));
  wick_tensor_bump_version(a);
  return WICK_OK;
}

wick_status wick_masked_fill(const wick_tensor *a, const wick_tensor *mask, const wick_tensor *value,
                             wick_tensor **out) {
  const char *op = "masked_fill";
  WICK_TRY(check_mask(op, a, mask));
  WICK_TRY(check_value(op, a, value));
  int64_t shape[WICK_MAX_DIMS];
  int nd;
  WICK_TRY(wick_broadcast_shapes(op, a->ndim, a->sizes, mask->ndim, mask->sizes, &nd, shape));
  wick_tensor *o;
  WICK_TRY(wick_tensor_new(a->dtype, a->device, nd, shape, &o));
  wick_status s = fill_where(op, o, a, mask, value, nd, shape);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

/* On a device whose row lacks the nonzero slots, the CPU row's run on a host copy. */
wick_status wick_nonzero(const wick_tensor *a, wick_tensor **out) {
  const wick_backend *be;
  WICK_TRY(wick_backend_for("nonzero", a->device, &be));
  wick_device dev = a->device;
  if (!be->nonzero_count || !be->nonzero_fill) {
    WICK_TRY(wick_backend_for("nonzero", wick_cpu(), &be));
    WICK_NEED_SLOT(be, nonzero_count, "nonzero");
    WICK_NEED_SLOT(be, nonzero_fill, "nonzero");
    dev = wick_cpu();
  }
  wick_tensor *h, *o = NULL;
  WICK_TRY(wick_to(a, a->dtype, dev, false, &h));
  int64_t sizes[2] = {0, a->ndim};
  wick_status s = be->nonzero_count(h, &sizes[0]);
  if (!s) s = wick_tensor_new(WICK_DTYPE_I64, dev, 2, sizes, &o);
  if (!s) s = be->nonzero_fill(h, o);
  wick_tensor_release(h);
  if (!s && !wick_device_eq(dev, a->device)) {
    wick_tensor *d;
    s = wick_to(o, WICK_DTYPE_I64, a->device, false, &d);
    wick_tensor_release(o);
    o = s ? NULL : d;
  }
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

wick_status wick_masked_select(const wick_tensor *a, const wick_tensor *mask, wick_tensor **out) {
  const char *op = "masked_select";
  WICK_TRY(check_mask(op, a, mask));
  int64_t shape[WICK_MAX_DIMS], flat = -1;
  int nd;
  WICK_TRY(wick_broadcast_shapes(op, a->ndim, a->sizes, mask->ndim, mask->sizes, &nd, shape));
  /* positions of the true elements in the flattened broadcast mask, then a row gather */
  wick_tensor *me = NULL, *mf = NULL, *nz = NULL, *lin = NULL, *ae = NULL, *af = NULL;
  wick_status s;
  if ((s = wick_expand(mask, nd, shape, &me)) || (s = wick_reshape(me, 1, &flat, &mf))) goto done;
  if ((s = wick_nonzero(mf, &nz)) || (s = wick_reshape(nz, 1, &flat, &lin))) goto done;
  if ((s = wick_expand(a, nd, shape, &ae)) || (s = wick_reshape(ae, 1, &flat, &af))) goto done;
  s = wick_index_select(af, 0, lin, out);
done:
  wick_tensor_release(me); wick_tensor_release(mf); wick_tensor_release(nz);
  wick_tensor_release(lin); wick_tensor_release(ae); wick_tensor_release(af);
  return s;
}
