/* The neural-network ops of wick's C API (torch.nn.functional's kernels): argument checks,
 * output shapes, and the forward/backward computations. Lua-free and autograd-free: the
 * differentiable wrappers live in src/autograd/fn_nn.c. Every function hands back NEW
 * references; inputs are borrowed. Floating inputs are f32 or f64, CPU only for now. */
#ifndef WICK_NN_H
#define WICK_NN_H

#include "ops.h"

/* ---- convolution (nn.c) ---- */
typedef struct {
  int64_t stride[2], padding[2], dilation[2], groups;
  bool same; /* padding = "same": padding[] is ignored and worked out from the kernel */
} wick_conv2d_opts;

/* input [N, C, H, W] or [C, H, W]; weight [O, C/groups, KH, KW]; bias [O] or NULL. */
wick_status wick_conv2d(const wick_tensor *input, const wick_tensor *weight,
                        const wick_tensor *bias, const wick_conv2d_opts *o, wick_tensor **out);
/* The gradients asked for (the others are left NULL). */
wick_status wick_conv2d_backward(const wick_tensor *gout, const wick_tensor *input,
                                 const wick_tensor *weight, const wick_conv2d_opts *o,
                                 bool need_in, bool need_w, bool need_b, wick_tensor **gin,
                                 wick_tensor **gw, wick_tensor **gb);

/* ---- pooling (nn.c): input [N, C, H, W] or [C, H, W] ---- */
typedef struct {
  int64_t kernel[2], stride[2], padding[2], dilation[2];
  bool ceil_mode, count_include_pad;
  int64_t divisor_override; /* 0 = none */
} wick_pool2d_opts;

/* indices: i64, out's shape: the flat position h * W + w of each maximum in its plane. */
wick_status wick_max_pool2d(const wick_tensor *input, const wick_pool2d_opts *o,
                            wick_tensor **out, wick_tensor **indices);
wick_status wick_max_pool2d_backward(const wick_tensor *gout, const wick_tensor *indices,
                                     int ndim, const int64_t *in_sizes, const wick_pool2d_opts *o,
                                     wick_tensor **gin);
wick_status wick_avg_pool2d(const wick_tensor *input, const wick_pool2d_opts *o, wick_tensor **out);
wick_status wick_avg_pool2d_backward(const wick_tensor *gout, int ndim, const int64_t *in_sizes,
                                     const wick_pool2d_opts *o, wick_tensor **gin);
wick_status wick_adaptive_avg_pool2d(const wick_tensor *input, int64_t oh, int64_t ow,
                                     wick_tensor **out);
wick_status wick_adaptive_avg_pool2d_backward(const wick_tensor *gout, int ndim,
                                              const int64_t *in_sizes, wick_tensor **gin);

/* ---- embedding and dropout (nn.c) ---- */
/* indices i64/i32 of any shape; weight [V, D]; out [indices..., D]. */
wick_status wick_embedding(const wick_tensor *indices, const wick_tensor *weight, wick_tensor **out);
/* The [V, D] gradient: rows of g scattered-added by index; the padding_idx row (when
 * has_padding) gets none. */
wick_status wick_embedding_backward(const wick_tensor *g, const wick_tensor *indices, int64_t V,
                                    bool has_padding, int64_t padding_idx, wick_tensor **gw);
/* Checks p is in [0, 1] (op names the caller in the message). */
wick_status wick_dropout_check(double p);

/* ---- normalisation (nn_norm.c) ---- */
/* input [N, C, ...]; running stats, weight, bias [C] or NULL. training: normalises with the
 * batch statistics and updates the running stats in place (unbiased var); else uses them.
 * save_mean/save_invstd [C]: what the backward needs. */
wick_status wick_batch_norm(const wick_tensor *input, wick_tensor *running_mean,
                            wick_tensor *running_var, const wick_tensor *weight,
                            const wick_tensor *bias, bool training, double momentum, double eps,
                            wick_tensor **out, wick_tensor **save_mean, wick_tensor **save_invstd);
wick_status wick_batch_norm_backward(const wick_tensor *gout, const wick_tensor *input,
                                     const wick_tensor *weight, const wick_tensor *save_mean,
                                     const wick_tensor *save_invstd, bool training, bool need_in,
                                     bool need_w, bool need_b, wick_tensor **gin, wick_tensor **gw,
                                     wick_tensor **gb);
/* Normalises over the last nnorm dims, which must equal shape[0..nnorm). */
wick_status wick_layer_norm(const wick_tensor *input, int nnorm, const int64_t *shape,
                            const wick_tensor *weight, const wick_tensor *bias, double eps,
                            wick_tensor **out, wick_tensor **mean, wick_tensor **rstd);
wick_status wick_layer_norm_backward(const wick_tensor *gout, const wick_tensor *input, int nnorm,
                                     const wick_tensor *weight, const wick_tensor *mean,
                                     const wick_tensor *rstd, bool need_in, bool need_w,
                                     bool need_b, wick_tensor **gin, wick_tensor **gw,
                                     wick_tensor **gb);

/* ---- losses (nn_loss.c) ---- */
typedef enum { WICK_REDUCTION_NONE, WICK_REDUCTION_MEAN, WICK_REDUCTION_SUM } wick_reduction;

typedef struct {
  const wick_tensor *weight; /* [C] class weights, or NULL */
  int64_t ignore_index;      /* class targets only; PyTorch's default is -100 */
  wick_reduction reduction;
  double label_smoothing;    /* cross_entropy only */
} wick_ce_opts;

/* What a loss's forward hands its backward: how the incoming gradient is scaled. */
typedef struct { double a, b; } wick_loss_scale;

/* logits [N, C, d...] or [C]; target: i64 class indices [N, d...] (or 0-d) or probabilities
 * of the logits' shape. lse: log-sum-exp per position, kept for the backward. */
wick_status wick_cross_entropy(const wick_tensor *logits, const wick_tensor *target,
                               const wick_ce_opts *o, wick_tensor **out, wick_tensor **lse,
                               wick_loss_scale *scale);
/* gt: the gradient of probability targets (only when need_target). */
wick_status wick_cross_entropy_backward(const wick_tensor *g, const wick_tensor *logits,
                                        const wick_tensor *target, const wick_ce_opts *o,
                                        const wick_tensor *lse, wick_loss_scale scale,
                                        bool need_in, bool need_target, wick_tensor **gin,
                                        wick_tensor **gt);
/* log_probs [N, C, d...] or [C]; target i64 class indices. */
wick_status wick_nll_loss(const wick_tensor *log_probs, const wick_tensor *target,
                          const wick_ce_opts *o, wick_tensor **out, wick_loss_scale *scale);
wick_status wick_nll_loss_backward(const wick_tensor *g, const wick_tensor *log_probs,
                                   const wick_tensor *target, const wick_ce_opts *o,
                                   wick_loss_scale scale, wick_tensor **gin);

/* input and target (and weight, pos_weight for BCE; NULL when absent) broadcast together. */
wick_status wick_elem_loss(wick_loss_kind kind, const wick_tensor *input,
                           const wick_tensor *target, const wick_tensor *weight,
                           const wick_tensor *pos_weight, wick_reduction r, wick_tensor **out);
/* Gradients in the broadcast shape (autograd sums them back to each input's shape). */
wick_status wick_elem_loss_backward(wick_loss_kind kind, const wick_tensor *g,
                                    const wick_tensor *input, const wick_tensor *target,
                                    const wick_tensor *weight, const wick_tensor *pos_weight,
                                    wick_reduction r, bool need_in, bool need_target,
                                    wick_tensor **gin, wick_tensor **gt);

#endif
