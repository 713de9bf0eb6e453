/* Batch and layer normalisation on the CPU, forward and backward. Statistics accumulate in
 * double (two passes: mean, then squared deviations) whatever the tensor dtype.
 * Shape letters: batch norm sees x as [N, C, S] (S = product of the spatial dims) and works
 * per channel; layer norm sees x as [M, D] and works per row. */
#include <math.h>
#include <stdlib.h>

#include "nn_kernels.h"

#define PAR_WORK 32768

static inline double ld(const void *p, int64_t i, bool f64) {
  return f64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}
static inline void st(void *p, int64_t i, bool f64, double v) {
  if (f64) ((double *)p)[i] = v;
  else ((float *)p)[i] = (float)v;
}
static const void *dat(const wick_tensor *t) { return t ? wick_tensor_data(t) : NULL; }

wick_status wick_cpu_batch_norm(wick_tensor *out, const wick_tensor *x, const wick_tensor *weight,
                                const wick_tensor *bias, wick_tensor *running_mean,
                                wick_tensor *running_var, wick_tensor *mean, wick_tensor *invstd,
                                int64_t N, int64_t C, int64_t S, bool training, double momentum,
                                double eps) {
  bool f64 = x->dtype == WICK_DTYPE_F64;
  const void *xp = dat(x), *wp = dat(weight), *bp = dat(bias);
  void *op = wick_tensor_data(out), *mp = wick_tensor_data(mean), *ip = wick_tensor_data(invstd);
  void *rmp = running_mean ? wick_tensor_data(running_mean) : NULL;
  void *rvp = running_var ? wick_tensor_data(running_var) : NULL;
  int64_t M = N * S;
#pragma omp parallel for schedule(static) if (N * C * S >= PAR_WORK)
  for (int64_t c = 0; c < C; c++) {
    double mu, is;
    if (training) {
      double s = 0, ss = 0;
      for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < S; k++) s += ld(xp, (n * C + c) * S + k, f64);
      mu = M > 0 ? s / (double)M : NAN;
      for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < S; k++) {
          double d = ld(xp, (n * C + c) * S + k, f64) - mu;
          ss += d * d;
        }
      double var = M > 0 ? ss / (double)M : NAN;
      is = 1.0 / sqrt(var + eps);
      if (rmp) st(rmp, c, f64, (1 - momentum) * ld(rmp, c, f64) + momentum * mu);
      if (rvp) {
        double unbiased = M > 1 ? ss / (double)(M - 1) : NAN;
        st(rvp, c, f64, (1 - momentum) * ld(rvp, c, f64) + momentum * unbiased);
      }
    } else {
      mu = ld(rmp, c, f64);
      is = 1.0 / sqrt(ld(rvp, c, f64) + eps);
    }
    st(mp, c, f64, mu);
    st(ip, c, f64, is);
    /* y = x * scale + shift */
    double w = wp ? ld(wp, c, f64) : 1.0, b = bp ? ld(bp, c, f64) : 0.0;
    double scale = w * is, shift = b - mu * scale;
    for (int64_t n = 0; n < N; n++) {
      int64_t base = (n * C + c) * S;
      if (f64) {
        const double *xs = (const double *)xp + base;
        double *os = (double *)op + base;
        for (int64_t k = 0; k < S; k++) os[k] = xs[k] * scale + shift;
      } else {
        const float *xs = (const float *)xp + base;
        float *os = (float *)op + base;
        float sc = (float)scale, sh = (float)shift;
        for (int64_t k = 0; k < S; k++) os[k] = xs[k] * sc + sh;
      }
    }
  }
  return WICK_OK;
}

wick_status wick_cpu_batch_norm_backward(wick_tensor *gin, wick_tensor *gw, wick_tensor *gb,
                                         const wick_tensor *gout, const wick_tensor *x,
                                         const wick_tensor *weight, const wick_tensor *mean,
                                         const wick_tensor *invstd, int64_t N, int64_t C,
                                         int64_t S, bool training) {
  bool f64 = x->dtype == WICK_DTYPE_F64;
  const void *xp = dat(x), *gp = dat(gout), *wp = dat(weight), *mp = dat(mean), *ip = dat(invstd);
  void *gip = gin ? wick_tensor_data(gin) : NULL;
  void *gwp = gw ? wick_tensor_data(gw) : NULL, *gbp = gb ? wick_tensor_data(gb) : NULL;
  int64_t M = N * S;
#pragma omp parallel for schedule(static) if (N * C * S >= PAR_WORK)
  for (int64_t c = 0; c < C; c++) {
    double mu = ld(mp, c, f64), is = ld(ip, c, f64), w = wp ? ld(wp, c, f64) : 1.0;
    double sg = 0, sgx = 0; /* sum(g), sum(g * (x - mean)) */
    for (int64_t n = 0; n < N; n++)
      for (int64_t k = 0; k < S; k++) {
        int64_t i = (n * C + c) * S + k;
        double g = ld(gp, i, f64);
        sg += g;
        sgx += g * (ld(xp, i, f64) - mu);
      }
    if (gwp) st(gwp, c, f64, sgx * is);
    if (gbp) st(gbp, c, f64, sg);
    if (!gip) continue;
    /* training: dx = w*is * (g - mean(g) - xhat * mean(g*xhat)); eval: dx = w*is * g */
    double k1 = w * is, mg = training ? sg / (double)M : 0.0;
    double k2 = training ? sgx * is * is / (double)M : 0.0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t k = 0; k < S; k++) {
        int64_t i = (n * C + c) * S + k;
        double g = ld(gp, i, f64), d = ld(xp, i, f64) - mu;
        st(gip, i, f64, k1 * (g - mg - d * k2));
      }
  }
  return WICK_OK;
}

wick_status wick_cpu_layer_norm(wick_tensor *out, const wick_tensor *x, const wick_tensor *weight,
                                const wick_tensor *bias, wick_tensor *mean, wick_tensor *rstd,
                                int64_t M, int64_t D, double eps) {
  bool f64 = x->dtype == WICK_DTYPE_F64;
  const void *xp = dat(x), *wp = dat(weight), *bp = dat(bias);
  void *op = wick_tensor_data(out), *mp = wick_tensor_data(mean), *rp = wick_tensor_data(rstd);
#pragma omp parallel for schedule(static) if (M * D >= PAR_WORK)
  for (int64_t m = 0; m < M; m++) {
    double s = 0, ss = 0;
    for (int64_t d = 0; d < D; d++) s += ld(xp, m * D + d, f64);
    double mu = D > 0 ? s / (double)D : NAN;
    for (int64_t d = 0; d < D; d++) {
      double v = ld(xp, m * D + d, f64) - mu;
      ss += v * v;
    }
    double r = 1.0 / sqrt((D > 0 ? ss / (double)D : NAN) + eps);
    st(mp, m, f64, mu);
    st(rp, m, f64, r);
    for (int64_t d = 0; d < D; d++) {
      double y = (ld(xp, m * D + d, f64) - mu) * r;
      if (wp) y *= ld(wp, d, f64);
      if (bp) y += ld(bp, d, f64);
      st(op, m * D + d, f64, y);
    }
  }
  return WICK_OK;
}

wick_status wick_cpu_layer_norm_backward(wick_tensor *gin, wick_tensor *gw, wick_tensor *gb,
                                         const wick_tensor *gout, const wick_tensor *x,
                                         const wick_tensor *weight, const wick_tensor *mean,
                                         const wick_tensor *rstd, int64_t M, int64_t D) {
  bool f64 = x->dtype == WICK_DTYPE_F64;
  const void *xp = dat(x), *gp = dat(gout), *wp = dat(weight), *mp = dat(mean), *rp = dat(rstd);
  if (gin) {
    void *gip = wick_tensor_data(gin);
#pragma omp parallel for schedule(static) if (M * D >= PAR_WORK)
    for (int64_t m = 0; m < M; m++) {
      double mu = ld(mp, m, f64), r = ld(rp, m, f64), a = 0, b = 0;
      for (int64_t d = 0; d < D; d++) { /* a = mean(gxhat), b = mean(gxhat * xhat) */
        double gx = ld(gp, m * D + d, f64) * (wp ? ld(wp, d, f64) : 1.0);
        a += gx;
        b += gx * (ld(xp, m * D + d, f64) - mu) * r;
      }
      a /= (double)D;
      b /= (double)D;
      for (int64_t d = 0; d < D; d++) {
        double gx = ld(gp, m * D + d, f64) * (wp ? ld(wp, d, f64) : 1.0);
        double xh = (ld(xp, m * D + d, f64) - mu) * r;
        st(gip, m * D + d, f64, r * (gx - a - xh * b));
      }
    }
  }
  if (!gw && !gb) return WICK_OK;
  /* column sums over rows, in double, parallel over columns */
  void *gwp = gw ? wick_tensor_data(gw) : NULL, *gbp = gb ? wick_tensor_data(gb) : NULL;
#pragma omp parallel for schedule(static) if (M * D >= PAR_WORK)
  for (int64_t d = 0; d < D; d++) {
    double sw = 0, sb = 0;
    for (int64_t m = 0; m < M; m++) {
      double g = ld(gp, m * D + d, f64);
      sb += g;
      sw += g * (ld(xp, m * D + d, f64) - ld(mp, m, f64)) * ld(rp, m, f64);
    }
    if (gwp) st(gwp, d, f64, sw);
    if (gbp) st(gbp, d, f64, sb);
  }
  return WICK_OK;
}
