/* The launchers of the nn and optimizer kernels (kernels/nn_*.cu), called by the CUDA row's nn
 * slots (kernels/nn_register.c). Plain C over POD arguments, as kview.h, because tensor.h is
 * not C++. Every buffer is a contiguous device buffer on the current device; `dt` is
 * WICK_DTYPE_F32 or WICK_DTYPE_F64 (the compute type: float for f32, double for f64); index
 * buffers are int64 (nn_softmax.cu also takes f16/bf16). Each launcher checks its launches and returns a status naming op.
 * Shape letters: N batch, C channels/classes, S spatial positions, M rows, D row length,
 * P planes (N * C), H x W in, OH x OW out. */
#ifndef WICK_NN_LAUNCH_H
#define WICK_NN_LAUNCH_H

#include <stdint.h>

#include "kview.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pooling geometry (a copy of nn_geom.h's wick_pool_geom). */
typedef struct {
  int64_t P, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW;
  int count_include_pad;
  int64_t divisor;
} wick_kpool;

/* ---- nn_pool.cu ---- */
wick_status wick_k_max_pool2d(int dt, void *out, int64_t *idx, const void *in, const wick_kpool *g,
                              cudaStream_t s);
wick_status wick_k_max_pool2d_backward(int dt, void *gin, const void *gout, const int64_t *idx,
                                       const wick_kpool *g, cudaStream_t s);
/* adaptive: windows [floor(o*I/O), ceil((o+1)*I/O)) instead of kernel/stride/padding. */
wick_status wick_k_avg_pool2d(int dt, void *out, const void *in, const wick_kpool *g, int adaptive,
                              cudaStream_t s);
wick_status wick_k_avg_pool2d_backward(int dt, void *gin, const void *gout, const wick_kpool *g,
                                       int adaptive, cudaStream_t s);

/* ---- nn_norm.cu ---- */
/* x, out [N, C, S]; w/b/rm/rv [C] or NULL; mean/invstd [C] written. device: for scratch. */
wick_status wick_k_batch_norm(int dt, void *out, const void *x, const void *w, const void *b,
                              void *rm, void *rv, void *mean, void *invstd, int64_t N, int64_t C,
                              int64_t S, int training, double momentum, double eps,
                              cudaStream_t s);
/* gin, gw, gb: each may be NULL. */
wick_status wick_k_batch_norm_backward(int dt, void *gin, void *gw, void *gb, const void *gout,
                                       const void *x, const void *w, const void *mean,
                                       const void *invstd, int64_t N, int64_t C, int64_t S,
                                       int training, int device, cudaStream_t s);
/* x, out [M, D]; w/b [D] or NULL; mean/rstd [M]. */
wick_status wick_k_layer_norm(int dt, void *out, const void *x, const void *w, const void *b,
                              void *mean, void *rstd, int64_t M, int64_t D, double eps,
                              cudaStream_t s);
wick_status wick_k_layer_norm_backward(int dt, void *gin, void *gw, void *gb, const void *gout,
                                       const void *x, const void *w, const void *mean,
                                       const void *rstd, int64_t M, int64_t D, int device,
                                       cudaStream_t s);

/* ---- nn_loss.cu (formulas: src/cpu/nn_kernels.h) ---- */
typedef struct {
  int64_t N, C, S;
  const int64_t *target; /* [N, S] class targets, or NULL */
  const void *prob;      /* [N, C, S] probability targets, or NULL */
  const void *weight;    /* [C] or NULL */
  int64_t ignore_index;
} wick_kce;

/* lse [N, S] (dt); nll, smooth (or NULL), wt: double [N * S]. */
wick_status wick_k_cross_entropy(int dt, const wick_kce *a, const void *x, void *lse,
                                 double *nll, double *smooth, double *wt, cudaStream_t s);
/* gin / gprob (either may be NULL) [N, C, S]; g (dt) with gstride 0 or 1 over positions. */
wick_status wick_k_cross_entropy_backward(int dt, const wick_kce *a, void *gin, void *gprob,
                                          const void *g, int64_t gstride, const void *x,
                                          const void *lse, double a_nll, double a_smooth,
                                          cudaStream_t s);
wick_status wick_k_nll_loss(int dt, const wick_kce *a, const void *x, double *out, double *wt,
                            cudaStream_t s);
wick_status wick_k_nll_loss_backward(int dt, const wick_kce *a, void *gin, const void *g,
                                     int64_t gstride, double scale, cudaStream_t s);
/* kind: wick_loss_kind (0 mse, 1 l1, 2 bce with logits); w, pw may be NULL. */
wick_status wick_k_elem_loss(int dt, int kind, int64_t n, void *loss, const void *x,
                             const void *t, const void *w, const void *pw, cudaStream_t s);
wick_status wick_k_elem_loss_backward(int dt, int kind, int64_t n, void *gx, void *gt,
                                      const void *g, int64_t gstride, double scale, const void *x,
                                      const void *t, const void *w, const void *pw,
                                      cudaStream_t s);

/* ---- nn_softmax.cu: a (any floating dtype) seen as [outer, n, inner], softmax over n ---- */
wick_status wick_k_softmax(int dt, void *out, const void *a, int64_t outer, int64_t n,
                           int64_t inner, int log, cudaStream_t s);
wick_status wick_k_softmax_backward(int dt, void *gin, const void *g, const void *y,
                                    int64_t outer, int64_t n, int64_t inner, int log,
                                    cudaStream_t s);

/* ---- nn_optim.cu: one launch per list of up to 40 tensors (the table rides in the launch's
 * argument, so nothing is staged in device memory) ---- */
typedef struct {
  double lr, momentum, dampening, weight_decay;
  int nesterov, maximize, first;
} wick_ksgd;
typedef struct {
  double lr, beta1, beta2, eps, weight_decay;
  int amsgrad, maximize, decoupled;
  int64_t step;
} wick_kadam;

/* n tensors: p[i], g[i], buf[i] (buf NULL, or entries NULL, without momentum) of len[i]. */
wick_status wick_k_sgd_step(int dt, int n, void *const *p, const void *const *g, void *const *buf,
                            const int64_t *len, const wick_ksgd *o, int device, cudaStream_t s);
/* vmax NULL unless amsgrad. */
wick_status wick_k_adam_step(int dt, int n, void *const *p, const void *const *g, void *const *m,
                             void *const *v, void *const *vmax, const int64_t *len,
                             const wick_kadam *o, int device, cudaStream_t s);

#ifdef __cplusplus
}
#endif

#endif
