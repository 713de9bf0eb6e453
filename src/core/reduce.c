/* Reductions: argument checks, result dtypes and shapes (PyTorch's rules), and the ops built
 * from the backend's reduce/cumulative slots plus elementwise ops: mean, var/std, softmax,
 * logsumexp, norm, count_nonzero. */
#include <math.h>
#include <string.h>

#include "ops.h"

static wick_status need_backend(const char *op, wick_device dev, bool cumulative,
                                const wick_backend **b) {
  WICK_TRY(wick_backend_for(op, dev, b));
  if (cumulative ? !(*b)->cumulative : !(*b)->reduce)
    return wick_errorf(WICK_ERR_UNSUPPORTED, "%s: not implemented on device '%s'", op, (*b)->name);
  return WICK_OK;
}

/* A Lua-number-like 0-d f64: weak in type promotion, so `f32 / n` stays f32. */
static wick_status wrapped(double v, wick_tensor **out) {
  WICK_TRY(wick_tensor_scalar(WICK_DTYPE_F64, v, (int64_t)v, out));
  (*out)->wrapped_number = true;
  return WICK_OK;
}

static bool is_half(wick_dtype d) { return d == WICK_DTYPE_F16 || d == WICK_DTYPE_BF16; }

/* red[d] = dim d is reduced (ndims == 0: every dim); rejects bad and repeated dims. A 0-d
 * tensor accepts dim 0 / -1 and reduces nothing. */
static wick_status mark_dims(const char *op, const wick_tensor *a, int ndims, const int64_t *dims,
                             bool *red) {
  memset(red, 0, sizeof(bool) * WICK_MAX_DIMS);
  if (ndims == 0) {
    for (int d = 0; d < a->ndim; d++) red[d] = true;
    return WICK_OK;
  }
  bool seen[WICK_MAX_DIMS] = {0};
  for (int i = 0; i < ndims; i++) {
    int w;
    WICK_TRY(wick_dim_wrap(op, dims[i], a->ndim, &w));
    if (seen[w])
      return wick_errorf(WICK_ERR_ARG, "%s: dim %d appears multiple times in the list of dims", op, w);
    seen[w] = true;
    if (a->ndim > 0) red[w] = true;
  }
  return WICK_OK;
}

static int64_t reduced_count(const wick_tensor *a, const bool *red) {
  int64_t n = 1;
  for (int d = 0; d < a->ndim; d++)
    if (red[d]) n *= a->sizes[d];
  return n;
}

/* The kept shape: reduced dims dropped, or set to 1 with keepdim. */
static int kept_shape(const wick_tensor *a, const bool *red, bool keepdim, int64_t *sizes) {
  int n = 0;
  for (int d = 0; d < a->ndim; d++) {
    if (!red[d]) sizes[n++] = a->sizes[d];
    else if (keepdim) sizes[n++] = 1;
  }
  return n;
}

/* Moves the reduced dims last and runs the backend's reduce into a new odt tensor. */
static wick_status reduce_raw(const char *name, wick_redop op, const wick_tensor *a, const bool *red,
                              bool keepdim, wick_dtype odt, wick_tensor **out) {
  const wick_backend *be;
  WICK_TRY(need_backend(name, a->device, false, &be));
  int64_t perm[WICK_MAX_DIMS], osz[WICK_MAX_DIMS];
  int nk = 0, nred = 0;
  for (int d = 0; d < a->ndim; d++)
    if (!red[d]) { osz[nk] = a->sizes[d]; perm[nk++] = d; }
  for (int d = 0; d < a->ndim; d++)
    if (red[d]) perm[nk + nred++] = d;
  wick_tensor *ap = NULL, *o = NULL;
  wick_status s;
  if ((s = wick_permute(a, a->ndim, perm, &ap))) goto done;
  if ((s = wick_tensor_new(odt, a->device, nk, osz, &o))) goto done;
  if ((s = be->reduce(op, o, ap, nred))) goto done;
  if (keepdim && nred > 0) {
    int64_t ksz[WICK_MAX_DIMS];
    int nd = kept_shape(a, red, true, ksz);
    wick_tensor *v;
    if ((s = wick_view(o, nd, ksz, &v))) goto done;
    wick_tensor_release(o);
    o = v;
  }
done:
  wick_tensor_release(ap);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

/* max/min/argmax/argmin have no identity: an empty reduction is an error, as in PyTorch. */
static wick_status check_nonempty(const char *name, bool arg, const wick_tensor *a, int ndims,
                                  const bool *red) {
  if (ndims == 0 && wick_tensor_numel(a) == 0)
    return wick_errorf(WICK_ERR_SHAPE,
                       arg ? "%s: Expected reduction dim to be specified for input.numel() == 0."
                           : "%s: Expected reduction dim to be specified for input.numel() == 0. "
                             "Specify the reduction dim with the 'dim' argument.",
                       name);
  for (int d = 0; d < a->ndim; d++)
    if (red[d] && a->sizes[d] == 0)
      return wick_errorf(WICK_ERR_SHAPE, "%s: Expected reduction dim %d to have non-zero size.",
                         name, d);
  return WICK_OK;
}

wick_status wick_reduce_ex(const char *name, wick_redop op, const wick_tensor *a, int ndims,
                           const int64_t *dims, bool keepdim, wick_dtype dtype, wick_tensor **out) {
  if (!name) name = wick_redop_name(op);
  bool red[WICK_MAX_DIMS];
  WICK_TRY(mark_dims(name, a, ndims, dims, red));
  bool given = dtype != WICK_DTYPE_NONE;
  if (given && op != WICK_RED_SUM && op != WICK_RED_PROD)
    return wick_errorf(WICK_ERR_ARG, "%s: the dtype option is only supported by sum and prod", name);
  if (op == WICK_RED_MAX || op == WICK_RED_MIN || op == WICK_RED_ARGMAX || op == WICK_RED_ARGMIN)
    WICK_TRY(check_nonempty(name, op == WICK_RED_ARGMAX || op == WICK_RED_ARGMIN, a, ndims, red));
  wick_dtype odt;
  switch (op) {
    case WICK_RED_SUM: case WICK_RED_PROD:
      odt = given ? dtype : wick_dtype_is_float(a->dtype) ? a->dtype : WICK_DTYPE_I64;
      break;
    case WICK_RED_ARGMAX: case WICK_RED_ARGMIN: odt = WICK_DTYPE_I64; break;
    case WICK_RED_ANY: case WICK_RED_ALL: odt = WICK_DTYPE_BOOL; break;
    default: odt = a->dtype;
  }
  wick_tensor *ac = NULL, *o = NULL;
  wick_status s;
  if ((s = wick_to(a, given ? dtype : a->dtype, a->device, false, &ac))) goto done;
  if ((s = reduce_raw(name, op, ac, red, keepdim, odt, &o))) goto done;
  if ((op == WICK_RED_ANY || op == WICK_RED_ALL) && a->dtype == WICK_DTYPE_U8) {
    wick_tensor *u; /* PyTorch keeps u8 for any/all of u8 */
    if ((s = wick_to(o, WICK_DTYPE_U8, o->device, false, &u))) goto done;
    wick_tensor_release(o);
    o = u;
  }
done:
  wick_tensor_release(ac);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

wick_status wick_reduce(wick_redop op, const wick_tensor *a, int ndims, const int64_t *dims,
                        bool keepdim, wick_tensor **out) {
  return wick_reduce_ex(NULL, op, a, ndims, dims, keepdim, WICK_DTYPE_NONE, out);
}

wick_status wick_count_nonzero(const wick_tensor *a, int ndims, const int64_t *dims,
                               wick_tensor **out) {
  bool red[WICK_MAX_DIMS];
  WICK_TRY(mark_dims("count_nonzero", a, ndims, dims, red));
  wick_tensor *b;
  WICK_TRY(wick_to(a, WICK_DTYPE_BOOL, a->device, false, &b));
  wick_status s = reduce_raw("count_nonzero", WICK_RED_SUM, b, red, false, WICK_DTYPE_I64, out);
  wick_tensor_release(b);
  return s;
}

/* sum(a) / n over the marked dims, a float; f16/bf16 sum into f32 so large sums do not
 * overflow before the division. */
static wick_status mean_mask(const char *name, const wick_tensor *a, const bool *red, bool keepdim,
                             wick_tensor **out) {
  wick_dtype acc = is_half(a->dtype) ? WICK_DTYPE_F32 : a->dtype;
  wick_tensor *sum = NULL, *n = NULL, *m = NULL;
  wick_status s;
  if ((s = reduce_raw(name, WICK_RED_SUM, a, red, keepdim, acc, &sum))) goto done;
  if ((s = wrapped((double)reduced_count(a, red), &n))) goto done;
  if ((s = wick_binary(WICK_BIN_DIV, sum, n, &m))) goto done;
  s = wick_to(m, a->dtype, m->device, false, out);
done:
  wick_tensor_release(sum);
  wick_tensor_release(n);
  wick_tensor_release(m);
  return s;
}

wick_status wick_mean_ex(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                         wick_dtype dtype, wick_tensor **out) {
  bool red[WICK_MAX_DIMS];
  WICK_TRY(mark_dims("mean", a, ndims, dims, red));
  if (dtype != WICK_DTYPE_NONE && !wick_dtype_is_float(dtype))
    return wick_errorf(WICK_ERR_DTYPE,
                       "mean: could not infer output dtype. Optional dtype must be a floating point "
                       "dtype. Got: %s", wick_dtype_name(dtype));
  if (dtype == WICK_DTYPE_NONE && !wick_dtype_is_float(a->dtype))
    return wick_errorf(WICK_ERR_DTYPE,
                       "mean: could not infer output dtype. Input dtype must be a floating point "
                       "dtype. Got: %s", wick_dtype_name(a->dtype));
  wick_tensor *ac;
  WICK_TRY(wick_to(a, dtype == WICK_DTYPE_NONE ? a->dtype : dtype, a->device, false, &ac));
  wick_status s = mean_mask("mean", ac, red, keepdim, out);
  wick_tensor_release(ac);
  return s;
}

wick_status wick_mean(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                      wick_tensor **out) {
  return wick_mean_ex(a, ndims, dims, keepdim, WICK_DTYPE_NONE, out);
}

/* Two passes (mean, then squared deviations) in the input's precision with double sums;
 * f16/bf16 work in f32. Divides by max(0, n - correction) like PyTorch (0 gives inf/nan). */
wick_status wick_var(const wick_tensor *a, int ndims, const int64_t *dims, double correction,
                     bool keepdim, bool take_sqrt, wick_tensor **out) {
  const char *name = take_sqrt ? "std" : "var";
  bool red[WICK_MAX_DIMS];
  WICK_TRY(mark_dims(name, a, ndims, dims, red));
  if (!wick_dtype_is_float(a->dtype))
    return wick_errorf(WICK_ERR_DTYPE, "%s: std and var only support floating point dtypes (got %s)",
                       name, wick_dtype_name(a->dtype));
  wick_dtype ct = is_half(a->dtype) ? WICK_DTYPE_F32 : a->dtype;
  double denom = (double)reduced_count(a, red) - correction;
  if (denom < 0) denom = 0;
  wick_tensor *ac = NULL, *m = NULL, *dev = NULL, *sum = NULL, *dn = NULL, *v = NULL;
  wick_status s;
  if ((s = wick_to(a, ct, a->device, false, &ac))) goto done;
  if ((s = mean_mask(name, ac, red, true, &m))) goto done;
  if ((s = wick_binary(WICK_BIN_SUB, ac, m, &dev))) goto done;
  if ((s = wick_unary_(WICK_UN_SQUARE, dev, 0, 0))) goto done;
  if ((s = reduce_raw(name, WICK_RED_SUM, dev, red, keepdim, ct, &sum))) goto done;
  if ((s = wrapped(denom, &dn))) goto done;
  if ((s = wick_binary(WICK_BIN_DIV, sum, dn, &v))) goto done;
  if (take_sqrt && (s = wick_unary_(WICK_UN_SQRT, v, 0, 0))) goto done;
  s = wick_to(v, a->dtype, v->device, false, out);
done:
  wick_tensor_release(ac); wick_tensor_release(m); wick_tensor_release(dev);
  wick_tensor_release(sum); wick_tensor_release(dn); wick_tensor_release(v);
  return s;
}

wick_status wick_argreduce(wick_redop op, const wick_tensor *a, bool has_dim, int64_t dim,
                           bool keepdim, wick_tensor **out) {
  if (op == WICK_RED_MAX) op = WICK_RED_ARGMAX;
  if (op == WICK_RED_MIN) op = WICK_RED_ARGMIN;
  const char *name = wick_redop_name(op);
  if (has_dim) return wick_reduce_ex(name, op, a, 1, &dim, keepdim, WICK_DTYPE_NONE, out);
  /* over the flattened tensor; keepdim gives a shape of ones */
  int64_t n = wick_tensor_numel(a);
  if (n == 0)
    return wick_errorf(WICK_ERR_SHAPE,
                       "%s: Expected reduction dim to be specified for input.numel() == 0.", name);
  bool red[WICK_MAX_DIMS] = {true};
  wick_tensor *flat = NULL, *o = NULL;
  wick_status s;
  if ((s = wick_reshape(a, 1, &n, &flat))) goto done;
  if ((s = reduce_raw(name, op, flat, red, false, WICK_DTYPE_I64, &o))) goto done;
  if (keepdim && a->ndim > 0) {
    int64_t ones[WICK_MAX_DIMS];
    for (int d = 0; d < a->ndim; d++) ones[d] = 1;
    wick_tensor *v;
    if ((s = wick_view(o, a->ndim, ones, &v))) goto done;
    wick_tensor_release(o);
    o = v;
  }
done:
  wick_tensor_release(flat);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

/* Two passes (values, then indices): the value at the first extreme index is the extreme. */
wick_status wick_reduce_with_indices(wick_redop op, const wick_tensor *a, int64_t dim, bool keepdim,
                                     wick_tensor **values, wick_tensor **indices) {
  bool is_max = op == WICK_RED_MAX || op == WICK_RED_ARGMAX;
  const char *name = is_max ? "max" : "min";
  wick_tensor *v;
  WICK_TRY(wick_reduce_ex(name, is_max ? WICK_RED_MAX : WICK_RED_MIN, a, 1, &dim, keepdim,
                          WICK_DTYPE_NONE, &v));
  wick_status s = wick_reduce_ex(name, is_max ? WICK_RED_ARGMAX : WICK_RED_ARGMIN, a, 1, &dim,
                                 keepdim, WICK_DTYPE_NONE, indices);
  if (s) { wick_tensor_release(v); return s; }
  *values = v;
  return WICK_OK;
}

wick_status wick_cumulative(const wick_tensor *a, int64_t dim, bool prod, wick_dtype dtype,
                            wick_tensor **out) {
  const char *name = prod ? "cumprod" : "cumsum";
  int d;
  WICK_TRY(wick_dim_wrap(name, dim, a->ndim, &d));
  const wick_backend *be;
  WICK_TRY(need_backend(name, a->device, true, &be));
  bool given = dtype != WICK_DTYPE_NONE;
  wick_dtype odt = given ? dtype : wick_dtype_is_float(a->dtype) ? a->dtype : WICK_DTYPE_I64;
  wick_tensor *ac = NULL, *o = NULL;
  wick_status s;
  if ((s = wick_to(a, given ? dtype : a->dtype, a->device, false, &ac))) goto done;
  if ((s = wick_tensor_new(odt, a->device, a->ndim, a->sizes, &o))) goto done;
  if (wick_tensor_numel(a) > 0) s = be->cumulative(o, ac, d, prod);
done:
  wick_tensor_release(ac);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

/* The device's fused softmax slot on a contiguous copy of a (CUDA: one pass, not seven). */
static wick_status fused_softmax(const wick_backend *be, const wick_tensor *a, int d, bool log,
                                 wick_tensor **out) {
  wick_tensor *c, *o = NULL;
  WICK_TRY(wick_contiguous(a, &c));
  wick_status s = wick_tensor_new(a->dtype, a->device, a->ndim, a->sizes, &o);
  if (!s) s = be->softmax(o, c, d, log);
  wick_tensor_release(c);
  if (s) { wick_tensor_release(o); return s; }
  *out = o;
  return WICK_OK;
}

/* softmax = exp(x - max) / sum(exp(x - max)); log_softmax = (x - max) - log(sum(...)).
 * Subtracting the row max keeps exp from overflowing. f16/bf16 compute in f32. Devices with a
 * softmax slot run it fused; the others (the CPU) compose it from reduce and elementwise ops. */
wick_status wick_softmax(const wick_tensor *a, int64_t dim, bool log, wick_tensor **out) {
  const char *name = log ? "log_softmax" : "softmax";
  int d;
  WICK_TRY(wick_dim_wrap(name, dim, a->ndim, &d));
  if (!wick_dtype_is_float(a->dtype))
    return wick_errorf(WICK_ERR_DTYPE, "%s: expected a floating point tensor (got %s)", name,
                       wick_dtype_name(a->dtype));
  if (wick_tensor_numel(a) == 0) return wick_tensor_new(a->dtype, a->device, a->ndim, a->sizes, out);
  const wick_backend *be;
  WICK_TRY(wick_backend_for(name, a->device, &be));
  if (be->softmax) return fused_softmax(be, a, d, log, out);
  bool red[WICK_MAX_DIMS] = {0};
  if (a->ndim > 0) red[d] = true;
  wick_dtype ct = is_half(a->dtype) ? WICK_DTYPE_F32 : a->dtype;
  wick_tensor *ac = NULL, *m = NULL, *sh = NULL, *e = NULL, *sum = NULL;
  wick_status s;
  if ((s = wick_to(a, ct, a->device, false, &ac))) goto done;
  if ((s = reduce_raw(name, WICK_RED_MAX, ac, red, true, ct, &m))) goto done;
  if ((s = wick_binary(WICK_BIN_SUB, ac, m, &sh))) goto done;
  if (log) {
    if ((s = wick_unary(WICK_UN_EXP, sh, 0, 0, &e))) goto done;
    if ((s = reduce_raw(name, WICK_RED_SUM, e, red, true, ct, &sum))) goto done;
    if ((s = wick_unary_(WICK_UN_LOG, sum, 0, 0))) goto done;
    if ((s = wick_binary_(WICK_BIN_SUB, sh, sum))) goto done;
  } else {
    if ((s = wick_unary_(WICK_UN_EXP, sh, 0, 0))) goto done;
    if ((s = reduce_raw(name, WICK_RED_SUM, sh, red, true, ct, &sum))) goto done;
    if ((s = wick_unary_(WICK_UN_RECIPROCAL, sum, 0, 0))) goto done; /* as PyTorch: x * (1/sum) */
    if ((s = wick_binary_(WICK_BIN_MUL, sh, sum))) goto done;
  }
  s = wick_to(sh, a->dtype, sh->device, false, out);
done:
  wick_tensor_release(ac); wick_tensor_release(m); wick_tensor_release(sh);
  wick_tensor_release(e); wick_tensor_release(sum);
  return s;
}

/* max + log(sum(exp(x - max))), with an infinite max replaced by 0 so that rows of -inf give
 * -inf and rows holding +inf give +inf (PyTorch's rule). Integer inputs give f32. */
wick_status wick_logsumexp(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                           wick_tensor **out) {
  const char *name = "logsumexp";
  bool red[WICK_MAX_DIMS];
  WICK_TRY(mark_dims(name, a, ndims, dims, red));
  wick_dtype rt = wick_dtype_is_float(a->dtype) ? a->dtype : WICK_DTYPE_F32;
  wick_dtype ct = is_half(rt) ? WICK_DTYPE_F32 : rt;
  wick_tensor *ac = NULL, *m = NULL, *inf = NULL, *zero = NULL, *ms = NULL, *sh = NULL,
              *sum = NULL, *r = NULL;
  wick_status s;
  if ((s = wick_to(a, ct, a->device, false, &ac))) goto done;
  if (reduced_count(a, red) == 0) { /* log(0) */
    if ((s = reduce_raw(name, WICK_RED_SUM, ac, red, keepdim, ct, &r))) goto done;
    if ((s = wick_fill_(r, -INFINITY, 0))) goto done;
  } else {
    if ((s = reduce_raw(name, WICK_RED_MAX, ac, red, true, ct, &m))) goto done;
    if ((s = wick_unary(WICK_UN_ISINF, m, 0, 0, &inf))) goto done;
    if ((s = wrapped(0, &zero))) goto done;
    if ((s = wick_where(inf, zero, m, &ms))) goto done;
    if ((s = wick_binary(WICK_BIN_SUB, ac, ms, &sh))) goto done;
    if ((s = wick_unary_(WICK_UN_EXP, sh, 0, 0))) goto done;
    if ((s = reduce_raw(name, WICK_RED_SUM, sh, red, true, ct, &sum))) goto done;
    if ((s = wick_unary_(WICK_UN_LOG, sum, 0, 0))) goto done;
    if ((s = wick_binary_(WICK_BIN_ADD, sum, ms))) goto done;
    if (keepdim) r = wick_tensor_retain(sum);
    else {
      int64_t sz[WICK_MAX_DIMS];
      int nd = kept_shape(a, red, false, sz);
      if ((s = wick_view(sum, nd, sz, &r))) goto done;
    }
  }
  s = wick_to(r, rt, r->device, false, out);
done:
  wick_tensor_release(ac); wick_tensor_release(m); wick_tensor_release(inf);
  wick_tensor_release(zero); wick_tensor_release(ms); wick_tensor_release(sh);
  wick_tensor_release(sum); wick_tensor_release(r);
  return s;
}

wick_status wick_norm(const wick_tensor *a, double p, int ndims, const int64_t *dims, bool keepdim,
                      wick_tensor **out) {
  const char *name = "norm";
  bool red[WICK_MAX_DIMS];
  WICK_TRY(mark_dims(name, a, ndims, dims, red));
  if (!wick_dtype_is_float(a->dtype))
    return wick_errorf(WICK_ERR_DTYPE, "norm: input dtype should be floating point (got %s)",
                       wick_dtype_name(a->dtype));
  if (isnan(p)) return wick_errorf(WICK_ERR_ARG, "norm: p must be a number (got nan)");
  wick_dtype ct = is_half(a->dtype) ? WICK_DTYPE_F32 : a->dtype;
  wick_tensor *ac = NULL, *t = NULL, *pw = NULL, *r = NULL, *q = NULL;
  wick_status s;
  if ((s = wick_to(a, ct, a->device, false, &ac))) goto done;
  if (p == 0) { /* the number of non-zeros, as a float */
    if ((s = wick_to(ac, WICK_DTYPE_BOOL, ac->device, false, &t))) goto done;
    s = reduce_raw(name, WICK_RED_SUM, t, red, keepdim, ct, &r);
  } else if (p == 2) {
    if ((s = wick_unary(WICK_UN_SQUARE, ac, 0, 0, &t))) goto done;
    if ((s = reduce_raw(name, WICK_RED_SUM, t, red, keepdim, ct, &r))) goto done;
    s = wick_unary_(WICK_UN_SQRT, r, 0, 0);
  } else {
    if ((s = wick_unary(WICK_UN_ABS, ac, 0, 0, &t))) goto done;
    if (isinf(p)) {
      if (reduced_count(a, red) == 0) { /* PyTorch: 0 for both signs of p */
        s = reduce_raw(name, WICK_RED_SUM, t, red, keepdim, ct, &r);
      } else {
        s = reduce_raw(name, p > 0 ? WICK_RED_MAX : WICK_RED_MIN, t, red, keepdim, ct, &r);
      }
    } else if (p == 1) {
      s = reduce_raw(name, WICK_RED_SUM, t, red, keepdim, ct, &r);
    } else {
      if ((s = wrapped(p, &q))) goto done;
      if ((s = wick_binary_(WICK_BIN_POW, t, q))) goto done;
      if ((s = reduce_raw(name, WICK_RED_SUM, t, red, keepdim, ct, &pw))) goto done;
      wick_tensor_release(q);
      q = NULL;
      if ((s = wrapped(1.0 / p, &q))) goto done;
      if ((s = wick_binary_(WICK_BIN_POW, pw, q))) goto done;
      r = wick_tensor_retain(pw);
    }
  }
  if (s) goto done;
  s = wick_to(r, a->dtype, r->device, false, out);
done:
  wick_tensor_release(ac); wick_tensor_release(t); wick_tensor_release(pw);
  wick_tensor_release(r); wick_tensor_release(q);
  return s;
}
