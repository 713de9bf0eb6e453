/* Fused SGD and Adam/AdamW updates: argument checks, then one loop per (optimizer, dtype) that
 * reads and writes every buffer once. Each line of a loop is one PyTorch op of the
 * single-tensor implementation, evaluated in the tensor's dtype with the scalars rounded to it
 * (as PyTorch's CPU kernels do), so results agree with PyTorch to float rounding. */
#include "optim.h"

#include <math.h>

#include "ops.h"

/* Below this many elements an update runs on one thread (OpenMP start-up costs more). */
#define OPTIM_GRAIN 32768

static wick_status check_param(const char *op, const wick_tensor *p, const wick_tensor *g) {
  char b1[128], b2[128];
  if (p->device.type != WICK_DEVICE_CPU) {
    char d[32];
    wick_device_format(p->device, d, sizeof d);
    return wick_errorf(WICK_ERR_DEVICE, "%s: fused update is not implemented for device %s", op, d);
  }
  if (p->dtype != WICK_DTYPE_F32 && p->dtype != WICK_DTYPE_F64)
    return wick_errorf(WICK_ERR_DTYPE, "%s: parameters must be f32 or f64 (got %s)", op,
                       wick_dtype_name(p->dtype));
  if (!wick_shape_eq(p, g))
    return wick_errorf(WICK_ERR_SHAPE, "%s: grad of shape %s does not match param of shape %s", op,
                       wick_shape_str(g->ndim, g->sizes, b1, sizeof b1),
                       wick_shape_str(p->ndim, p->sizes, b2, sizeof b2));
  if (g->dtype != p->dtype)
    return wick_errorf(WICK_ERR_DTYPE, "%s: grad of dtype %s does not match param of dtype %s", op,
                       wick_dtype_name(g->dtype), wick_dtype_name(p->dtype));
  if (!wick_device_eq(g->device, p->device))
    return wick_errorf(WICK_ERR_DEVICE, "%s: grad is on a different device than its param", op);
  return WICK_OK;
}

static wick_status check_state(const char *op, const char *name, const wick_tensor *p,
                               const wick_tensor *s) {
  char b1[128], b2[128];
  if (!wick_shape_eq(p, s))
    return wick_errorf(WICK_ERR_SHAPE, "%s: state %s of shape %s does not match param of shape %s",
                       op, name, wick_shape_str(s->ndim, s->sizes, b1, sizeof b1),
                       wick_shape_str(p->ndim, p->sizes, b2, sizeof b2));
  if (s->dtype != p->dtype)
    return wick_errorf(WICK_ERR_DTYPE, "%s: state %s of dtype %s does not match param of dtype %s",
                       op, name, wick_dtype_name(s->dtype), wick_dtype_name(p->dtype));
  if (!wick_device_eq(s->device, p->device))
    return wick_errorf(WICK_ERR_DEVICE, "%s: state %s is on a different device than its param",
                       op, name);
  return WICK_OK;
}

/* ---- SGD ---- */

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

/* Contiguous operands for the loops: a non-contiguous one is copied in (and back by
 * finish_operand when written). Returns a new reference. */
static wick_status operand(const wick_tensor *t, wick_tensor **out) {
  return wick_contiguous(t, out);
}

static wick_status finish_operand(wick_tensor *orig, wick_tensor *c) {
  wick_status s = WICK_OK;
  if (c != orig) s = wick_copy_(orig, c);
  else wick_tensor_bump_version(orig);
  wick_tensor_release(c);
  return s;
}

wick_status wick_sgd_update(wick_tensor *param, const wick_tensor *grad, wick_tensor **buf,
                            const wick_sgd_options *o) {
  const char *op = "SGD";
  WICK_TRY(check_param(op, param, grad));
  int use_mom = o->momentum != 0;
  if (use_mom && *buf) WICK_TRY(check_state(op, "momentum_buffer", param, *buf));
  int64_t n = wick_tensor_numel(param);
  wick_tensor *p = NULL, *g = NULL, *b = NULL, *fresh = NULL;
  wick_status s = operand(param, &p);
  if (s == WICK_OK) s = operand(grad, &g);
  if (s == WICK_OK && use_mom) {
    if (*buf) s = operand(*buf, &b);
    else if ((s = wick_tensor_new(param->dtype, param->device, param->ndim, param->sizes, &fresh)) == WICK_OK)
      b = wick_tensor_retain(fresh);
  }
  if (s != WICK_OK) goto fail;
  int first = fresh != NULL;
  if (param->dtype == WICK_DTYPE_F32)
    sgd_float(wick_tensor_data(p), wick_tensor_data(g), b ? wick_tensor_data(b) : NULL, n, o, first);
  else
    sgd_double(wick_tensor_data(p), wick_tensor_data(g), b ? wick_tensor_data(b) : NULL, n, o, first);
  wick_tensor_release(g);
  s = finish_operand(param, p);
  if (b) {
    wick_status sb = finish_operand(fresh ? fresh : *buf, b);
    if (s == WICK_OK) s = sb;
  }
  if (s != WICK_OK) { wick_tensor_release(fresh); return s; }
  if (fresh) *buf = fresh;
  return WICK_OK;
fail:
  wick_tensor_release(p);
  wick_tensor_release(g);
  wick_tensor_release(b);
  wick_tensor_release(fresh);
  return s;
}

/* ---- Adam / AdamW ---- */

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

wick_status wick_adam_update(wick_tensor *param, const wick_tensor *grad, wick_tensor *exp_avg,
                             wick_tensor *exp_avg_sq, wick_tensor *max_exp_avg_sq,
                             const wick_adam_options *o) {
  const char *op = o->decoupled ? "AdamW" : "Adam";
  WICK_TRY(check_param(op, param, grad));
  if (!exp_avg || !exp_avg_sq)
    return wick_errorf(WICK_ERR_ARG, "%s: missing state exp_avg or exp_avg_sq", op);
  if (o->amsgrad && !max_exp_avg_sq)
    return wick_errorf(WICK_ERR_ARG, "%s: amsgrad needs the state max_exp_avg_sq", op);
  if (o->step < 1)
    return wick_errorf(WICK_ERR_ARG, "%s: step must be at least 1 (got %lld)", op, (long long)o->step);
  WICK_TRY(check_state(op, "exp_avg", param, exp_avg));
  WICK_TRY(check_state(op, "exp_avg_sq", param, exp_avg_sq));
  if (o->amsgrad) WICK_TRY(check_state(op, "max_exp_avg_sq", param, max_exp_avg_sq));
  int64_t n = wick_tensor_numel(param);
  wick_tensor *c[5] = {NULL, NULL, NULL, NULL, NULL}; /* p, g, m, v, vmax */
  wick_tensor *orig[5] = {param, (wick_tensor *)grad, exp_avg, exp_avg_sq,
                          o->amsgrad ? max_exp_avg_sq : NULL};
  wick_status s = WICK_OK;
  for (int k = 0; k < 5 && s == WICK_OK; k++)
    if (orig[k]) s = operand(orig[k], &c[k]);
  if (s != WICK_OK) {
    for (int k = 0; k < 5; k++) wick_tensor_release(c[k]);
    return s;
  }
  void *d[5];
  for (int k = 0; k < 5; k++) d[k] = c[k] ? wick_tensor_data(c[k]) : NULL;
  if (param->dtype == WICK_DTYPE_F32)
    adam_float(d[0], d[1], d[2], d[3], d[4], n, o);
  else
    adam_double(d[0], d[1], d[2], d[3], d[4], n, o);
  wick_tensor_release(c[1]);
  for (int k = 0; k < 5; k++) {
    if (k == 1 || !c[k]) continue;
    wick_status sk = finish_operand(orig[k], c[k]);
    if (s == WICK_OK) s = sk;
  }
  return s;
}
