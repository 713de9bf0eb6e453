// 2-D pooling on CUDA: max (with argmax indices), average, adaptive average and their
// gradients, with the window and tie rules of the CPU kernels (src/cpu/pool.c): the first
// maximum in (ih, iw) order wins a tie, a NaN always wins. One thread per output element;
// the gradients scatter with atomicAdd into a zeroed input gradient.
#include "nn_launch.h"

#include <math.h>

namespace {

const int kThreads = 256;

inline unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return (unsigned)(b > 65535LL * 32 ? 65535LL * 32 : b);
}

#define GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

template <typename T>
__global__ void max_pool_k(T *out, int64_t *idx, const T *in, wick_kpool g) {
  int64_t total = g.P * g.OH * g.OW;
  GRID_LOOP(q, total) {
    int64_t ow = q % g.OW, oh = (q / g.OW) % g.OH, pl = q / (g.OW * g.OH);
    const T *x = in + pl * g.H * g.W;
    int64_t ih0 = oh * g.SH - g.PH, iw0 = ow * g.SW - g.PW;
    int64_t h0 = ih0, w0 = iw0;
    while (h0 < 0) h0 += g.DH;
    while (w0 < 0) w0 += g.DW;
    T m = -(T)INFINITY;
    int64_t b = h0 * g.W + w0;
    for (int64_t kh = 0; kh < g.KH; kh++) {
      int64_t ih = ih0 + kh * g.DH;
      if (ih < 0 || ih >= g.H) continue;
      for (int64_t kw = 0; kw < g.KW; kw++) {
        int64_t iw = iw0 + kw * g.DW;
        if (iw < 0 || iw >= g.W) continue;
        T v = x[ih * g.W + iw];
        if (v > m || v != v) { m = v; b = ih * g.W + iw; }
      }
    }
    out[q] = m;
    idx[q] = b;
  }
}

template <typename T>
__global__ void max_pool_bwd_k(T *gin, const T *gout, const int64_t *idx, wick_kpool g) {
  int64_t ohw = g.OH * g.OW, hw = g.H * g.W, total = g.P * ohw;
  GRID_LOOP(q, total) {
    int64_t ix = idx[q];
    if ((uint64_t)ix < (uint64_t)hw) atomicAdd(gin + (q / ohw) * hw + ix, gout[q]);
  }
}

struct Win { int64_t h0, h1, w0, w1; double div; };

__device__ Win avg_win(const wick_kpool &g, int64_t oh, int64_t ow, int adaptive) {
  Win a;
  if (adaptive) {
    a.h0 = (oh * g.H) / g.OH; a.h1 = ((oh + 1) * g.H + g.OH - 1) / g.OH;
    a.w0 = (ow * g.W) / g.OW; a.w1 = ((ow + 1) * g.W + g.OW - 1) / g.OW;
    a.div = (double)((a.h1 - a.h0) * (a.w1 - a.w0));
    return a;
  }
  int64_t h0 = oh * g.SH - g.PH, w0 = ow * g.SW - g.PW;
  int64_t h1 = h0 + g.KH, w1 = w0 + g.KW;
  if (h1 > g.H + g.PH) h1 = g.H + g.PH;
  if (w1 > g.W + g.PW) w1 = g.W + g.PW;
  int64_t pool = (h1 - h0) * (w1 - w0);
  if (h0 < 0) h0 = 0;
  if (w0 < 0) w0 = 0;
  if (h1 > g.H) h1 = g.H;
  if (w1 > g.W) w1 = g.W;
  a.h0 = h0; a.h1 = h1; a.w0 = w0; a.w1 = w1;
  if (g.divisor) a.div = (double)g.divisor;
  else if (g.count_include_pad) a.div = (double)pool;
  else a.div = (double)((h1 - h0) * (w1 - w0));
  return a;
}

template <typename T>
__global__ void avg_pool_k(T *out, const T *in, wick_kpool g, int adaptive) {
  int64_t total = g.P * g.OH * g.OW;
  GRID_LOOP(q, total) {
    int64_t ow = q % g.OW, oh = (q / g.OW) % g.OH, pl = q / (g.OW * g.OH);
    const T *x = in + pl * g.H * g.W;
    Win a = avg_win(g, oh, ow, adaptive);
    T s = 0;
    for (int64_t ih = a.h0; ih < a.h1; ih++)
      for (int64_t iw = a.w0; iw < a.w1; iw++) s += x[ih * g.W + iw];
    out[q] = (a.h0 >= a.h1 || a.w0 >= a.w1) ? (T)0 : s / (T)a.div;
  }
}

template <typename T>
__global__ void avg_pool_bwd_k(T *gin, const T *gout, wick_kpool g, int adaptive) {
  int64_t total = g.P * g.OH * g.OW;
  GRID_LOOP(q, total) {
    int64_t ow = q % g.OW, oh = (q / g.OW) % g.OH, pl = q / (g.OW * g.OH);
    T *gi = gin + pl * g.H * g.W;
    Win a = avg_win(g, oh, ow, adaptive);
    if (a.h0 >= a.h1 || a.w0 >= a.w1) continue;
    T v = gout[q] / (T)a.div;
    for (int64_t ih = a.h0; ih < a.h1; ih++)
      for (int64_t iw = a.w0; iw < a.w1; iw++) atomicAdd(gi + ih * g.W + iw, v);
  }
}

}  // namespace

extern "C" wick_status wick_k_max_pool2d(int dt, void *out, int64_t *idx, const void *in,
                                         const wick_kpool *g, cudaStream_t s) {
  int64_t n = g->P * g->OH * g->OW;
  if (n == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64) max_pool_k<double><<<blocks_for(n), kThreads, 0, s>>>((double *)out, idx, (const double *)in, *g);
  else max_pool_k<float><<<blocks_for(n), kThreads, 0, s>>>((float *)out, idx, (const float *)in, *g);
  return wick_cuda_launch_check("max_pool2d");
}

extern "C" wick_status wick_k_max_pool2d_backward(int dt, void *gin, const void *gout,
                                                  const int64_t *idx, const wick_kpool *g,
                                                  cudaStream_t s) {
  size_t es = dt == WICK_DTYPE_F64 ? 8 : 4;
  cudaError_t e = cudaMemsetAsync(gin, 0, es * (size_t)(g->P * g->H * g->W), s);
  if (e != cudaSuccess) return wick_cuda_status(e, "max_pool2d backward");
  int64_t n = g->P * g->OH * g->OW;
  if (n == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64) max_pool_bwd_k<double><<<blocks_for(n), kThreads, 0, s>>>((double *)gin, (const double *)gout, idx, *g);
  else max_pool_bwd_k<float><<<blocks_for(n), kThreads, 0, s>>>((float *)gin, (const float *)gout, idx, *g);
  return wick_cuda_launch_check("max_pool2d backward");
}

extern "C" wick_status wick_k_avg_pool2d(int dt, void *out, const void *in, const wick_kpool *g,
                                         int adaptive, cudaStream_t s) {
  int64_t n = g->P * g->OH * g->OW;
  if (n == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64) avg_pool_k<double><<<blocks_for(n), kThreads, 0, s>>>((double *)out, (const double *)in, *g, adaptive);
  else avg_pool_k<float><<<blocks_for(n), kThreads, 0, s>>>((float *)out, (const float *)in, *g, adaptive);
  return wick_cuda_launch_check(adaptive ? "adaptive_avg_pool2d" : "avg_pool2d");
}

extern "C" wick_status wick_k_avg_pool2d_backward(int dt, void *gin, const void *gout,
                                                  const wick_kpool *g, int adaptive,
                                                  cudaStream_t s) {
  const char *op = adaptive ? "adaptive_avg_pool2d backward" : "avg_pool2d backward";
  size_t es = dt == WICK_DTYPE_F64 ? 8 : 4;
  cudaError_t e = cudaMemsetAsync(gin, 0, es * (size_t)(g->P * g->H * g->W), s);
  if (e != cudaSuccess) return wick_cuda_status(e, op);
  int64_t n = g->P * g->OH * g->OW;
  if (n == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64) avg_pool_bwd_k<double><<<blocks_for(n), kThreads, 0, s>>>((double *)gin, (const double *)gout, *g, adaptive);
  else avg_pool_bwd_k<float><<<blocks_for(n), kThreads, 0, s>>>((float *)gin, (const float *)gout, *g, adaptive);
  return wick_cuda_launch_check(op);
}
