/* The CPU's fused softmax / log_softmax slots, forward and backward (backend.h: softmax):
 * f32 rows along the last dim run the vectorised kernels of vec.h in two passes (max, then
 * exp with the sum, then scale); every other layout and dtype computes in double. */
#include <math.h>
#include <stdlib.h>

#include "cpu.h"
#include "iter.h"
#include "vec.h"

/* outer x C x inner around dim d of t */
static void split(const wick_tensor *t, int d, int64_t *outer, int64_t *c, int64_t *inner) {
  *outer = *inner = 1;
  for (int i = 0; i < d; i++) *outer *= t->sizes[i];
  *c = t->ndim ? t->sizes[d] : 1;
  for (int i = d + 1; i < t->ndim; i++) *inner *= t->sizes[i];
}

static void rows_f32(float *o, const float *a, int64_t rows, int64_t c, bool lg) {
  const wick_cpu_vec *v = wick_cpu_vec_get();
#pragma omp parallel for schedule(static) if (rows * c >= WICK_GRAIN && rows > 1)
  for (int64_t r = 0; r < rows; r++) {
    const float *x = a + r * c;
    float *y = o + r * c;
    float m = v->max(x, c);
    if (lg) {
      float ls = logf(v->exp_sum(NULL, x, c, m));
      for (int64_t i = 0; i < c; i++) y[i] = (x[i] - m) - ls;
    } else {
      float s = v->exp_sum(y, x, c, m);
      v->affine(y, y, c, 1.0f / s, 0.0f);
    }
  }
}

static void generic(wick_tensor *out, const wick_tensor *a, int d, bool lg) {
  int64_t outer, c, inner;
  split(a, d, &outer, &c, &inner);
  wick_dtype dt = a->dtype;
  size_t es = wick_dtype_size(dt);
  const char *src = wick_tensor_data(a);
  char *dst = wick_tensor_data(out);
#pragma omp parallel for schedule(static) if (outer * c * inner >= WICK_GRAIN)
  for (int64_t p = 0; p < outer * inner; p++) {
    int64_t base = (p / inner) * c * inner + p % inner;
    double m = -INFINITY, s = 0;
    for (int64_t i = 0; i < c; i++) {
      double x = wick_load_f64(src + (base + i * inner) * es, dt);
      if (x != x || x > m) m = x;
    }
    for (int64_t i = 0; i < c; i++) s += exp(wick_load_f64(src + (base + i * inner) * es, dt) - m);
    double ls = lg ? log(s) : 0;
    for (int64_t i = 0; i < c; i++) {
      double x = wick_load_f64(src + (base + i * inner) * es, dt) - m;
      wick_store_f64(dst + (base + i * inner) * es, dt, lg ? x - ls : exp(x) * (1 / s));
    }
  }
}

wick_status wick_cpu_softmax(wick_tensor *out, const wick_tensor *a, int d, bool lg) {
  int64_t outer, c, inner;
  split(a, d, &outer, &c, &inner);
  if (a->dtype == WICK_DTYPE_F32 && inner == 1 && c > 0)
    rows_f32(wick_tensor_data(out), wick_tensor_data(a), outer, c, lg);
  else
    generic(out, a, d, lg);
  return WICK_OK;
}

/* softmax: gin = y (g - sum(g y)); log_softmax: gin = g - exp(y) sum(g) */
wick_status wick_cpu_softmax_backward(wick_tensor *gin, const wick_tensor *g, const wick_tensor *y,
                                      int d, bool lg) {
  int64_t outer, c, inner;
  split(y, d, &outer, &c, &inner);
  wick_dtype dt = y->dtype;
  if (dt == WICK_DTYPE_F32 && inner == 1) {
    const wick_cpu_vec *v = wick_cpu_vec_get();
    const float *gp = wick_tensor_data(g), *yp = wick_tensor_data(y);
    float *op = wick_tensor_data(gin);
#pragma omp parallel for schedule(static) if (outer * c >= WICK_GRAIN && outer > 1)
    for (int64_t r = 0; r < outer; r++) {
      const float *gr = gp + r * c, *yr = yp + r * c;
      float *o = op + r * c;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = 0;
      if (lg) {
        for (; i + 4 <= c; i += 4) { s0 += gr[i]; s1 += gr[i + 1]; s2 += gr[i + 2]; s3 += gr[i + 3]; }
        for (; i < c; i++) s0 += gr[i];
        float s = (s0 + s1) + (s2 + s3);
        v->exp(o, yr, c);
        for (i = 0; i < c; i++) o[i] = gr[i] - o[i] * s;
      } else {
        for (; i + 4 <= c; i += 4) {
          s0 += gr[i] * yr[i]; s1 += gr[i + 1] * yr[i + 1];
          s2 += gr[i + 2] * yr[i + 2]; s3 += gr[i + 3] * yr[i + 3];
        }
        for (; i < c; i++) s0 += gr[i] * yr[i];
        float s = (s0 + s1) + (s2 + s3);
        for (i = 0; i < c; i++) o[i] = yr[i] * (gr[i] - s);
      }
    }
    return WICK_OK;
  }
  size_t es = wick_dtype_size(dt);
  const char *gp = wick_tensor_data(g), *yp = wick_tensor_data(y);
  char *op = wick_tensor_data(gin);
#pragma omp parallel for schedule(static) if (outer * c * inner >= WICK_GRAIN)
  for (int64_t p = 0; p < outer * inner; p++) {
    int64_t base = (p / inner) * c * inner + p % inner;
    double s = 0;
    for (int64_t i = 0; i < c; i++) {
      size_t at = (size_t)(base + i * inner) * es;
      double gv = wick_load_f64(gp + at, dt);
      s += lg ? gv : gv * wick_load_f64(yp + at, dt);
    }
    for (int64_t i = 0; i < c; i++) {
      size_t at = (size_t)(base + i * inner) * es;
      double gv = wick_load_f64(gp + at, dt), yv = wick_load_f64(yp + at, dt);
      wick_store_f64(op + at, dt, lg ? gv - exp(yv) * s : yv * (gv - s));
    }
  }
  return WICK_OK;
}
