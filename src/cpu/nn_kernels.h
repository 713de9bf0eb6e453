/* The CPU kernels of the neural-network ops (conv.c, pool.c, norm.c, loss.c), called
 * directly by src/core/nn.c. The CUDA backend will turn these into backend-table slots when
 * it grows nn kernels; until then core checks the device and calls them.
 * Every tensor passed here is contiguous, on the CPU, f32 or f64, one dtype per call (index
 * tensors are i64), with the shapes core worked out; outputs are allocated by core. */
#ifndef WICK_CPU_NN_KERNELS_H
#define WICK_CPU_NN_KERNELS_H

#include <stdbool.h>

#include "../core/tensor.h"

/* ---- conv.c: input [N, C, H, W], weight [O, C/G, KH, KW], output [N, O, OH, OW].
 * PH/PW are the padding before the first row/column; OH/OW already account for any extra
 * padding after the last (padding="same" with an even kernel). ---- */
typedef struct {
  int64_t N, C, H, W, O, G, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
} wick_conv_geom;

wick_status wick_cpu_conv2d(wick_tensor *out, const wick_tensor *in, const wick_tensor *w,
                            const wick_tensor *bias, const wick_conv_geom *g);
/* Any of gin, gw, gb may be NULL (not needed); each one given is fully written. */
wick_status wick_cpu_conv2d_backward(const wick_tensor *gout, const wick_tensor *in,
                                     const wick_tensor *w, const wick_conv_geom *g,
                                     wick_tensor *gin, wick_tensor *gw, wick_tensor *gb);

/* ---- pool.c: P planes of H x W in, P planes of OH x OW out ---- */
typedef struct {
  int64_t P, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW;
  bool count_include_pad;
  int64_t divisor; /* avg_pool2d's divisor_override; 0 = none */
} wick_pool_geom;

/* idx: i64 [P, OH, OW], the flat position (ih * W + iw) of each maximum in its plane. */
wick_status wick_cpu_max_pool2d(wick_tensor *out, wick_tensor *idx, const wick_tensor *in,
                                const wick_pool_geom *g);
wick_status wick_cpu_max_pool2d_backward(wick_tensor *gin, const wick_tensor *gout,
                                         const wick_tensor *idx, const wick_pool_geom *g);
wick_status wick_cpu_avg_pool2d(wick_tensor *out, const wick_tensor *in, const wick_pool_geom *g);
wick_status wick_cpu_avg_pool2d_backward(wick_tensor *gin, const wick_tensor *gout,
                                         const wick_pool_geom *g);
/* Only P, H, W, OH, OW of g are used. */
wick_status wick_cpu_adaptive_avg_pool2d(wick_tensor *out, const wick_tensor *in,
                                         const wick_pool_geom *g);
wick_status wick_cpu_adaptive_avg_pool2d_backward(wick_tensor *gin, const wick_tensor *gout,
                                                  const wick_pool_geom *g);

/* ---- norm.c ---- */
/* x, out [N, C, S]; weight/bias [C] or NULL; running_* [C] or NULL; mean/invstd [C] are
 * written (the batch's in training, the running stats' in eval). Training updates the
 * running buffers in place: mean with the batch mean, var with the unbiased batch var. */
wick_status wick_cpu_batch_norm(wick_tensor *out, const wick_tensor *x, const wick_tensor *weight,
                                const wick_tensor *bias, wick_tensor *running_mean,
                                wick_tensor *running_var, wick_tensor *mean, wick_tensor *invstd,
                                int64_t N, int64_t C, int64_t S, bool training, double momentum,
                                double eps);
/* gin (or NULL), gw/gb [C] (or NULL). training: mean/invstd are batch statistics, and the
 * gradient flows through them. */
wick_status wick_cpu_batch_norm_backward(wick_tensor *gin, wick_tensor *gw, wick_tensor *gb,
                                         const wick_tensor *gout, const wick_tensor *x,
                                         const wick_tensor *weight, const wick_tensor *mean,
                                         const wick_tensor *invstd, int64_t N, int64_t C,
                                         int64_t S, bool training);
/* x, out [M, D]; weight/bias [D] or NULL; mean/rstd [M] written. */
wick_status wick_cpu_layer_norm(wick_tensor *out, const wick_tensor *x, const wick_tensor *weight,
                                const wick_tensor *bias, wick_tensor *mean, wick_tensor *rstd,
                                int64_t M, int64_t D, double eps);
wick_status wick_cpu_layer_norm_backward(wick_tensor *gin, wick_tensor *gw, wick_tensor *gb,
                                         const wick_tensor *gout, const wick_tensor *x,
                                         const wick_tensor *weight, const wick_tensor *mean,
                                         const wick_tensor *rstd, int64_t M, int64_t D);

/* ---- loss.c ---- */
/* Cross entropy over x [N, C, S] (class dim in the middle) with class targets (i64 [N, S],
 * already range-checked; ignore_index rows give 0) or probability targets (prob [N, C, S]).
 * Per position i: nll[i] = w[t] (lse - x[t]) (class) or -sum_c w_c p_c (x_c - lse) (prob,
 * p already smoothed by core); smooth[i] = sum_c w_c (lse - x_c) (class targets only);
 * wt[i] = w[t] (0 when ignored). lse [N, S] is written for the backward. */
typedef struct {
  int64_t N, C, S;
  const wick_tensor *target;  /* class targets, or NULL */
  const wick_tensor *prob;    /* probability targets, or NULL */
  const wick_tensor *weight;  /* [C] or NULL */
  int64_t ignore_index;
} wick_ce_args;

wick_status wick_cpu_cross_entropy(const wick_ce_args *a, const wick_tensor *x, wick_tensor *lse,
                                   double *nll, double *smooth, double *wt);
/* gin [N, C, S] = g_i * (a_nll * w_t (softmax - onehot) + a_smooth * (W softmax - w)) for
 * class targets (W = sum of w), g_i * a_nll * (softmax * sum_c w_c p_c - w p) for
 * probabilities. g is [N, S] or a single value (gstride 0). gprob (or NULL): the gradient
 * of the smoothed probabilities, g_i * a_nll * -w_c log_softmax_c. */
wick_status wick_cpu_cross_entropy_backward(const wick_ce_args *a, wick_tensor *gin,
                                            wick_tensor *gprob, const wick_tensor *g,
                                            int64_t gstride, const wick_tensor *x,
                                            const wick_tensor *lse, double a_nll, double a_smooth);
/* nll_loss over log-probs x [N, C, S]: out[i] = -w[t] x[t], wt[i] = w[t] (0 when ignored). */
wick_status wick_cpu_nll_loss(const wick_ce_args *a, const wick_tensor *x, double *out, double *wt);
/* gin (zeroed here) [N, C, S]: gin[t] = -g_i * scale * w[t]. */
wick_status wick_cpu_nll_loss_backward(const wick_ce_args *a, wick_tensor *gin, const wick_tensor *g,
                                       int64_t gstride, double scale);

/* Elementwise losses over n contiguous elements of one dtype (operands already broadcast). */
typedef enum { WICK_LOSS_MSE, WICK_LOSS_L1, WICK_LOSS_BCE_LOGITS } wick_cpu_loss_kind;
/* loss[i]; w (weight) and pw (pos_weight) only for BCE, either may be NULL. */
wick_status wick_cpu_elem_loss(wick_cpu_loss_kind kind, int64_t n, wick_tensor *loss,
                               const wick_tensor *x, const wick_tensor *t, const wick_tensor *w,
                               const wick_tensor *pw);
/* gx, gt (either may be NULL) = g_i * scale * d loss_i / d x_i (t_i); g has gstride 0 or 1. */
wick_status wick_cpu_elem_loss_backward(wick_cpu_loss_kind kind, int64_t n, wick_tensor *gx,
                                        wick_tensor *gt, const wick_tensor *g, int64_t gstride,
                                        double scale, const wick_tensor *x, const wick_tensor *t,
                                        const wick_tensor *w, const wick_tensor *pw);

#endif
