/* Losses: cross entropy (fused log_softmax + nll, class or probability targets, weights,
 * ignore_index, label smoothing), nll, and the elementwise losses (mse, l1, binary cross
 * entropy with logits). Argument checks with PyTorch's wording; reductions and the mean's
 * denominators follow aten/src/ATen/native/LossNLL.cpp: with class targets both the nll and
 * the smoothing term are divided by the summed weights of the kept (not ignored) positions;
 * with probability targets by the number of positions. The kernels are the device row's
 * slots; the per-position values they hand back are summed on the host (a few doubles per
 * sample), so the loss scale is known here as PyTorch knows it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_check.h"

/* The [N, C, S] view of logits: [C] (unbatched) is N = S = 1. */
typedef struct { int64_t N, C, S; bool unbatched; } ce_dims;

static wick_status ce_dims_of(const char *op, const wick_tensor *x, ce_dims *d) {
  if (x->ndim < 1) {
    char b[128];
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected input with at least 1 dim, but got input of size: %s", op,
                       wick_nn_shape(x, b, sizeof b));
  }
  d->unbatched = x->ndim == 1;
  d->N = d->unbatched ? 1 : x->sizes[0];
  d->C = x->sizes[d->unbatched ? 0 : 1];
  d->S = 1;
  for (int i = 2; i < x->ndim; i++) d->S *= x->sizes[i];
  return WICK_OK;
}

/* Shape of class targets / unreduced losses: logits' shape without the class dim. */
static int target_shape(const wick_tensor *x, int64_t *sizes) {
  if (x->ndim == 1) return 0;
  sizes[0] = x->sizes[0];
  for (int i = 2; i < x->ndim; i++) sizes[i - 1] = x->sizes[i];
  return x->ndim - 1;
}

/* Checks class targets: i64, the right shape, every value in [0, C) or ignore_index. */
static wick_status check_class_target(const char *op, const wick_tensor *x, const wick_tensor *t,
                                      const ce_dims *d, int64_t ignore_index) {
  char b1[128], b2[128], b3[128];
  if (t->dtype != WICK_DTYPE_I64)
    return wick_errorf(WICK_ERR_DTYPE, "%s: expected target of dtype i64 (class indices)%s, but got %s", op,
                       strcmp(op, "cross_entropy") == 0 ? " or a floating dtype (probabilities)" : "",
                       wick_dtype_name(t->dtype));
  int64_t sizes[WICK_MAX_DIMS];
  int n = target_shape(x, sizes);
  if (!d->unbatched && t->ndim >= 1 && t->sizes[0] != d->N)
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected input batch_size (%lld) to match target batch_size (%lld)", op,
                       (long long)d->N, (long long)t->sizes[0]);
  if (t->ndim != n || memcmp(t->sizes, sizes, sizeof(int64_t) * (size_t)n))
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected target of size %s for input of size %s, but got %s", op,
                       wick_shape_str(n, sizes, b1, sizeof b1), wick_nn_shape(x, b2, sizeof b2),
                       wick_shape_str(t->ndim, t->sizes, b3, sizeof b3));
  return WICK_OK;
}

/* A host copy of t (t itself, retained, when it is on the CPU). */
static wick_status on_host(const wick_tensor *t, wick_tensor **out) {
  return wick_to(t, t->dtype, wick_cpu(), false, out);
}

/* Checked on a host copy so that a bad target is an error on every device, never a fault. */
static wick_status check_target_values(const char *op, const wick_tensor *tc, int64_t C, int64_t ignore_index) {
  wick_tensor *h;
  WICK_TRY(on_host(tc, &h));
  const int64_t *p = wick_tensor_data(h);
  int64_t n = wick_tensor_numel(h);
  wick_status s = WICK_OK;
  for (int64_t i = 0; i < n && !s; i++)
    if (p[i] != ignore_index && (p[i] < 0 || p[i] >= C))
      s = wick_errorf(WICK_ERR_INDEX, "%s: target %lld is out of bounds for %lld classes", op, (long long)p[i],
                      (long long)C);
  wick_tensor_release(h);
  return s;
}

/* n f64 per-position values on x's device (k of them, NULL where want[i] is false). */
static wick_status f64_bufs(const wick_tensor *x, int64_t n, int k, const bool *want, wick_tensor **out) {
  for (int i = 0; i < k; i++) out[i] = NULL;
  for (int i = 0; i < k; i++) {
    if (!want[i]) continue;
    wick_status s = wick_tensor_new(WICK_DTYPE_F64, x->device, 1, &n, &out[i]);
    if (s) { wick_nn_release(k, out); return s; }
  }
  return WICK_OK;
}

/* Host copies of the k per-position buffers, and their data (NULL where absent). */
static wick_status bufs_on_host(int k, wick_tensor **dev, wick_tensor **host, double **data) {
  for (int i = 0; i < k; i++) { host[i] = NULL; data[i] = NULL; }
  for (int i = 0; i < k; i++) {
    if (!dev[i]) continue;
    wick_status s = on_host(dev[i], &host[i]);
    if (s) { wick_nn_release(k, host); return s; }
    data[i] = wick_tensor_data(host[i]);
  }
  return WICK_OK;
}

static wick_status check_common(const char *op, const wick_tensor *x, const wick_tensor *target,
                                const wick_ce_opts *o, const ce_dims *d) {
  WICK_TRY(wick_nn_check_float(op, "input", x, NULL));
  WICK_TRY(wick_check_same_device(op, x->device, target->device));
  if (o->weight) {
    if (o->weight->ndim != 1 || o->weight->sizes[0] != d->C) {
      char b[128];
      return wick_errorf(WICK_ERR_SHAPE, "%s: weight tensor should be defined either for all %lld classes or no "
                         "classes but got weight tensor of shape: %s", op, (long long)d->C,
                         wick_nn_shape(o->weight, b, sizeof b));
    }
    WICK_TRY(wick_nn_check_float(op, "weight", o->weight, x));
  }
  if (!(o->label_smoothing >= 0 && o->label_smoothing <= 1))
    return wick_errorf(WICK_ERR_ARG, "%s: label_smoothing must be between 0.0 and 1.0. Got: %g", op, o->label_smoothing);
  return WICK_OK;
}

/* A 0-d tensor of x's dtype holding v. */
static wick_status scalar_of(const wick_tensor *x, double v, wick_tensor **out) {
  return wick_tensor_scalar(x->dtype, v, (int64_t)v, out);
}

/* p * (1 - ls) + ls / C */
static wick_status smooth_probs(const wick_tensor *p, double ls, int64_t C, wick_tensor **out) {
  wick_tensor *a, *b, *t;
  WICK_TRY(scalar_of(p, 1 - ls, &a));
  wick_status s = scalar_of(p, ls / (double)C, &b);
  if (s) { wick_tensor_release(a); return s; }
  a->wrapped_number = b->wrapped_number = true;
  s = wick_binary(WICK_BIN_MUL, p, a, &t);
  if (!s) {
    s = wick_binary(WICK_BIN_ADD, t, b, out);
    wick_tensor_release(t);
  }
  wick_tensor_release(a);
  wick_tensor_release(b);
  return s;
}

/* The loss tensor, on x's device, from per-position values v (unreduced) or a single value. */
static wick_status loss_out(const wick_tensor *x, wick_reduction r, const double *v, int64_t n, double total,
                            wick_tensor **out) {
  wick_tensor *h;
  if (r != WICK_REDUCTION_NONE) {
    WICK_TRY(scalar_of(x, total, &h));
  } else {
    int64_t sizes[WICK_MAX_DIMS];
    int nd = target_shape(x, sizes);
    WICK_TRY(wick_tensor_new(x->dtype, wick_cpu(), nd, sizes, &h));
    void *p = wick_tensor_data(h);
    for (int64_t i = 0; i < n; i++) wick_store_f64((char *)p + i * (int64_t)wick_dtype_size(x->dtype), x->dtype, v[i]);
  }
  if (x->device.type == WICK_DEVICE_CPU) { *out = h; return WICK_OK; }
  wick_status s = wick_to(h, x->dtype, x->device, false, out);
  wick_tensor_release(h);
  return s;
}

wick_status wick_cross_entropy(const wick_tensor *logits, const wick_tensor *target,
                               const wick_ce_opts *o, wick_tensor **out, wick_tensor **lse,
                               wick_loss_scale *scale) {
  const char *op = "cross_entropy";
  ce_dims d = {0, 0, 0, false};
  WICK_TRY(ce_dims_of(op, logits, &d));
  WICK_TRY(check_common(op, logits, target, o, &d));
  const wick_backend *be;
  WICK_TRY(wick_nn_backend(op, logits, &be));
  WICK_NEED_SLOT(be, cross_entropy, op);
  bool prob = wick_dtype_is_float(target->dtype);
  if (prob) {
    if (!wick_shape_eq(target, logits)) {
      char b1[128], b2[128];
      return wick_errorf(WICK_ERR_SHAPE, "%s: expected probability targets of the input's size %s, but got %s", op,
                         wick_nn_shape(logits, b1, sizeof b1), wick_nn_shape(target, b2, sizeof b2));
    }
    WICK_TRY(wick_nn_check_float(op, "target", target, logits));
  } else {
    WICK_TRY(check_class_target(op, logits, target, &d, o->ignore_index));
  }
  const wick_tensor *ins[3] = {logits, target, o->weight};
  wick_tensor *c[3], *p = NULL, *l = NULL, *dv[3] = {NULL, NULL, NULL}, *hv[3] = {NULL, NULL, NULL};
  WICK_TRY(wick_nn_contig(3, ins, c));
  int64_t NS = d.N * d.S;
  double ls = o->label_smoothing, *hd[3];
  bool want[3] = {true, !prob && ls > 0, true}; /* nll, smooth, wt */
  wick_status s = WICK_OK;
  if (!prob) s = check_target_values(op, c[1], d.C, o->ignore_index);
  if (!s && prob && ls > 0) s = smooth_probs(c[1], ls, d.C, &p);
  if (!s) s = wick_tensor_new(logits->dtype, logits->device, 1, &NS, &l);
  if (!s) s = f64_bufs(logits, NS, 3, want, dv);
  if (s) goto done;
  wick_ce_args a = {d.N, d.C, d.S, prob ? NULL : c[1], prob ? (p ? p : c[1]) : NULL, c[2], o->ignore_index};
  if ((s = be->cross_entropy(&a, c[0], l, dv[0], dv[1], dv[2]))) goto done;
  if ((s = bufs_on_host(3, dv, hv, hd))) goto done;
  double *nll = hd[0], *sm = hd[1], *wt = hd[2];
  double tn = 0, tsm = 0, twt = 0;
  for (int64_t i = 0; i < NS; i++) {
    tn += nll[i];
    if (!prob) twt += wt[i];
    if (!prob && ls > 0) tsm += sm[i];
  }
  double C = (double)d.C, total;
  if (prob) {
    scale->a = o->reduction == WICK_REDUCTION_MEAN ? 1.0 / (double)NS : 1.0;
    scale->b = 0;
    total = tn * scale->a;
  } else {
    double ka = 1 - ls, kb = ls / C;
    if (o->reduction == WICK_REDUCTION_MEAN) {
      ka /= twt; /* the kept positions' weights (their count when unweighted) */
      kb /= twt;
    }
    scale->a = ka;
    scale->b = ls > 0 ? kb : 0;
    total = ka * tn + (ls > 0 ? kb * tsm : 0);
    if (o->reduction == WICK_REDUCTION_NONE)
      for (int64_t i = 0; i < NS; i++) nll[i] = (1 - ls) * nll[i] + (ls > 0 ? ls / C * sm[i] : 0);
  }
  s = loss_out(logits, o->reduction, nll, NS, total, out);
done:
  wick_nn_release(3, dv);
  wick_nn_release(3, hv);
  wick_nn_release(3, c);
  wick_tensor_release(p);
  if (s) { wick_tensor_release(l); return s; }
  *lse = l;
  return WICK_OK;
}

/* g as a contiguous tensor of x's dtype, and its stride over positions (0: one value). */
static wick_status grad_in(const wick_tensor *g, const wick_tensor *x, wick_reduction r, wick_tensor **out,
                           int64_t *gstride) {
  wick_tensor *t;
  WICK_TRY(wick_to(g, x->dtype, x->device, false, &t));
  wick_status s = wick_contiguous(t, out);
  wick_tensor_release(t);
  *gstride = r == WICK_REDUCTION_NONE ? 1 : 0;
  return s;
}

wick_status wick_cross_entropy_backward(const wick_tensor *g, const wick_tensor *logits,
                                        const wick_tensor *target, const wick_ce_opts *o,
                                        const wick_tensor *lse, wick_loss_scale scale,
                                        bool need_in, bool need_target, wick_tensor **gin,
                                        wick_tensor **gt) {
  ce_dims d = {0, 0, 0, false};
  WICK_TRY(ce_dims_of("cross_entropy", logits, &d));
  const wick_backend *be;
  WICK_TRY(wick_check_same_device("cross_entropy", logits->device, g->device));
  WICK_TRY(wick_nn_backend("cross_entropy", logits, &be));
  WICK_NEED_SLOT(be, cross_entropy_backward, "cross_entropy");
  bool prob = wick_dtype_is_float(target->dtype);
  need_target = need_target && prob;
  const wick_tensor *ins[3] = {logits, target, o->weight};
  wick_tensor *c[3], *gc = NULL, *p = NULL, *r[2] = {NULL, NULL};
  int64_t gs;
  WICK_TRY(wick_nn_contig(3, ins, c));
  wick_status s = grad_in(g, logits, o->reduction, &gc, &gs);
  if (!s && prob && o->label_smoothing > 0) s = smooth_probs(c[1], o->label_smoothing, d.C, &p);
  if (!s && (need_in || !prob)) s = wick_tensor_new(logits->dtype, logits->device, logits->ndim, logits->sizes, &r[0]);
  if (!s && need_target) s = wick_tensor_new(logits->dtype, logits->device, logits->ndim, logits->sizes, &r[1]);
  if (!s) {
    wick_ce_args a = {d.N, d.C, d.S, prob ? NULL : c[1], prob ? (p ? p : c[1]) : NULL, c[2], o->ignore_index};
    s = be->cross_entropy_backward(&a, r[0], r[1], gc, gs, c[0], lse, scale.a, scale.b);
  }
  if (!s && r[1] && o->label_smoothing > 0) { /* d p' / d p = 1 - ls */
    wick_tensor *k;
    if (!(s = scalar_of(logits, 1 - o->label_smoothing, &k))) {
      s = wick_binary_(WICK_BIN_MUL, r[1], k);
      wick_tensor_release(k);
    }
  }
  wick_nn_release(3, c);
  wick_tensor_release(gc);
  wick_tensor_release(p);
  if (s) { wick_nn_release(2, r); return s; }
  if (!need_in) wick_nn_release(1, r);
  *gin = r[0];
  *gt = r[1];
  return WICK_OK;
}

wick_status wick_nll_loss(const wick_tensor *log_probs, const wick_tensor *target,
                          const wick_ce_opts *o, wick_tensor **out, wick_loss_scale *scale) {
  const char *op = "nll_loss";
  ce_dims d = {0, 0, 0, false};
  WICK_TRY(ce_dims_of(op, log_probs, &d));
  WICK_TRY(check_common(op, log_probs, target, o, &d));
  WICK_TRY(check_class_target(op, log_probs, target, &d, o->ignore_index));
  const wick_backend *be;
  WICK_TRY(wick_nn_backend(op, log_probs, &be));
  WICK_NEED_SLOT(be, nll_loss, op);
  const wick_tensor *ins[3] = {log_probs, target, o->weight};
  wick_tensor *c[3], *dv[2] = {NULL, NULL}, *hv[2] = {NULL, NULL};
  WICK_TRY(wick_nn_contig(3, ins, c));
  int64_t NS = d.N * d.S;
  bool want[2] = {true, true};
  double *hd[2];
  wick_status s = check_target_values(op, c[1], d.C, o->ignore_index);
  if (!s) s = f64_bufs(log_probs, NS, 2, want, dv);
  if (!s) {
    wick_ce_args a = {d.N, d.C, d.S, c[1], NULL, c[2], o->ignore_index};
    s = be->nll_loss(&a, c[0], dv[0], dv[1]);
  }
  if (!s) s = bufs_on_host(2, dv, hv, hd);
  if (!s) {
    double tn = 0, twt = 0;
    for (int64_t i = 0; i < NS; i++) { tn += hd[0][i]; twt += hd[1][i]; }
    scale->a = o->reduction == WICK_REDUCTION_MEAN ? 1.0 / twt : 1.0;
    scale->b = 0;
    s = loss_out(log_probs, o->reduction, hd[0], NS, tn * scale->a, out);
  }
  wick_nn_release(2, dv);
  wick_nn_release(2, hv);
  wick_nn_release(3, c);
  return s;
}

wick_status wick_nll_loss_backward(const wick_tensor *g, const wick_tensor *log_probs,
                                   const wick_tensor *target, const wick_ce_opts *o,
                                   wick_loss_scale scale, wick_tensor **gin) {
  ce_dims d = {0, 0, 0, false};
  WICK_TRY(ce_dims_of("nll_loss", log_probs, &d));
  const wick_backend *be;
  WICK_TRY(wick_check_same_device("nll_loss", log_probs->device, g->device));
  WICK_TRY(wick_nn_backend("nll_loss", log_probs, &be));
  WICK_NEED_SLOT(be, nll_loss_backward, "nll_loss");
  const wick_tensor *ins[2] = {target, o->weight};
  wick_tensor *c[2], *gc = NULL, *r = NULL;
  int64_t gs;
  WICK_TRY(wick_nn_contig(2, ins, c));
  wick_status s = grad_in(g, log_probs, o->reduction, &gc, &gs);
  if (!s) s = wick_tensor_new(log_probs->dtype, log_probs->device, log_probs->ndim, log_probs->sizes, &r);
  if (!s) {
    wick_ce_args a = {d.N, d.C, d.S, c[0], NULL, c[1], o->ignore_index};
    s = be->nll_loss_backward(&a, r, gc, gs, scale.a);
  }
  wick_nn_release(2, c);
  wick_tensor_release(gc);
  if (s) { wick_tensor_release(r); return s; }
  *gin = r;
  return WICK_OK;
}

/* ---- elementwise losses ---- */

/* The operands (input, target, weight, pos_weight) expanded to their common shape, made
 * contiguous; c[2], c[3] stay NULL when absent. */
static wick_status elem_operands(wick_loss_kind kind, const wick_tensor *const *ins, wick_tensor **c,
                                 int *nd, int64_t *shape) {
  const char *op = wick_loss_name(kind);
  char b1[128], b2[128];
  WICK_TRY(wick_nn_check_float(op, "input", ins[0], NULL));
  WICK_TRY(wick_nn_check_float(op, "target", ins[1], ins[0]));
  if (kind == WICK_LOSS_BCE_LOGITS && !wick_shape_eq(ins[0], ins[1]))
    return wick_errorf(WICK_ERR_SHAPE, "%s: target size %s must be the same as input size %s", op,
                       wick_nn_shape(ins[1], b1, sizeof b1), wick_nn_shape(ins[0], b2, sizeof b2));
  *nd = ins[0]->ndim;
  memcpy(shape, ins[0]->sizes, sizeof(int64_t) * (size_t)*nd);
  for (int i = 1; i < 4; i++) {
    if (!ins[i]) continue;
    if (i >= 2) WICK_TRY(wick_nn_check_float(op, i == 2 ? "weight" : "pos_weight", ins[i], ins[0]));
    int64_t tmp[WICK_MAX_DIMS];
    int tn;
    WICK_TRY(wick_broadcast_shapes(op, *nd, shape, ins[i]->ndim, ins[i]->sizes, &tn, tmp));
    *nd = tn;
    memcpy(shape, tmp, sizeof(int64_t) * (size_t)tn);
  }
  for (int i = 0; i < 4; i++) c[i] = NULL;
  for (int i = 0; i < 4; i++) {
    if (!ins[i]) continue;
    wick_tensor *e;
    wick_status s = wick_expand(ins[i], *nd, shape, &e);
    if (!s) {
      s = wick_contiguous(e, &c[i]);
      wick_tensor_release(e);
    }
    if (s) { wick_nn_release(4, c); return s; }
  }
  return WICK_OK;
}

wick_status wick_elem_loss(wick_loss_kind kind, const wick_tensor *input,
                           const wick_tensor *target, const wick_tensor *weight,
                           const wick_tensor *pos_weight, wick_reduction r, wick_tensor **out) {
  const wick_tensor *ins[4] = {input, target, weight, pos_weight};
  wick_tensor *c[4], *l;
  int nd;
  int64_t shape[WICK_MAX_DIMS];
  const wick_backend *be;
  WICK_TRY(wick_nn_backend(wick_loss_name(kind), input, &be));
  WICK_NEED_SLOT(be, elem_loss, wick_loss_name(kind));
  WICK_TRY(elem_operands(kind, ins, c, &nd, shape));
  wick_status s = wick_tensor_new(input->dtype, input->device, nd, shape, &l);
  if (!s) s = be->elem_loss(kind, wick_tensor_numel(l), l, c[0], c[1], c[2], c[3]);
  wick_nn_release(4, c);
  if (s) { wick_tensor_release(l); return s; }
  if (r == WICK_REDUCTION_NONE) { *out = l; return WICK_OK; }
  s = r == WICK_REDUCTION_SUM ? wick_reduce(WICK_RED_SUM, l, 0, NULL, false, out) : wick_mean(l, 0, NULL, false, out);
  wick_tensor_release(l);
  return s;
}

wick_status wick_elem_loss_backward(wick_loss_kind kind, const wick_tensor *g,
                                    const wick_tensor *input, const wick_tensor *target,
                                    const wick_tensor *weight, const wick_tensor *pos_weight,
                                    wick_reduction r, bool need_in, bool need_target,
                                    wick_tensor **gin, wick_tensor **gt) {
  const wick_tensor *ins[4] = {input, target, weight, pos_weight};
  wick_tensor *c[4], *gc = NULL, *res[2] = {NULL, NULL};
  int nd;
  int64_t shape[WICK_MAX_DIMS], gs;
  const wick_backend *be;
  WICK_TRY(wick_check_same_device(wick_loss_name(kind), input->device, g->device));
  WICK_TRY(wick_nn_backend(wick_loss_name(kind), input, &be));
  WICK_NEED_SLOT(be, elem_loss_backward, wick_loss_name(kind));
  WICK_TRY(elem_operands(kind, ins, c, &nd, shape));
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= shape[i];
  wick_status s = grad_in(g, input, r, &gc, &gs);
  if (!s && need_in) s = wick_tensor_new(input->dtype, input->device, nd, shape, &res[0]);
  if (!s && need_target) s = wick_tensor_new(input->dtype, input->device, nd, shape, &res[1]);
  if (!s) {
    double scale = r == WICK_REDUCTION_MEAN ? 1.0 / (double)n : 1.0;
    s = be->elem_loss_backward(kind, n, res[0], res[1], gc, gs, scale, c[0], c[1], c[2], c[3]);
  }
  wick_nn_release(4, c);
  wick_tensor_release(gc);
  if (s) { wick_nn_release(2, res); return s; }
  *gin = res[0];
  *gt = res[1];
  return WICK_OK;
}
