/* 2-D pooling on the CPU: max (with argmax indices), average, adaptive average, and their
 * gradients. Every kernel loops over independent planes (image x channel) in parallel, so
 * a plane's gradient is only ever written by one thread. Window rules follow PyTorch's CPU
 * kernels (aten/src/ATen/native/cpu/{MaxPoolKernel,AvgPoolKernel,AdaptiveAvgPoolKernel}.cpp):
 * the first maximum wins a tie, a NaN always wins. */
#include <math.h>
#include <string.h>

#include "nn_kernels.h"

#define PAR_WORK 32768

/* The output columns [lo, hi) whose input column ow*S - P + koff lies in [0, W). */
static void col_range(int64_t W, int64_t OW, int64_t S, int64_t P, int64_t koff, int64_t *lo, int64_t *hi) {
  int64_t a = P - koff, b = W + P - koff; /* a <= ow*S < b */
  int64_t l = a <= 0 ? 0 : (a + S - 1) / S, h = b <= 0 ? 0 : (b + S - 1) / S;
  *hi = h > OW ? OW : h;
  *lo = l > *hi ? *hi : l;
}

/* Max pooling walks a whole output row per window element (ih outer, iw inner: PyTorch's
 * order, which decides ties), so the running max of neighbouring outputs are independent
 * chains the compiler turns into vector selects instead of a branch per element. */
#define DEF_MAX_POOL(T, UT, SFX)                                                                   \
  static void max_pool_##SFX(T *out, int64_t *idx, const T *in, const wick_pool_geom *g) {      \
    int64_t HW = g->H * g->W, OHW = g->OH * g->OW;                                             \
    _Pragma("omp parallel for schedule(static) if (g->P * OHW * g->KH * g->KW >= PAR_WORK)")   \
    for (int64_t pl = 0; pl < g->P; pl++) {                                                    \
      const T *x = in + pl * HW;                                                               \
      for (int64_t oh = 0; oh < g->OH; oh++) {                                                 \
        T *restrict m = out + pl * OHW + oh * g->OW;                                           \
        int64_t *restrict b = idx + pl * OHW + oh * g->OW;                                     \
        int64_t ih0 = oh * g->SH - g->PH;                                                      \
        int64_t ih1 = ih0 + (g->KH - 1) * g->DH + 1;                                           \
        if (ih1 > g->H) ih1 = g->H;                                                            \
        while (ih0 < 0) ih0 += g->DH;                                                          \
        for (int64_t ow = 0; ow < g->OW; ow++) {                                               \
          int64_t iw0 = ow * g->SW - g->PW;                                                    \
          while (iw0 < 0) iw0 += g->DW;                                                        \
          m[ow] = -(T)INFINITY;                                                                \
          b[ow] = ih0 * g->W + iw0;                                                            \
        }                                                                                      \
        for (int64_t ih = ih0; ih < ih1; ih += g->DH)                                          \
          for (int64_t kj = 0; kj < g->KW; kj++) {                                             \
            int64_t lo, hi, off = ih * g->W - g->PW + kj * g->DW, S = g->SW;                   \
            col_range(g->W, g->OW, S, g->PW, kj * g->DW, &lo, &hi);                            \
            for (int64_t ow = lo; ow < hi; ow++) { /* selects by masks: no branches */         \
              T v = x[off + ow * S], mo = m[ow];                                               \
              UT t = (UT)((v > mo) | (v != v)), mk = (UT)0 - t, vb, mb;                        \
              memcpy(&vb, &v, sizeof v);                                                       \
              memcpy(&mb, &mo, sizeof mo);                                                     \
              mb = (mb & ~mk) | (vb & mk);                                                     \
              memcpy(&m[ow], &mb, sizeof mb);                                                  \
              int64_t ik = -(int64_t)t;                                                        \
              b[ow] = (b[ow] & ~ik) | ((off + ow * S) & ik);                                   \
            }                                                                                  \
          }                                                                                    \
      }                                                                                        \
    }                                                                                          \
  }                                                                                            \
  static void max_pool_bwd_##SFX(T *gin, const T *gout, const int64_t *idx,                    \
                                 const wick_pool_geom *g) {                                    \
    int64_t HW = g->H * g->W, OHW = g->OH * g->OW;                                             \
    _Pragma("omp parallel for schedule(static) if (g->P * (OHW + HW) >= PAR_WORK)")            \
    for (int64_t pl = 0; pl < g->P; pl++) {                                                    \
      T *gi = gin + pl * HW;                                                                   \
      const T *go = gout + pl * OHW;                                                           \
      const int64_t *ix = idx + pl * OHW;                                                      \
      memset(gi, 0, sizeof(T) * (size_t)HW);                                                   \
      for (int64_t q = 0; q < OHW; q++)                                                        \
        if ((uint64_t)ix[q] < (uint64_t)HW) gi[ix[q]] += go[q]; /* never out of the plane */  \
    }                                                                                          \
  }

DEF_MAX_POOL(float, uint32_t, f32)
DEF_MAX_POOL(double, uint64_t, f64)

wick_status wick_cpu_max_pool2d(wick_tensor *out, wick_tensor *idx, const wick_tensor *in,
                                const wick_pool_geom *g) {
  if (in->dtype == WICK_DTYPE_F64)
    max_pool_f64(wick_tensor_data(out), wick_tensor_data(idx), wick_tensor_data(in), g);
  else
    max_pool_f32(wick_tensor_data(out), wick_tensor_data(idx), wick_tensor_data(in), g);
  return WICK_OK;
}

wick_status wick_cpu_max_pool2d_backward(wick_tensor *gin, const wick_tensor *gout,
                                         const wick_tensor *idx, const wick_pool_geom *g) {
  if (gin->dtype == WICK_DTYPE_F64)
    max_pool_bwd_f64(wick_tensor_data(gin), wick_tensor_data(gout), wick_tensor_data(idx), g);
  else
    max_pool_bwd_f32(wick_tensor_data(gin), wick_tensor_data(gout), wick_tensor_data(idx), g);
  return WICK_OK;
}

/* The clipped window of output (oh, ow) and its divisor, as PyTorch's avg_pool2d computes
 * them: the divisor counts padding (but not the ceil_mode overhang) when count_include_pad. */
typedef struct { int64_t h0, h1, w0, w1; double div; } avg_window;

static avg_window avg_win(const wick_pool_geom *g, int64_t oh, int64_t ow) {
  avg_window a;
  int64_t h0 = oh * g->SH - g->PH, w0 = ow * g->SW - g->PW;
  int64_t h1 = h0 + g->KH, w1 = w0 + g->KW;
  if (h1 > g->H + g->PH) h1 = g->H + g->PH;
  if (w1 > g->W + g->PW) w1 = g->W + g->PW;
  int64_t pool = (h1 - h0) * (w1 - w0);
  if (h0 < 0) h0 = 0;
  if (w0 < 0) w0 = 0;
  if (h1 > g->H) h1 = g->H;
  if (w1 > g->W) w1 = g->W;
  a.h0 = h0; a.h1 = h1; a.w0 = w0; a.w1 = w1;
  if (g->divisor) a.div = (double)g->divisor;
  else if (g->count_include_pad) a.div = (double)pool;
  else a.div = (double)((h1 - h0) * (w1 - w0));
  return a;
}

/* Adaptive windows: [floor(o*I/O), ceil((o+1)*I/O)). */
static int64_t ad_start(int64_t o, int64_t O, int64_t I) { return (o * I) / O; }
static int64_t ad_end(int64_t o, int64_t O, int64_t I) { return ((o + 1) * I + O - 1) / O; }

static avg_window adaptive_win(const wick_pool_geom *g, int64_t oh, int64_t ow) {
  avg_window a;
  a.h0 = ad_start(oh, g->OH, g->H);
  a.h1 = ad_end(oh, g->OH, g->H);
  a.w0 = ad_start(ow, g->OW, g->W);
  a.w1 = ad_end(ow, g->OW, g->W);
  a.div = (double)((a.h1 - a.h0) * (a.w1 - a.w0));
  return a;
}

#define DEF_AVG_POOL(T, SFX)                                                                   \
  static void avg_pool_##SFX(T *out, const T *in, const wick_pool_geom *g, bool adaptive) {    \
    int64_t HW = g->H * g->W, OHW = g->OH * g->OW;                                             \
    _Pragma("omp parallel for schedule(static) if (g->P * (OHW + HW) >= PAR_WORK)")            \
    for (int64_t pl = 0; pl < g->P; pl++) {                                                    \
      const T *x = in + pl * HW;                                                               \
      for (int64_t oh = 0; oh < g->OH; oh++)                                                   \
        for (int64_t ow = 0; ow < g->OW; ow++) {                                               \
          avg_window a = adaptive ? adaptive_win(g, oh, ow) : avg_win(g, oh, ow);              \
          T s = 0;                                                                             \
          for (int64_t ih = a.h0; ih < a.h1; ih++)                                             \
            for (int64_t iw = a.w0; iw < a.w1; iw++) s += x[ih * g->W + iw];                   \
          out[pl * OHW + oh * g->OW + ow] = a.h0 >= a.h1 || a.w0 >= a.w1 ? (T)0 : s / (T)a.div; \
        }                                                                                      \
    }                                                                                          \
  }                                                                                            \
  static void avg_pool_bwd_##SFX(T *gin, const T *gout, const wick_pool_geom *g,               \
                                 bool adaptive) {                                              \
    int64_t HW = g->H * g->W, OHW = g->OH * g->OW;                                             \
    _Pragma("omp parallel for schedule(static) if (g->P * (OHW + HW) >= PAR_WORK)")            \
    for (int64_t pl = 0; pl < g->P; pl++) {                                                    \
      T *gi = gin + pl * HW;                                                                   \
      memset(gi, 0, sizeof(T) * (size_t)HW);                                                   \
      for (int64_t oh = 0; oh < g->OH; oh++)                                                   \
        for (int64_t ow = 0; ow < g->OW; ow++) {                                               \
          avg_window a = adaptive ? adaptive_win(g, oh, ow) : avg_win(g, oh, ow);              \
          if (a.h0 >= a.h1 || a.w0 >= a.w1) continue;                                          \
          T v = gout[pl * OHW + oh * g->OW + ow] / (T)a.div;                                   \
          for (int64_t ih = a.h0; ih < a.h1; ih++)                                             \
            for (int64_t iw = a.w0; iw < a.w1; iw++) gi[ih * g->W + iw] += v;                  \
        }                                                                                      \
    }                                                                                          \
  }

DEF_AVG_POOL(float, f32)
DEF_AVG_POOL(double, f64)

static wick_status avg_fwd(wick_tensor *out, const wick_tensor *in, const wick_pool_geom *g, bool ad) {
  if (in->dtype == WICK_DTYPE_F64) avg_pool_f64(wick_tensor_data(out), wick_tensor_data(in), g, ad);
  else avg_pool_f32(wick_tensor_data(out), wick_tensor_data(in), g, ad);
  return WICK_OK;
}

static wick_status avg_bwd(wick_tensor *gin, const wick_tensor *gout, const wick_pool_geom *g, bool ad) {
  if (gin->dtype == WICK_DTYPE_F64) avg_pool_bwd_f64(wick_tensor_data(gin), wick_tensor_data(gout), g, ad);
  else avg_pool_bwd_f32(wick_tensor_data(gin), wick_tensor_data(gout), g, ad);
  return WICK_OK;
}

wick_status wick_cpu_avg_pool2d(wick_tensor *out, const wick_tensor *in, const wick_pool_geom *g) {
  return avg_fwd(out, in, g, false);
}
wick_status wick_cpu_avg_pool2d_backward(wick_tensor *gin, const wick_tensor *gout,
                                         const wick_pool_geom *g) {
  return avg_bwd(gin, gout, g, false);
}
wick_status wick_cpu_adaptive_avg_pool2d(wick_tensor *out, const wick_tensor *in,
                                         const wick_pool_geom *g) {
  return avg_fwd(out, in, g, true);
}
wick_status wick_cpu_adaptive_avg_pool2d_backward(wick_tensor *gin, const wick_tensor *gout,
                                                  const wick_pool_geom *g) {
  return avg_bwd(gin, gout, g, true);
}
