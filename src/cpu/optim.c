/* The CPU row's fused optimizer steps: one loop per (optimizer, dtype) that reads and writes
 * every buffer once. Each line of a loop is one PyTorch op of the single-tensor
 * implementation (torch/optim/sgd.py, adam.py, adamw.py: _single_tensor_*), evaluated in the
 * tensor's dtype with the scalars rounded to it (as PyTorch's CPU kernels do), so results
 * agree with PyTorch to float rounding. Core (src/core/optim.c) checks the operands. */
#include <math.h>

#include "nn_kernels.h"

/* Below this many elements an update runs on one thread (OpenMP start-up costs more). */
#define OPTIM_GRAIN 32768

/* d = maximize ? -g : g; d += wd * p; buf = first ? d : mom * buf + (1 - damp) * d;
 * d = nesterov ? d + mom * buf : buf; p += -lr * d */
#define SGD_LOOP(T)                                                                      \
  static void sgd_##T(T *restrict p, const T *restrict g, T *restrict buf, int64_t n,     \
                      const wick_sgd_options *o, int first) {                            \
    const T wd = (T)o->weight_decay, mom = (T)o->momentum, damp1 = (T)(1 - o->dampening); \
    const T neg_lr = (T)(-o->lr);                                                        \
    const int use_wd = o->weight_decay != 0, use_mom = o->momentum != 0;                 \
    const int nesterov = o->nesterov, maximize = o->maximize;                            \
    _Pragma("omp parallel for schedule(static) if (n >= OPTIM_GRAIN)")                   \
    for (int64_t i = 0; i < n; i++) {                                                    \
      T d = maximize ? -g[i] : g[i];                                                     \
      if (use_wd) d = d + wd * p[i];                                                     \
      if (use_mom) {                                                                     \
        T b = first ? d : buf[i] * mom + damp1 * d;                                      \
        buf[i] = b;                                                                      \
        d = nesterov ? d + mom * b : b;                                                  \
      }                                                                                  \
      p[i] = p[i] + neg_lr * d;                                                          \
    }                                                                                    \
  }
SGD_LOOP(float)
SGD_LOOP(double)

wick_status wick_cpu_sgd_step(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                              wick_tensor *const *bufs, const wick_sgd_options *o, bool first) {
  for (int k = 0; k < n; k++) {
    int64_t len = wick_tensor_numel(params[k]);
    void *b = bufs && bufs[k] ? wick_tensor_data(bufs[k]) : NULL;
    if (params[k]->dtype == WICK_DTYPE_F32)
      sgd_float(wick_tensor_data(params[k]), wick_tensor_data(grads[k]), b, len, o, first);
    else
      sgd_double(wick_tensor_data(params[k]), wick_tensor_data(grads[k]), b, len, o, first);
  }
  return WICK_OK;
}

/* g = maximize ? -g : g; (Adam) g += wd * p | (AdamW) p *= 1 - lr * wd;
 * m = m * b1 + (1 - b1) * g; v = v * b2 + (1 - b2) * g * g; (amsgrad) vmax = max(vmax, v);
 * denom = sqrt(v or vmax) / sqrt(1 - b2^t) + eps; p += -(lr / (1 - b1^t)) * m / denom */
#define ADAM_LOOP(T, SQRT)                                                                   \
  static void adam_##T(T *restrict p, const T *restrict g, T *restrict m, T *restrict v,      \
                       T *restrict vmax, int64_t n, const wick_adam_options *o) {            \
    double bc1 = 1 - pow(o->beta1, (double)o->step);                                         \
    double bc2 = 1 - pow(o->beta2, (double)o->step);                                         \
    const T neg_step = (T)(-(o->lr / bc1)), bc2_sqrt = (T)sqrt(bc2), eps = (T)o->eps;        \
    const T b1 = (T)o->beta1, b2 = (T)o->beta2, b1c = (T)(1 - o->beta1), b2c = (T)(1 - o->beta2); \
    const T wd = (T)o->weight_decay, decay = (T)(1 - o->lr * o->weight_decay);               \
    const int l2 = o->weight_decay != 0 && !o->decoupled;                                    \
    const int decoupled = o->weight_decay != 0 && o->decoupled;                              \
    const int maximize = o->maximize, amsgrad = o->amsgrad;                                  \
    _Pragma("omp parallel for schedule(static) if (n >= OPTIM_GRAIN)")                       \
    for (int64_t i = 0; i < n; i++) {                                                        \
      T gi = maximize ? -g[i] : g[i];                                                        \
      T pi = p[i];                                                                           \
      if (l2) gi = gi + wd * pi;                                                             \
      if (decoupled) pi = pi * decay;                                                        \
      T mi = m[i] * b1 + b1c * gi;                                                           \
      T vi = v[i] * b2 + b2c * gi * gi;                                                      \
      m[i] = mi;                                                                             \
      v[i] = vi;                                                                             \
      if (amsgrad) {                                                                         \
        T w = vmax[i];                                                                       \
        if (vi > w || vi != vi) w = vi; /* torch.maximum propagates NaN */                   \
        vmax[i] = w;                                                                         \
        vi = w;                                                                              \
      }                                                                                      \
      T denom = SQRT(vi) / bc2_sqrt + eps;                                                   \
      p[i] = pi + neg_step * mi / denom;                                                     \
    }                                                                                        \
  }
ADAM_LOOP(float, sqrtf)
ADAM_LOOP(double, sqrt)

wick_status wick_cpu_adam_step(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                               wick_tensor *const *exp_avg, wick_tensor *const *exp_avg_sq,
                               wick_tensor *const *max_exp_avg_sq, const wick_adam_options *o) {
  for (int k = 0; k < n; k++) {
    int64_t len = wick_tensor_numel(params[k]);
    void *vmax = o->amsgrad ? wick_tensor_data(max_exp_avg_sq[k]) : NULL;
    if (params[k]->dtype == WICK_DTYPE_F32)
      adam_float(wick_tensor_data(params[k]), wick_tensor_data(grads[k]),
                 wick_tensor_data(exp_avg[k]), wick_tensor_data(exp_avg_sq[k]), vmax, len, o);
    else
      adam_double(wick_tensor_data(params[k]), wick_tensor_data(grads[k]),
                  wick_tensor_data(exp_avg[k]), wick_tensor_data(exp_avg_sq[k]), vmax, len, o);
  }
  return WICK_OK;
}
