/* The device dispatch table: one row of function pointers per device type.
 * Core ops (src/core/ops_*.c) check arguments, work out shapes and dtypes, allocate outputs
 * and call a row; backends (src/cpu, src/cuda) only compute. A NULL slot means "not
 * implemented on this device" and core reports it as such.
 * Conventions for every slot: tensors arrive with their final shapes (inputs already
 * broadcast by stride-0 expansion), arbitrary strides, and on the backend's device. */
#ifndef WICK_BACKEND_H
#define WICK_BACKEND_H

#include <stdint.h>

#include "nn_geom.h"
#include "oplist.h"
#include "optim.h"
#include "tensor.h"

typedef struct wick_generator wick_generator;

typedef struct wick_backend {
  const char *name;
  wick_status (*check_device)(int index); /* optional: is this device index usable? */
  void *(*alloc)(size_t nbytes, int index);
  void (*free)(void *p, size_t nbytes, int index);

  /* dst = src converted to dst's dtype; same shape. */
  wick_status (*copy)(wick_tensor *dst, const wick_tensor *src);
  /* Every element of dst = v (iv for integer dtypes). */
  wick_status (*fill)(wick_tensor *dst, double v, int64_t iv);
  /* out = a op b. a and b have one dtype; out has it too, or bool for comparisons. */
  wick_status (*binary)(wick_binop op, wick_tensor *out, const wick_tensor *a, const wick_tensor *b);
  /* out = op(a) with parameters p0, p1; out has a's dtype, or bool for the is* tests. */
  wick_status (*unary)(wick_unop op, wick_tensor *out, const wick_tensor *a, double p0, double p1);
  /* gin = g * d op(a)/da, where y = op(a) (all one shape and dtype). */
  wick_status (*unary_backward)(wick_unop op, wick_tensor *gin, const wick_tensor *g,
                                const wick_tensor *a, const wick_tensor *y, double p0, double p1);
  /* out = cond ? a : b (cond bool; a, b, out one dtype). */
  wick_status (*where)(wick_tensor *out, const wick_tensor *cond, const wick_tensor *a,
                       const wick_tensor *b);
  /* Reduces the last `nred` dims of a into out, whose shape is a's leading dims.
   * ARGMAX/ARGMIN: nred == 1 and out is i64. ANY/ALL: out is bool. */
  wick_status (*reduce)(wick_redop op, wick_tensor *out, const wick_tensor *a, int nred);
  /* out[b] = a[b] @ bm[b]: a [B, M, K], bm [B, K, N], out [B, M, N]. */
  wick_status (*matmul)(wick_tensor *out, const wick_tensor *a, const wick_tensor *bm);
  /* out = a.index_select(dim, idx) (idx 1-d i64, already range-checked). */
  wick_status (*index_select)(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx);
  /* out = a.gather(dim, idx) (idx i64 with out's shape, range-checked). */
  wick_status (*gather)(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx);
  /* dst.scatter_(dim, idx, src) in place; reduce 0 = assign, 1 = add (range-checked). */
  wick_status (*scatter)(wick_tensor *dst, int dim, const wick_tensor *idx, const wick_tensor *src,
                         int reduce);
  /* Random fills from a CPU generator: kind 0 uniform [p0, p1), 1 normal (mean p0, std p1),
   * 2 integers in [p0, p1), 3 bernoulli(p0), 4 exponential(rate p0) (WICK_RANDOM_* in oplist.h).
   * Core holds gen's lock around the call. */
  wick_status (*random)(wick_tensor *dst, wick_generator *gen, int kind, double p0, double p1);
  /* Prefix sum / product along dim. */
  wick_status (*cumulative)(wick_tensor *out, const wick_tensor *a, int dim, int prod);

  /* ---- nn slots (core: nn.c, nn_norm.c, nn_loss.c, optim.c). Unlike the slots above, every
   * tensor given to these is contiguous, one floating dtype per call (f32/f64; index
   * tensors i64), on the backend's device; outputs are allocated by core and fully written.
   * Geometry structs: nn_geom.h. CPU kernels and their exact formulas: src/cpu/nn_kernels.h. */
  wick_status (*conv2d)(wick_tensor *out, const wick_tensor *in, const wick_tensor *w,
                        const wick_tensor *bias, const wick_conv_geom *g);
  /* Any of gin, gw, gb may be NULL (not needed). */
  wick_status (*conv2d_backward)(const wick_tensor *gout, const wick_tensor *in,
                                 const wick_tensor *w, const wick_conv_geom *g, wick_tensor *gin,
                                 wick_tensor *gw, wick_tensor *gb);
  /* idx: i64 [P, OH, OW], the flat position ih * W + iw of each maximum in its plane. */
  wick_status (*max_pool2d)(wick_tensor *out, wick_tensor *idx, const wick_tensor *in,
                            const wick_pool_geom *g);
  wick_status (*max_pool2d_backward)(wick_tensor *gin, const wick_tensor *gout,
                                     const wick_tensor *idx, const wick_pool_geom *g);
  wick_status (*avg_pool2d)(wick_tensor *out, const wick_tensor *in, const wick_pool_geom *g);
  wick_status (*avg_pool2d_backward)(wick_tensor *gin, const wick_tensor *gout,
                                     const wick_pool_geom *g);
  /* Only P, H, W, OH, OW of g are used. */
  wick_status (*adaptive_avg_pool2d)(wick_tensor *out, const wick_tensor *in,
                                     const wick_pool_geom *g);
  wick_status (*adaptive_avg_pool2d_backward)(wick_tensor *gin, const wick_tensor *gout,
                                              const wick_pool_geom *g);
  /* x, out [N, C, S]; weight/bias/running_* [C] or NULL; mean/invstd [C] written. Training
   * updates running_mean/var in place (unbiased var). */
  wick_status (*batch_norm)(wick_tensor *out, const wick_tensor *x, const wick_tensor *weight,
                            const wick_tensor *bias, wick_tensor *running_mean,
                            wick_tensor *running_var, wick_tensor *mean, wick_tensor *invstd,
                            int64_t N, int64_t C, int64_t S, bool training, double momentum,
                            double eps);
  wick_status (*batch_norm_backward)(wick_tensor *gin, wick_tensor *gw, wick_tensor *gb,
                                     const wick_tensor *gout, const wick_tensor *x,
                                     const wick_tensor *weight, const wick_tensor *mean,
                                     const wick_tensor *invstd, int64_t N, int64_t C, int64_t S,
                                     bool training);
  /* x, out [M, D]; weight/bias [D] or NULL; mean/rstd [M] written. */
  wick_status (*layer_norm)(wick_tensor *out, const wick_tensor *x, const wick_tensor *weight,
                            const wick_tensor *bias, wick_tensor *mean, wick_tensor *rstd,
                            int64_t M, int64_t D, double eps);
  wick_status (*layer_norm_backward)(wick_tensor *gin, wick_tensor *gw, wick_tensor *gb,
                                     const wick_tensor *gout, const wick_tensor *x,
                                     const wick_tensor *weight, const wick_tensor *mean,
                                     const wick_tensor *rstd, int64_t M, int64_t D);
  /* lse [N, S] (x's dtype) and the f64 [N * S] per-position nll, smooth (or NULL), wt. */
  wick_status (*cross_entropy)(const wick_ce_args *a, const wick_tensor *x, wick_tensor *lse,
                               wick_tensor *nll, wick_tensor *smooth, wick_tensor *wt);
  /* gin (or NULL), gprob (or NULL) [N, C, S]; g [N, S] or one value (gstride 0). */
  wick_status (*cross_entropy_backward)(const wick_ce_args *a, wick_tensor *gin,
                                        wick_tensor *gprob, const wick_tensor *g,
                                        int64_t gstride, const wick_tensor *x,
                                        const wick_tensor *lse, double a_nll, double a_smooth);
  /* out, wt: f64 [N * S]. */
  wick_status (*nll_loss)(const wick_ce_args *a, const wick_tensor *x, wick_tensor *out,
                          wick_tensor *wt);
  wick_status (*nll_loss_backward)(const wick_ce_args *a, wick_tensor *gin, const wick_tensor *g,
                                   int64_t gstride, double scale);
  /* n elements, operands already broadcast; w, pw (BCE only) may be NULL. */
  wick_status (*elem_loss)(wick_loss_kind kind, int64_t n, wick_tensor *loss,
                           const wick_tensor *x, const wick_tensor *t, const wick_tensor *w,
                           const wick_tensor *pw);
  wick_status (*elem_loss_backward)(wick_loss_kind kind, int64_t n, wick_tensor *gx,
                                    wick_tensor *gt, const wick_tensor *g, int64_t gstride,
                                    double scale, const wick_tensor *x, const wick_tensor *t,
                                    const wick_tensor *w, const wick_tensor *pw);
  /* Fused optimizer steps over a list of n parameters (one dtype, all checked by core).
   * sgd: bufs[i] (NULL when momentum == 0) is set to d when first, else updated. */
  wick_status (*sgd_step)(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                          wick_tensor *const *bufs, const wick_sgd_options *o, bool first);
  /* max_exp_avg_sq is NULL unless o->amsgrad. */
  wick_status (*adam_step)(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                           wick_tensor *const *exp_avg, wick_tensor *const *exp_avg_sq,
                           wick_tensor *const *max_exp_avg_sq, const wick_adam_options *o);
  /* Optional fused softmax (log: log_softmax) of a along dim, and its gradient (gin from g and
   * the forward's output y). Contiguous tensors of one floating dtype (f16/bf16 compute in
   * f32). NULL: core composes them from reduce/binary/unary (the CPU does). */
  wick_status (*softmax)(wick_tensor *out, const wick_tensor *a, int dim, bool log);
  wick_status (*softmax_backward)(wick_tensor *gin, const wick_tensor *g, const wick_tensor *y,
                                  int dim, bool log);
} wick_backend;

const wick_backend *wick_backend_get(int device_type);
/* The row for dev, or an error naming op when that device type is not built in. */
wick_status wick_backend_for(const char *op, wick_device dev, const wick_backend **out);
/* Returns an error from the calling function when backend b lacks `slot`. */
#define WICK_NEED_SLOT(b, slot, op)                                                    \
  do {                                                                                 \
    if (!(b)->slot)                                                                    \
      return wick_errorf(WICK_ERR_UNSUPPORTED, "%s: not implemented on device '%s'",   \
                         (op), (b)->name);                                             \
  } while (0)
void wick_backend_register(int device_type, const wick_backend *b);

/* The CPU row (src/cpu). */
extern const wick_backend wick_cpu_backend;

#endif
