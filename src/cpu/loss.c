/* Loss kernels on the CPU: cross entropy fused with log_softmax (forward and backward), nll,
 * and the elementwise losses (mse, l1, binary cross entropy with logits). Arithmetic is in
 * double; core reduces the per-position results and picks the mean's denominators.
 * Shape letters: x is [N, C, S] (class dim in the middle, S = product of extra dims), and
 * position i = n*S + s indexes targets and per-position results. */
#include <math.h>
#include <string.h>

#include "nn_kernels.h"

#define PAR_WORK 16384

static inline double ld(const void *p, int64_t i, bool f64) {
  return f64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}
static inline void st(void *p, int64_t i, bool f64, double v) {
  if (f64) ((double *)p)[i] = v;
  else ((float *)p)[i] = (float)v;
}
static const void *dat(const wick_tensor *t) { return t ? wick_tensor_data(t) : NULL; }

/* log(sum_c exp(x[n, c, s])) */
static double row_lse(const void *xp, bool f64, int64_t base, int64_t C, int64_t S) {
  double m = -INFINITY;
  for (int64_t c = 0; c < C; c++) {
    double v = ld(xp, base + c * S, f64);
    if (v > m || v != v) m = v;
  }
  if (m != m || isinf(m)) return m; /* NaN, or all -inf / +inf */
  double s = 0;
  for (int64_t c = 0; c < C; c++) s += exp(ld(xp, base + c * S, f64) - m);
  return m + log(s);
}

wick_status wick_cpu_cross_entropy(const wick_ce_args *a, const wick_tensor *x, wick_tensor *lse,
                                   wick_tensor *nll_t, wick_tensor *smooth_t, wick_tensor *wt_t) {
  double *nll = wick_tensor_data(nll_t), *wt = wick_tensor_data(wt_t);
  double *smooth = smooth_t ? wick_tensor_data(smooth_t) : NULL;
  bool f64 = x->dtype == WICK_DTYPE_F64;
  const void *xp = dat(x), *wp = dat(a->weight), *pp = dat(a->prob);
  const int64_t *tp = a->target ? wick_tensor_data(a->target) : NULL;
  void *lp = wick_tensor_data(lse);
  int64_t C = a->C, S = a->S, NS = a->N * a->S;
#pragma omp parallel for schedule(static) if (NS * C >= PAR_WORK)
  for (int64_t i = 0; i < NS; i++) {
    int64_t n = i / S, s = i % S, base = n * C * S + s;
    double l = row_lse(xp, f64, base, C, S);
    st(lp, i, f64, l);
    if (pp) { /* -sum_c w_c p_c log_softmax_c */
      double acc = 0;
      for (int64_t c = 0; c < C; c++) {
        double p = ld(pp, base + c * S, f64);
        if (p == 0) continue; /* 0 * -inf stays 0, as xlogy would */
        acc -= (wp ? ld(wp, c, f64) : 1.0) * p * (ld(xp, base + c * S, f64) - l);
      }
      nll[i] = acc;
      continue;
    }
    int64_t t = tp[i];
    if (t == a->ignore_index) {
      nll[i] = 0;
      wt[i] = 0;
      if (smooth) smooth[i] = 0;
      continue;
    }
    double w = wp ? ld(wp, t, f64) : 1.0;
    nll[i] = w * (l - ld(xp, base + t * S, f64));
    wt[i] = w;
    if (smooth) {
      double acc = 0;
      for (int64_t c = 0; c < C; c++) acc += (wp ? ld(wp, c, f64) : 1.0) * (l - ld(xp, base + c * S, f64));
      smooth[i] = acc;
    }
  }
  return WICK_OK;
}

wick_status wick_cpu_cross_entropy_backward(const wick_ce_args *a, wick_tensor *gin,
                                            wick_tensor *gprob, const wick_tensor *g,
                                            int64_t gstride, const wick_tensor *x,
                                            const wick_tensor *lse, double a_nll, double a_smooth) {
  bool f64 = x->dtype == WICK_DTYPE_F64;
  const void *xp = dat(x), *wp = dat(a->weight), *pp = dat(a->prob), *lp = dat(lse), *gp = dat(g);
  const int64_t *tp = a->target ? wick_tensor_data(a->target) : NULL;
  void *gip = gin ? wick_tensor_data(gin) : NULL, *gpp = gprob ? wick_tensor_data(gprob) : NULL;
  int64_t C = a->C, S = a->S, NS = a->N * a->S;
  double wsum = 0;
  for (int64_t c = 0; c < C; c++) wsum += wp ? ld(wp, c, f64) : 1.0;
#pragma omp parallel for schedule(static) if (NS * C >= PAR_WORK)
  for (int64_t i = 0; i < NS; i++) {
    int64_t n = i / S, s = i % S, base = n * C * S + s;
    double gi = ld(gp, i * gstride, f64), l = ld(lp, i, f64);
    if (pp) {
      double k = gi * a_nll, wp_sum = 0; /* sum_c w_c p_c */
      for (int64_t c = 0; c < C; c++) wp_sum += (wp ? ld(wp, c, f64) : 1.0) * ld(pp, base + c * S, f64);
      for (int64_t c = 0; c < C; c++) {
        double w = wp ? ld(wp, c, f64) : 1.0, lsm = ld(xp, base + c * S, f64) - l;
        if (gip) st(gip, base + c * S, f64, k * (exp(lsm) * wp_sum - w * ld(pp, base + c * S, f64)));
        if (gpp) st(gpp, base + c * S, f64, -k * w * lsm);
      }
      continue;
    }
    int64_t t = tp[i];
    if (t == a->ignore_index) {
      for (int64_t c = 0; c < C; c++) st(gip, base + c * S, f64, 0.0);
      continue;
    }
    double kn = gi * a_nll * (wp ? ld(wp, t, f64) : 1.0), ks = gi * a_smooth;
    for (int64_t c = 0; c < C; c++) {
      double p = exp(ld(xp, base + c * S, f64) - l), w = wp ? ld(wp, c, f64) : 1.0;
      double v = kn * (p - (c == t ? 1.0 : 0.0));
      if (ks != 0) v += ks * (wsum * p - w);
      st(gip, base + c * S, f64, v);
    }
  }
  return WICK_OK;
}

wick_status wick_cpu_nll_loss(const wick_ce_args *a, const wick_tensor *x, wick_tensor *out_t,
                              wick_tensor *wt_t) {
  double *out = wick_tensor_data(out_t), *wt = wick_tensor_data(wt_t);
  bool f64 = x->dtype == WICK_DTYPE_F64;
  const void *xp = dat(x), *wp = dat(a->weight);
  const int64_t *tp = wick_tensor_data(a->target);
  int64_t C = a->C, S = a->S, NS = a->N * a->S;
  for (int64_t i = 0; i < NS; i++) {
    int64_t n = i / S, s = i % S, t = tp[i];
    if (t == a->ignore_index) { out[i] = 0; wt[i] = 0; continue; }
    double w = wp ? ld(wp, t, f64) : 1.0;
    out[i] = -w * ld(xp, n * C * S + t * S + s, f64);
    wt[i] = w;
  }
  return WICK_OK;
}

wick_status wick_cpu_nll_loss_backward(const wick_ce_args *a, wick_tensor *gin, const wick_tensor *g,
                                       int64_t gstride, double scale) {
  bool f64 = gin->dtype == WICK_DTYPE_F64;
  const void *wp = dat(a->weight), *gp = dat(g);
  const int64_t *tp = wick_tensor_data(a->target);
  void *gip = wick_tensor_data(gin);
  int64_t C = a->C, S = a->S, NS = a->N * a->S;
  memset(gip, 0, (f64 ? 8 : 4) * (size_t)(a->N * C * S));
  for (int64_t i = 0; i < NS; i++) {
    int64_t n = i / S, s = i % S, t = tp[i];
    if (t == a->ignore_index) continue;
    double w = wp ? ld(wp, t, f64) : 1.0;
    st(gip, n * C * S + t * S + s, f64, -ld(gp, i * gstride, f64) * scale * w);
  }
  return WICK_OK;
}

/* softplus(-x) = log(1 + exp(-x)), computed stably as PyTorch does. */
static inline double sp_neg(double x) { return log1p(exp(-fabs(x))) + (x < 0 ? -x : 0); }

wick_status wick_cpu_elem_loss(wick_loss_kind kind, int64_t n, wick_tensor *loss,
                               const wick_tensor *x, const wick_tensor *t, const wick_tensor *w,
                               const wick_tensor *pw) {
  bool f64 = x->dtype == WICK_DTYPE_F64;
  const void *xp = dat(x), *tp = dat(t), *wp = dat(w), *pwp = dat(pw);
  void *lp = wick_tensor_data(loss);
#pragma omp parallel for schedule(static) if (n >= PAR_WORK)
  for (int64_t i = 0; i < n; i++) {
    double xv = ld(xp, i, f64), tv = ld(tp, i, f64), v;
    switch (kind) {
      case WICK_LOSS_MSE: v = (xv - tv) * (xv - tv); break;
      case WICK_LOSS_L1: v = fabs(xv - tv); break;
      default: {
        double lw = pwp ? (ld(pwp, i, f64) - 1) * tv + 1 : 1.0;
        v = (1 - tv) * xv + lw * sp_neg(xv);
        if (wp) v *= ld(wp, i, f64);
      }
    }
    st(lp, i, f64, v);
  }
  return WICK_OK;
}

wick_status wick_cpu_elem_loss_backward(wick_loss_kind kind, int64_t n, wick_tensor *gx,
                                        wick_tensor *gt, const wick_tensor *g, int64_t gstride,
                                        double scale, const wick_tensor *x, const wick_tensor *t,
                                        const wick_tensor *w, const wick_tensor *pw) {
  bool f64 = x->dtype == WICK_DTYPE_F64;
  const void *xp = dat(x), *tp = dat(t), *wp = dat(w), *pwp = dat(pw), *gp = dat(g);
  void *gxp = gx ? wick_tensor_data(gx) : NULL, *gtp = gt ? wick_tensor_data(gt) : NULL;
#pragma omp parallel for schedule(static) if (n >= PAR_WORK)
  for (int64_t i = 0; i < n; i++) {
    double xv = ld(xp, i, f64), tv = ld(tp, i, f64), k = ld(gp, i * gstride, f64) * scale;
    double dx, dt;
    switch (kind) {
      case WICK_LOSS_MSE: dx = 2 * (xv - tv); dt = -dx; break;
      case WICK_LOSS_L1: {
        double d = xv - tv;
        dx = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0; /* sign, as PyTorch's l1 backward */
        dt = -dx;
        break;
      }
      default: {
        double sig = 1.0 / (1.0 + exp(-xv));
        if (pwp) {
          double p = ld(pwp, i, f64), lw = (p - 1) * tv + 1;
          dx = lw * sig - p * tv;
          dt = -xv + (p - 1) * sp_neg(xv);
        } else {
          dx = sig - tv;
          dt = -xv;
        }
        if (wp) { double wv = ld(wp, i, f64); dx *= wv; dt *= wv; }
      }
    }
    if (gxp) st(gxp, i, f64, k * dx);
    if (gtp) st(gtp, i, f64, k * dt);
  }
  return WICK_OK;
}
