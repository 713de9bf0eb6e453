/* Differentiable neural-network ops (fn_nn.c, fn_nn_loss.c): the core op of src/core/nn.h
 * plus a graph node when an input requires grad. New references in *out; inputs borrowed;
 * optional tensors (bias, weight, running stats) may be NULL. */
#ifndef WICK_FN_NN_H
#define WICK_FN_NN_H

#include "autograd.h"
#include "core/nn.h"

wick_status wick_ag_conv2d(const wick_tensor *input, const wick_tensor *weight,
                           const wick_tensor *bias, const wick_conv2d_opts *o, wick_tensor **out);
/* indices (may be NULL): where each maximum came from, as max_pool2d(return_indices=True). */
wick_status wick_ag_max_pool2d(const wick_tensor *input, const wick_pool2d_opts *o,
                               wick_tensor **out, wick_tensor **indices);
wick_status wick_ag_avg_pool2d(const wick_tensor *input, const wick_pool2d_opts *o, wick_tensor **out);
wick_status wick_ag_adaptive_avg_pool2d(const wick_tensor *input, int64_t oh, int64_t ow,
                                        wick_tensor **out);
/* Running stats are updated in place (no autograd through them). */
wick_status wick_ag_batch_norm(const wick_tensor *input, wick_tensor *running_mean,
                               wick_tensor *running_var, const wick_tensor *weight,
                               const wick_tensor *bias, bool training, double momentum,
                               double eps, wick_tensor **out);
wick_status wick_ag_layer_norm(const wick_tensor *input, int nnorm, const int64_t *shape,
                               const wick_tensor *weight, const wick_tensor *bias, double eps,
                               wick_tensor **out);
wick_status wick_ag_embedding(const wick_tensor *indices, const wick_tensor *weight,
                              bool has_padding, int64_t padding_idx, wick_tensor **out);
/* input * bernoulli(1 - p) / (1 - p) with the generator gen (NULL: the default one); returns
 * input itself (retained) when !training or p == 0. */
wick_status wick_ag_dropout(const wick_tensor *input, double p, bool training,
                            wick_generator *gen, wick_tensor **out);

/* losses (fn_nn_loss.c); the class weight (o->weight) gets no gradient */
wick_status wick_ag_cross_entropy(const wick_tensor *logits, const wick_tensor *target,
                                  const wick_ce_opts *o, wick_tensor **out);
wick_status wick_ag_nll_loss(const wick_tensor *log_probs, const wick_tensor *target,
                             const wick_ce_opts *o, wick_tensor **out);
/* weight and pos_weight (BCE only) get no gradient. */
wick_status wick_ag_elem_loss(wick_loss_kind kind, const wick_tensor *input,
                              const wick_tensor *target, const wick_tensor *weight,
                              const wick_tensor *pos_weight, wick_reduction r, wick_tensor **out);

#endif
