/* The CPU kernels of the neural-network ops (conv.c, pool.c, norm.c, loss.c) and the fused
 * optimizer steps (src/core/optim.c's loops): the nn slots of the CPU row (backend.c).
 * Every tensor passed here is contiguous, on the CPU, f32 or f64, one dtype per call (index
 * tensors are i64), with the shapes core worked out; outputs are allocated by core. The
 * slot contracts are in src/core/backend.h, the geometry structs in src/core/nn_geom.h. */
#ifndef WICK_CPU_NN_KERNELS_H
#define WICK_CPU_NN_KERNELS_H

#include <stdbool.h>

#include "../core/nn_geom.h"
#include "../core/oplist.h"
#include "../core/optim.h"

/* ---- conv.c ---- */

wick_status wick_cpu_conv2d(wick_tensor *out, const wick_tensor *in, const wick_tensor *w,
                            const wick_tensor *bias, const wick_conv_geom *g);
/* Any of gin, gw, gb may be NULL (not needed); each one given is fully written. */
wick_status wick_cpu_conv2d_backward(const wick_tensor *gout, const wick_tensor *in,
                                     const wick_tensor *w, const wick_conv_geom *g,
                                     wick_tensor *gin, wick_tensor *gw, wick_tensor *gb);

/* ---- pool.c ---- */

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
/* Cross entropy (wick_ce_args). Per position i: nll[i] = w[t] (lse - x[t]) (class) or -sum_c w_c p_c (x_c - lse) (prob,
 * p already smoothed by core); smooth[i] = sum_c w_c (lse - x_c) (class targets only);
 * wt[i] = w[t] (0 when ignored). lse [N, S] is written for the backward;
 * nll, smooth (or NULL), wt are f64 [N * S]. */
wick_status wick_cpu_cross_entropy(const wick_ce_args *a, const wick_tensor *x, wick_tensor *lse,
                                   wick_tensor *nll, wick_tensor *smooth, wick_tensor *wt);
/* gin [N, C, S] = g_i * (a_nll * w_t (softmax - onehot) + a_smooth * (W softmax - w)) for
 * class targets (W = sum of w), g_i * a_nll * (softmax * sum_c w_c p_c - w p) for
 * probabilities. g is [N, S] or a single value (gstride 0). gprob (or NULL): the gradient
 * of the smoothed probabilities, g_i * a_nll * -w_c log_softmax_c. */
wick_status wick_cpu_cross_entropy_backward(const wick_ce_args *a, wick_tensor *gin,
                                            wick_tensor *gprob, const wick_tensor *g,
                                            int64_t gstride, const wick_tensor *x,
                                            const wick_tensor *lse, double a_nll, double a_smooth);
/* nll_loss over log-probs x [N, C, S]: out[i] = -w[t] x[t], wt[i] = w[t] (0 when ignored);
 * out, wt f64 [N * S]. */
wick_status wick_cpu_nll_loss(const wick_ce_args *a, const wick_tensor *x, wick_tensor *out,
                              wick_tensor *wt);
/* gin (zeroed here) [N, C, S]: gin[t] = -g_i * scale * w[t]. */
wick_status wick_cpu_nll_loss_backward(const wick_ce_args *a, wick_tensor *gin, const wick_tensor *g,
                                       int64_t gstride, double scale);

/* Elementwise losses over n contiguous elements of one dtype (operands already broadcast). */
/* loss[i]; w (weight) and pw (pos_weight) only for BCE, either may be NULL. */
wick_status wick_cpu_elem_loss(wick_loss_kind kind, int64_t n, wick_tensor *loss,
                               const wick_tensor *x, const wick_tensor *t, const wick_tensor *w,
                               const wick_tensor *pw);
/* gx, gt (either may be NULL) = g_i * scale * d loss_i / d x_i (t_i); g has gstride 0 or 1. */
wick_status wick_cpu_elem_loss_backward(wick_loss_kind kind, int64_t n, wick_tensor *gx,
                                        wick_tensor *gt, const wick_tensor *g, int64_t gstride,
                                        double scale, const wick_tensor *x, const wick_tensor *t,
                                        const wick_tensor *w, const wick_tensor *pw);

/* ---- optim.c's fused loops (src/core): the sgd_step / adam_step slots ---- */
wick_status wick_cpu_sgd_step(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                              wick_tensor *const *bufs, const wick_sgd_options *o, bool first);
wick_status wick_cpu_adam_step(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                               wick_tensor *const *exp_avg, wick_tensor *const *exp_avg_sq,
                               wick_tensor *const *max_exp_avg_sq, const wick_adam_options *o);

#endif
