/* The CUDA row's nn and optimizer slots: each unpacks its tensors (contiguous, on one device,
 * as backend.h promises for nn slots) into the POD arguments of a launcher in kernels/nn_*.cu
 * and queues it on the device's current stream. conv2d is cuDNN (nn_conv.c). */
#include <stdlib.h>

#include "cuda/cuda_rt.h"
#include "nn_kernels.h"
#include "nn_launch.h"

static void *dp(const wick_tensor *t) { return t ? wick_tensor_data(t) : NULL; }
static cudaStream_t stream_of(const wick_tensor *t) { return wick_cuda_current_stream(t->device.index); }

static wick_kpool kpool(const wick_pool_geom *g) {
  wick_kpool k = {g->P, g->H, g->W, g->OH, g->OW, g->KH, g->KW, g->SH, g->SW,
                  g->PH, g->PW, g->DH, g->DW, g->count_include_pad, g->divisor};
  return k;
}

static wick_kce kce(const wick_ce_args *a) {
  wick_kce k = {a->N, a->C, a->S, a->target ? (const int64_t *)wick_tensor_data(a->target) : NULL,
                dp(a->prob), dp(a->weight), a->ignore_index};
  return k;
}

/* ---- pooling ---- */

static wick_status max_pool2d(wick_tensor *out, wick_tensor *idx, const wick_tensor *in, const wick_pool_geom *g) {
  wick_kpool k = kpool(g);
  return wick_k_max_pool2d(in->dtype, dp(out), dp(idx), dp(in), &k, stream_of(in));
}
static wick_status max_pool2d_backward(wick_tensor *gin, const wick_tensor *gout, const wick_tensor *idx,
                                       const wick_pool_geom *g) {
  wick_kpool k = kpool(g);
  return wick_k_max_pool2d_backward(gin->dtype, dp(gin), dp(gout), dp(idx), &k, stream_of(gin));
}
static wick_status avg_pool2d(wick_tensor *out, const wick_tensor *in, const wick_pool_geom *g) {
  wick_kpool k = kpool(g);
  return wick_k_avg_pool2d(in->dtype, dp(out), dp(in), &k, 0, stream_of(in));
}
static wick_status avg_pool2d_backward(wick_tensor *gin, const wick_tensor *gout, const wick_pool_geom *g) {
  wick_kpool k = kpool(g);
  return wick_k_avg_pool2d_backward(gin->dtype, dp(gin), dp(gout), &k, 0, stream_of(gin));
}
static wick_status adaptive_avg_pool2d(wick_tensor *out, const wick_tensor *in, const wick_pool_geom *g) {
  wick_kpool k = kpool(g);
  return wick_k_avg_pool2d(in->dtype, dp(out), dp(in), &k, 1, stream_of(in));
}
static wick_status adaptive_avg_pool2d_backward(wick_tensor *gin, const wick_tensor *gout,
                                                const wick_pool_geom *g) {
  wick_kpool k = kpool(g);
  return wick_k_avg_pool2d_backward(gin->dtype, dp(gin), dp(gout), &k, 1, stream_of(gin));
}

/* ---- normalisation ---- */

static wick_status batch_norm(wick_tensor *out, const wick_tensor *x, const wick_tensor *weight,
                              const wick_tensor *bias, wick_tensor *running_mean, wick_tensor *running_var,
                              wick_tensor *mean, wick_tensor *invstd, int64_t N, int64_t C, int64_t S,
                              bool training, double momentum, double eps) {
  return wick_k_batch_norm(x->dtype, dp(out), dp(x), dp(weight), dp(bias), dp(running_mean), dp(running_var),
                           dp(mean), dp(invstd), N, C, S, training, momentum, eps, stream_of(x));
}
static wick_status batch_norm_backward(wick_tensor *gin, wick_tensor *gw, wick_tensor *gb, const wick_tensor *gout,
                                       const wick_tensor *x, const wick_tensor *weight, const wick_tensor *mean,
                                       const wick_tensor *invstd, int64_t N, int64_t C, int64_t S, bool training) {
  return wick_k_batch_norm_backward(x->dtype, dp(gin), dp(gw), dp(gb), dp(gout), dp(x), dp(weight), dp(mean),
                                    dp(invstd), N, C, S, training, x->device.index, stream_of(x));
}
static wick_status layer_norm(wick_tensor *out, const wick_tensor *x, const wick_tensor *weight,
                              const wick_tensor *bias, wick_tensor *mean, wick_tensor *rstd, int64_t M, int64_t D,
                              double eps) {
  return wick_k_layer_norm(x->dtype, dp(out), dp(x), dp(weight), dp(bias), dp(mean), dp(rstd), M, D, eps,
                           stream_of(x));
}
static wick_status layer_norm_backward(wick_tensor *gin, wick_tensor *gw, wick_tensor *gb, const wick_tensor *gout,
                                       const wick_tensor *x, const wick_tensor *weight, const wick_tensor *mean,
                                       const wick_tensor *rstd, int64_t M, int64_t D) {
  return wick_k_layer_norm_backward(x->dtype, dp(gin), dp(gw), dp(gb), dp(gout), dp(x), dp(weight), dp(mean),
                                    dp(rstd), M, D, x->device.index, stream_of(x));
}

/* ---- losses ---- */

static wick_status cross_entropy(const wick_ce_args *a, const wick_tensor *x, wick_tensor *lse, wick_tensor *nll,
                                 wick_tensor *smooth, wick_tensor *wt) {
  wick_kce k = kce(a);
  return wick_k_cross_entropy(x->dtype, &k, dp(x), dp(lse), dp(nll), dp(smooth), dp(wt), stream_of(x));
}
static wick_status cross_entropy_backward(const wick_ce_args *a, wick_tensor *gin, wick_tensor *gprob,
                                          const wick_tensor *g, int64_t gstride, const wick_tensor *x,
                                          const wick_tensor *lse, double a_nll, double a_smooth) {
  wick_kce k = kce(a);
  return wick_k_cross_entropy_backward(x->dtype, &k, dp(gin), dp(gprob), dp(g), gstride, dp(x), dp(lse), a_nll,
                                       a_smooth, stream_of(x));
}
static wick_status nll_loss(const wick_ce_args *a, const wick_tensor *x, wick_tensor *out, wick_tensor *wt) {
  wick_kce k = kce(a);
  return wick_k_nll_loss(x->dtype, &k, dp(x), dp(out), dp(wt), stream_of(x));
}
static wick_status nll_loss_backward(const wick_ce_args *a, wick_tensor *gin, const wick_tensor *g, int64_t gstride,
                                     double scale) {
  wick_kce k = kce(a);
  return wick_k_nll_loss_backward(gin->dtype, &k, dp(gin), dp(g), gstride, scale, stream_of(gin));
}
static wick_status elem_loss(wick_loss_kind kind, int64_t n, wick_tensor *loss, const wick_tensor *x,
                             const wick_tensor *t, const wick_tensor *w, const wick_tensor *pw) {
  return wick_k_elem_loss(x->dtype, (int)kind, n, dp(loss), dp(x), dp(t), dp(w), dp(pw), stream_of(x));
}
static wick_status elem_loss_backward(wick_loss_kind kind, int64_t n, wick_tensor *gx, wick_tensor *gt,
                                      const wick_tensor *g, int64_t gstride, double scale, const wick_tensor *x,
                                      const wick_tensor *t, const wick_tensor *w, const wick_tensor *pw) {
  return wick_k_elem_loss_backward(x->dtype, (int)kind, n, dp(gx), dp(gt), dp(g), gstride, scale, dp(x), dp(t),
                                   dp(w), dp(pw), stream_of(x));
}

/* ---- softmax: [outer, n, inner] around dim ---- */

static void around(const wick_tensor *t, int dim, int64_t *outer, int64_t *n, int64_t *inner) {
  *outer = *inner = *n = 1;
  if (t->ndim == 0) return;
  for (int d = 0; d < dim; d++) *outer *= t->sizes[d];
  *n = t->sizes[dim];
  for (int d = dim + 1; d < t->ndim; d++) *inner *= t->sizes[d];
}

static wick_status softmax(wick_tensor *out, const wick_tensor *a, int dim, bool log) {
  int64_t outer, n, inner;
  around(a, dim, &outer, &n, &inner);
  return wick_k_softmax(a->dtype, dp(out), dp(a), outer, n, inner, log, stream_of(a));
}

static wick_status softmax_backward(wick_tensor *gin, const wick_tensor *g, const wick_tensor *y, int dim,
                                    bool log) {
  int64_t outer, n, inner;
  around(y, dim, &outer, &n, &inner);
  return wick_k_softmax_backward(y->dtype, dp(gin), dp(g), dp(y), outer, n, inner, log, stream_of(y));
}

/* ---- optimizers: the tensors' pointers and lengths in host arrays for one launch ---- */

typedef struct { void **ptr; int64_t *len; } opt_arrays;

static wick_status opt_arrays_new(const char *op, int n, int lists, opt_arrays *a) {
  a->ptr = calloc((size_t)n * (size_t)lists, sizeof(void *));
  a->len = calloc((size_t)n, sizeof(int64_t));
  if (!a->ptr || !a->len) {
    free(a->ptr);
    free(a->len);
    return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op);
  }
  return WICK_OK;
}

static void opt_arrays_free(opt_arrays *a) {
  free(a->ptr);
  free(a->len);
}

static wick_status sgd_step(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                            wick_tensor *const *bufs, const wick_sgd_options *o, bool first) {
  if (n <= 0) return WICK_OK;
  opt_arrays a;
  WICK_TRY(opt_arrays_new("SGD", n, 3, &a));
  void **p = a.ptr, **g = a.ptr + n, **b = a.ptr + 2 * n;
  for (int k = 0; k < n; k++) {
    p[k] = dp(params[k]);
    g[k] = dp(grads[k]);
    b[k] = bufs ? dp(bufs[k]) : NULL;
    a.len[k] = wick_tensor_numel(params[k]);
  }
  wick_ksgd ko = {o->lr, o->momentum, o->dampening, o->weight_decay, o->nesterov, o->maximize, first};
  int dev = params[0]->device.index;
  wick_status s = wick_k_sgd_step(params[0]->dtype, n, p, (const void *const *)g, o->momentum != 0 ? b : NULL,
                                  a.len, &ko, dev, wick_cuda_current_stream(dev));
  opt_arrays_free(&a);
  return s;
}

static wick_status adam_step(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                             wick_tensor *const *exp_avg, wick_tensor *const *exp_avg_sq,
                             wick_tensor *const *max_exp_avg_sq, const wick_adam_options *o) {
  if (n <= 0) return WICK_OK;
  opt_arrays a;
  WICK_TRY(opt_arrays_new(o->decoupled ? "AdamW" : "Adam", n, 5, &a));
  void **p = a.ptr, **g = a.ptr + n, **m = a.ptr + 2 * n, **v = a.ptr + 3 * n, **vm = a.ptr + 4 * n;
  for (int k = 0; k < n; k++) {
    p[k] = dp(params[k]);
    g[k] = dp(grads[k]);
    m[k] = dp(exp_avg[k]);
    v[k] = dp(exp_avg_sq[k]);
    vm[k] = o->amsgrad ? dp(max_exp_avg_sq[k]) : NULL;
    a.len[k] = wick_tensor_numel(params[k]);
  }
  wick_kadam ko = {o->lr, o->beta1, o->beta2, o->eps, o->weight_decay, o->amsgrad, o->maximize, o->decoupled,
                   o->step};
  int dev = params[0]->device.index;
  wick_status s = wick_k_adam_step(params[0]->dtype, n, p, (const void *const *)g, m, v, o->amsgrad ? vm : NULL,
                                   a.len, &ko, dev, wick_cuda_current_stream(dev));
  opt_arrays_free(&a);
  return s;
}

void wick_cuda_nn_register(wick_backend *row) {
  row->conv2d = wick_cuda_conv2d;
  row->conv2d_backward = wick_cuda_conv2d_backward;
  row->max_pool2d = max_pool2d;
  row->max_pool2d_backward = max_pool2d_backward;
  row->avg_pool2d = avg_pool2d;
  row->avg_pool2d_backward = avg_pool2d_backward;
  row->adaptive_avg_pool2d = adaptive_avg_pool2d;
  row->adaptive_avg_pool2d_backward = adaptive_avg_pool2d_backward;
  row->batch_norm = batch_norm;
  row->batch_norm_backward = batch_norm_backward;
  row->layer_norm = layer_norm;
  row->layer_norm_backward = layer_norm_backward;
  row->cross_entropy = cross_entropy;
  row->cross_entropy_backward = cross_entropy_backward;
  row->nll_loss = nll_loss;
  row->nll_loss_backward = nll_loss_backward;
  row->elem_loss = elem_loss;
  row->elem_loss_backward = elem_loss_backward;
  row->sgd_step = sgd_step;
  row->adam_step = adam_step;
  row->softmax = softmax;
  row->softmax_backward = softmax_backward;
}
