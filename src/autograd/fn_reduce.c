/* Differentiable reductions and softmax: the core op plus a node; gradients are broadcast
 * back over the reduced dims. Node ints: [0] op, [1] keepdim, [2] ndims, [3..] dims. */
#include <math.h>
#include <string.h>

#include "autograd.h"

/* Marks the reduced dims of an n-dim input (all when ndims == 0). */
static void reduced_mask(int n, int ndims, const int64_t *dims, bool *mask) {
  for (int i = 0; i < n; i++) mask[i] = ndims == 0;
  for (int i = 0; i < ndims; i++) mask[(dims[i] % n + n) % n] = true;
}

/* g (the output's gradient) viewed with the reduced dims kept as size 1. */
static wick_status keepdim_view(wick_node *n, const wick_tensor *g, wick_tensor **out) {
  const wick_input_meta *im = &n->in_meta[0];
  if (n->ints[1] || im->ndim == 0) { *out = wick_tensor_retain((wick_tensor *)g); return WICK_OK; }
  bool mask[WICK_MAX_DIMS];
  reduced_mask(im->ndim, (int)n->ints[2], n->ints + 3, mask);
  int64_t sizes[WICK_MAX_DIMS];
  for (int i = 0; i < im->ndim; i++) sizes[i] = mask[i] ? 1 : im->sizes[i];
  return wick_reshape(g, im->ndim, sizes, out);
}

/* g broadcast to the input's shape. */
static wick_status expand_back(wick_node *n, const wick_tensor *g, wick_tensor **out) {
  wick_tensor *k;
  WICK_TRY(keepdim_view(n, g, &k));
  const wick_input_meta *im = &n->in_meta[0];
  wick_status s = wick_expand(k, im->ndim, im->sizes, out);
  wick_tensor_release(k);
  return s;
}

static int64_t reduced_count(wick_node *n) {
  const wick_input_meta *im = &n->in_meta[0];
  bool mask[WICK_MAX_DIMS];
  reduced_mask(im->ndim, (int)n->ints[2], n->ints + 3, mask);
  int64_t c = 1;
  for (int i = 0; i < im->ndim; i++)
    if (mask[i]) c *= im->sizes[i];
  return c;
}

static wick_status scalar(wick_dtype dt, double v, wick_tensor **out) {
  WICK_TRY(wick_tensor_scalar(dt, v, (int64_t)v, out));
  (*out)->wrapped_number = true;
  return WICK_OK;
}

enum { R_SUM, R_MEAN, R_AMAX, R_AMIN, R_VAR, R_STD, R_LOGSUMEXP, R_NORM };

static wick_status reduce_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  int kind = (int)n->ints[0];
  wick_tensor *g = gout[0], *ge = NULL, *t1 = NULL, *t2 = NULL, *t3 = NULL, *c = NULL;
  wick_status s;
  if ((s = expand_back(n, g, &ge))) return s;
  switch (kind) {
    case R_SUM:
      gin[0] = ge;
      return WICK_OK;
    case R_MEAN:
      if (!(s = scalar(ge->dtype, 1.0 / (double)reduced_count(n), &c))) s = wick_binary(WICK_BIN_MUL, ge, c, &gin[0]);
      break;
    case R_AMAX:
    case R_AMIN: { /* ties share the gradient equally */
      wick_tensor *a, *y, *ye;
      if ((s = wick_node_saved(n, 0, &a)) || (s = wick_node_saved(n, 1, &y))) break;
      if ((s = expand_back(n, y, &ye))) break;
      s = wick_binary(WICK_BIN_EQ, a, ye, &t1);
      wick_tensor_release(ye);
      if (s || (s = wick_to(t1, ge->dtype, ge->device, false, &t2))) break;
      if ((s = wick_reduce(WICK_RED_SUM, t2, (int)n->ints[2], n->ints + 3, true, &t3))) break;
      wick_tensor *share;
      if ((s = wick_binary(WICK_BIN_DIV, t2, t3, &share))) break;
      s = wick_binary(WICK_BIN_MUL, ge, share, &gin[0]);
      wick_tensor_release(share);
      break;
    }
    case R_VAR:
    case R_STD: { /* var: 2 (a - mean) / (N - c);  std: (a - mean) / ((N - c) std) */
      wick_tensor *a, *mean, *y;
      if ((s = wick_node_saved(n, 0, &a)) || (s = wick_node_saved(n, 1, &mean))) break;
      double denom = (double)reduced_count(n) - n->scalars[0];
      if ((s = wick_binary(WICK_BIN_SUB, a, mean, &t1))) break;
      if ((s = scalar(t1->dtype, (kind == R_VAR ? 2.0 : 1.0) / denom, &c))) break;
      if ((s = wick_binary(WICK_BIN_MUL, t1, c, &t2))) break;
      if (kind == R_STD) {
        wick_tensor *ye;
        if ((s = wick_node_saved(n, 2, &y)) || (s = expand_back(n, y, &ye))) break;
        s = wick_binary(WICK_BIN_DIV, t2, ye, &t3);
        wick_tensor_release(ye);
        if (s) break;
        s = wick_binary(WICK_BIN_MUL, ge, t3, &gin[0]);
      } else {
        s = wick_binary(WICK_BIN_MUL, ge, t2, &gin[0]);
      }
      break;
    }
    case R_LOGSUMEXP: { /* g * exp(a - y) */
      wick_tensor *a, *y, *ye;
      if ((s = wick_node_saved(n, 0, &a)) || (s = wick_node_saved(n, 1, &y))) break;
      if ((s = expand_back(n, y, &ye))) break;
      s = wick_binary(WICK_BIN_SUB, a, ye, &t1);
      wick_tensor_release(ye);
      if (s || (s = wick_unary(WICK_UN_EXP, t1, 0, 0, &t2))) break;
      s = wick_binary(WICK_BIN_MUL, ge, t2, &gin[0]);
      break;
    }
    case R_NORM: { /* p = 2: g a / y (0 where y == 0); p = 1: g sign(a); else g a |a|^(p-2) / y^(p-1) */
      wick_tensor *a, *y, *ye;
      double p = n->scalars[0];
      if ((s = wick_node_saved(n, 0, &a)) || (s = wick_node_saved(n, 1, &y))) break;
      if (p == 1.0) {
        if ((s = wick_unary(WICK_UN_SIGN, a, 0, 0, &t1))) break;
        s = wick_binary(WICK_BIN_MUL, ge, t1, &gin[0]);
        break;
      }
      if ((s = expand_back(n, y, &ye))) break;
      if (p == 2.0) {
        s = wick_binary(WICK_BIN_DIV, a, ye, &t1);
      } else {
        wick_tensor *abs_a, *pw, *ypw, *e1, *e2;
        s = wick_unary(WICK_UN_ABS, a, 0, 0, &abs_a);
        if (!s && !(s = scalar(a->dtype, p - 2, &e1))) {
          s = wick_binary(WICK_BIN_POW, abs_a, e1, &pw);
          wick_tensor_release(e1);
          if (!s && !(s = scalar(a->dtype, p - 1, &e2))) {
            s = wick_binary(WICK_BIN_POW, ye, e2, &ypw);
            wick_tensor_release(e2);
            if (!s) {
              wick_tensor *num;
              s = wick_binary(WICK_BIN_MUL, a, pw, &num);
              if (!s) { s = wick_binary(WICK_BIN_DIV, num, ypw, &t1); wick_tensor_release(num); }
              wick_tensor_release(ypw);
            }
            wick_tensor_release(pw);
          }
        }
        if (abs_a) wick_tensor_release(abs_a);
      }
      if (!s) { /* y == 0 gives 0/0: PyTorch's subgradient there is 0 */
        wick_tensor *zero, *mask;
        if (!(s = scalar(t1->dtype, 0, &zero))) {
          s = wick_binary(WICK_BIN_EQ, ye, zero, &mask);
          if (!s) { s = wick_where(mask, zero, t1, &t2); wick_tensor_release(mask); }
          wick_tensor_release(zero);
        }
      }
      wick_tensor_release(ye);
      if (!s) s = wick_binary(WICK_BIN_MUL, ge, t2, &gin[0]);
      break;
    }
    default:
      s = wick_errorf(WICK_ERR_UNSUPPORTED, "%s: no gradient", n->name);
  }
  wick_tensor_release(ge);
  wick_tensor_release(t1);
  wick_tensor_release(t2);
  wick_tensor_release(t3);
  wick_tensor_release(c);
  return s;
}

static const char *const reduce_names[] = {
  "SumBackward0", "MeanBackward0", "AmaxBackward0", "AminBackward0", "VarBackward0",
  "StdBackward0", "LogsumexpBackward0", "NormBackward0",
};

/* Records a reduction node; saves are the tensors its backward needs (NULL-terminated). */
static wick_status record(int kind, const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                          double scalar0, wick_tensor *out, const wick_tensor *const *saves) {
  if (!wick_ag_needed(1, &a) || !wick_dtype_is_float(out->dtype)) return WICK_OK;
  wick_node *n;
  WICK_TRY(wick_node_new(reduce_names[kind], reduce_backward, 1, &a, 1, &n));
  n->ints[0] = kind;
  n->ints[1] = keepdim;
  n->ints[2] = ndims;
  if (ndims) memcpy(n->ints + 3, dims, sizeof(int64_t) * (size_t)ndims);
  n->scalars[0] = scalar0;
  wick_status s = WICK_OK;
  for (int i = 0; saves && saves[i] && !s; i++) s = wick_node_save(n, saves[i]);
  if (!s) wick_set_history(out, n, 0);
  wick_node_release(n);
  return s;
}

#define FINISH(expr) return wick_ag_done((expr), out)

wick_status wick_ag_reduce(const char *name, wick_redop op, const wick_tensor *a, int ndims,
                           const int64_t *dims, bool keepdim, wick_dtype dtype, wick_tensor **out) {
  WICK_TRY(wick_reduce_ex(name, op, a, ndims, dims, keepdim, dtype, out));
  if (op == WICK_RED_SUM) FINISH(record(R_SUM, a, ndims, dims, keepdim, 0, *out, NULL));
  if (op == WICK_RED_MAX || op == WICK_RED_MIN) {
    const wick_tensor *saves[] = {a, *out, NULL};
    FINISH(record(op == WICK_RED_MAX ? R_AMAX : R_AMIN, a, ndims, dims, keepdim, 0, *out, saves));
  }
  if (op == WICK_RED_PROD && wick_ag_needed(1, &a)) {
    wick_tensor_release(*out);
    *out = NULL;
    return wick_errorf(WICK_ERR_UNSUPPORTED, "prod: backward is not implemented yet; compute it under wick.no_grad");
  }
  return WICK_OK;
}

wick_status wick_ag_mean(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                         wick_dtype dtype, wick_tensor **out) {
  WICK_TRY(wick_mean_ex(a, ndims, dims, keepdim, dtype, out));
  FINISH(record(R_MEAN, a, ndims, dims, keepdim, 0, *out, NULL));
}

wick_status wick_ag_var(const wick_tensor *a, int ndims, const int64_t *dims, double correction,
                        bool keepdim, bool take_sqrt, wick_tensor **out) {
  WICK_TRY(wick_var(a, ndims, dims, correction, keepdim, take_sqrt, out));
  if (!wick_ag_needed(1, &a)) return WICK_OK;
  wick_tensor *mean;
  wick_status s = wick_mean(a, ndims, dims, true, &mean);
  if (!s) {
    const wick_tensor *saves[] = {a, mean, take_sqrt ? *out : NULL, NULL};
    s = record(take_sqrt ? R_STD : R_VAR, a, ndims, dims, keepdim, correction, *out, saves);
    wick_tensor_release(mean);
  }
  FINISH(s);
}

wick_status wick_ag_logsumexp(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                              wick_tensor **out) {
  WICK_TRY(wick_logsumexp(a, ndims, dims, keepdim, out));
  const wick_tensor *saves[] = {a, *out, NULL};
  FINISH(record(R_LOGSUMEXP, a, ndims, dims, keepdim, 0, *out, saves));
}

wick_status wick_ag_norm(const wick_tensor *a, double p, int ndims, const int64_t *dims, bool keepdim,
                         wick_tensor **out) {
  WICK_TRY(wick_norm(a, p, ndims, dims, keepdim, out));
  if (wick_ag_needed(1, &a) && (isinf(p) || p == 0)) {
    wick_tensor_release(*out);
    *out = NULL;
    return wick_errorf(WICK_ERR_UNSUPPORTED, "norm: backward for p = %g is not implemented yet", p);
  }
  const wick_tensor *saves[] = {a, *out, NULL};
  FINISH(record(R_NORM, a, ndims, dims, keepdim, p, *out, saves));
}

/* ---- max/min along a dim: the gradient goes to the selected index ---- */

static wick_status select_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *idx, *gk = NULL, *ik = NULL, *z = NULL;
  WICK_TRY(wick_node_saved(n, 0, &idx));
  const wick_input_meta *im = &n->in_meta[0];
  int64_t dim = n->ints[3];
  wick_status s;
  if ((s = keepdim_view(n, gout[0], &gk)) || (s = keepdim_view(n, idx, &ik))) goto done;
  if ((s = wick_tensor_zeros(gk->dtype, gk->device, im->ndim, im->sizes, &z))) goto done;
  if ((s = wick_scatter_(z, dim, ik, gk, 1))) goto done;
  gin[0] = z;
  z = NULL;
done:
  wick_tensor_release(gk);
  wick_tensor_release(ik);
  wick_tensor_release(z);
  return s;
}

wick_status wick_ag_reduce_with_indices(wick_redop op, const wick_tensor *a, int64_t dim, bool keepdim,
                                        wick_tensor **values, wick_tensor **indices) {
  WICK_TRY(wick_reduce_with_indices(op, a, dim, keepdim, values, indices));
  if (!wick_ag_needed(1, &a) || !wick_dtype_is_float(a->dtype) || a->ndim == 0) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new(op == WICK_RED_MAX ? "MaxBackward0" : "MinBackward0", select_backward, 1, &a, 1, &n);
  if (!s) {
    n->ints[1] = keepdim;
    n->ints[2] = 1;
    n->ints[3] = (dim % a->ndim + a->ndim) % a->ndim;
    if (!(s = wick_node_save(n, *indices))) wick_set_history(*values, n, 0);
    wick_node_release(n);
  }
  if (s) {
    wick_tensor_release(*values); wick_tensor_release(*indices);
    *values = *indices = NULL;
  }
  return s;
}

/* ---- softmax / log_softmax ---- */

/* The device's fused softmax_backward slot on contiguous g and y of one shape and dtype. */
static wick_status fused_softmax_backward(const wick_backend *be, const wick_tensor *g,
                                          const wick_tensor *y, int dim, bool log, wick_tensor **gin) {
  wick_tensor *gc = NULL, *yc = NULL, *r = NULL;
  wick_status s = wick_contiguous(g, &gc);
  if (!s) s = wick_contiguous(y, &yc);
  if (!s) s = wick_tensor_new(y->dtype, y->device, y->ndim, y->sizes, &r);
  if (!s) s = be->softmax_backward(r, gc, yc, dim, log);
  wick_tensor_release(gc);
  wick_tensor_release(yc);
  if (s) { wick_tensor_release(r); return s; }
  *gin = r;
  return WICK_OK;
}

static wick_status softmax_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *y, *g = gout[0], *t1 = NULL, *t2 = NULL, *t3 = NULL;
  WICK_TRY(wick_node_saved(n, 0, &y));
  int64_t dim = n->ints[0];
  const wick_backend *be = wick_backend_get(y->device.type);
  if (be && be->softmax_backward && g->dtype == y->dtype && wick_shape_eq(g, y) &&
      wick_device_eq(g->device, y->device) && wick_tensor_numel(y) > 0)
    return fused_softmax_backward(be, g, y, (int)dim, n->ints[1] != 0, &gin[0]);
  wick_status s;
  if (n->ints[1]) { /* log_softmax: g - exp(y) * sum(g) */
    if ((s = wick_reduce(WICK_RED_SUM, g, 1, &dim, true, &t1))) goto done;
    if ((s = wick_unary(WICK_UN_EXP, y, 0, 0, &t2))) goto done;
    if ((s = wick_binary(WICK_BIN_MUL, t2, t1, &t3))) goto done;
    s = wick_binary(WICK_BIN_SUB, g, t3, &gin[0]);
  } else { /* softmax: y * (g - sum(g * y)) */
    if ((s = wick_binary(WICK_BIN_MUL, g, y, &t1))) goto done;
    if ((s = wick_reduce(WICK_RED_SUM, t1, 1, &dim, true, &t2))) goto done;
    if ((s = wick_binary(WICK_BIN_SUB, g, t2, &t3))) goto done;
    s = wick_binary(WICK_BIN_MUL, y, t3, &gin[0]);
  }
done:
  wick_tensor_release(t1);
  wick_tensor_release(t2);
  wick_tensor_release(t3);
  return s;
}

wick_status wick_ag_softmax(const wick_tensor *a, int64_t dim, bool log, wick_tensor **out) {
  WICK_TRY(wick_softmax(a, dim, log, out));
  if (!wick_ag_needed(1, &a)) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new(log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", softmax_backward, 1, &a, 1, &n);
  if (!s) {
    n->ints[0] = a->ndim ? (dim % a->ndim + a->ndim) % a->ndim : 0;
    n->ints[1] = log;
    if (!(s = wick_node_save(n, *out))) wick_set_history(*out, n, 0);
    wick_node_release(n);
  }
  FINISH(s);
}

/* ---- cumsum: the gradient is the reversed cumulative sum of g ---- */

static wick_status cumsum_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *g = gout[0], *total = NULL, *cs = NULL, *t = NULL;
  int64_t dim = n->ints[0];
  wick_status s;
  /* rev_cumsum(g)[i] = sum(g) - cumsum(g)[i] + g[i] */
  if ((s = wick_reduce(WICK_RED_SUM, g, 1, &dim, true, &total))) goto done;
  if ((s = wick_cumulative(g, dim, false, g->dtype, &cs))) goto done;
  if ((s = wick_binary(WICK_BIN_SUB, total, cs, &t))) goto done;
  s = wick_binary(WICK_BIN_ADD, t, g, &gin[0]);
done:
  wick_tensor_release(total);
  wick_tensor_release(cs);
  wick_tensor_release(t);
  return s;
}

wick_status wick_ag_cumsum(const wick_tensor *a, int64_t dim, wick_dtype dtype, wick_tensor **out) {
  WICK_TRY(wick_cumulative(a, dim, false, dtype, out));
  if (!wick_ag_needed(1, &a) || !wick_dtype_is_float((*out)->dtype)) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new("CumsumBackward0", cumsum_backward, 1, &a, 1, &n);
  if (!s) {
    n->ints[0] = a->ndim ? (dim % a->ndim + a->ndim) % a->ndim : 0;
    wick_set_history(*out, n, 0);
    wick_node_release(n);
  }
  FINISH(s);
}
