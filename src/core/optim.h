/* Fused optimizer updates: one pass over a parameter, its gradient and its state buffers, with
 * the arithmetic of PyTorch 1.13's single-tensor SGD, Adam and AdamW (torch/optim/sgd.py,
 * adam.py, adamw.py: _single_tensor_*). Lua-free; the policy (param groups, state) is in Lua. */
#ifndef WICK_OPTIM_H
#define WICK_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

#include "tensor.h"

typedef struct {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
} wick_sgd_options;

/* param -= lr * d, d as in torch.optim.SGD. *buf is the momentum buffer (borrowed, updated in
 * place); when momentum != 0 and *buf is NULL, a new buffer (new reference) is stored in *buf,
 * initialised to d as PyTorch does on the first step. With momentum == 0, *buf is untouched.
 * param and grad: same shape, dtype (f32 or f64) and device; a buffer must match them. The
 * device's row must have the sgd_step slot. */
wick_status wick_sgd_update(wick_tensor *param, const wick_tensor *grad, wick_tensor **buf,
                            const wick_sgd_options *o);

typedef struct {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, maximize;
  bool decoupled; /* AdamW: param *= 1 - lr * weight_decay instead of an L2 term in the grad */
  int64_t step;   /* this update's step count, from 1 (after PyTorch's `step_t += 1`) */
} wick_adam_options;

/* One Adam/AdamW step in place on param, exp_avg, exp_avg_sq and (amsgrad) max_exp_avg_sq,
 * which must be given iff o->amsgrad. Every tensor matches param's shape, dtype and device. */
wick_status wick_adam_update(wick_tensor *param, const wick_tensor *grad, wick_tensor *exp_avg,
                             wick_tensor *exp_avg_sq, wick_tensor *max_exp_avg_sq,
                             const wick_adam_options *o);

/* The updates of n parameters with as few device calls as possible (one per run of tensors
 * sharing device, dtype and, for SGD, whether the buffer is new): each entry as in the single
 * functions above (bufs[i] as *buf; max_exp_avg_sq NULL or entries NULL unless amsgrad).
 * Everything is checked before anything is updated. */
wick_status wick_sgd_update_many(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                                 wick_tensor **bufs, const wick_sgd_options *o);
wick_status wick_adam_update_many(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                                  wick_tensor *const *exp_avg, wick_tensor *const *exp_avg_sq,
                                  wick_tensor *const *max_exp_avg_sq, const wick_adam_options *o);

#endif
