// Losses on CUDA with the CPU kernels' formulas (src/cpu/loss.c, contracts in
// src/cpu/nn_kernels.h): cross entropy (class or probability targets, class weights,
// ignore_index, label smoothing), nll, and the elementwise losses. Cross entropy works one
// block per position (n, s) with block reductions over the C classes (max, then sum of exp:
// numerically stable), in double like the CPU; per-position results go to double buffers
// that core sums on the host.
#include "nn_launch.h"

#include "core/oplist.h"

#include <math.h>

namespace {

__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}
// NaN wins, as in the CPU's row max.
__device__ __forceinline__ double nan_max(double a, double b) { return (b > a || b != b) ? b : a; }
__device__ __forceinline__ double warp_max(double v) {
  for (int o = 16; o > 0; o >>= 1) v = nan_max(v, __shfl_down_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide sum / max (blockDim.x a multiple of 32); every thread gets the result.
template <bool MAX> __device__ double block_reduce(double v) {
  __shared__ double sh[32];
  __shared__ double total;
  int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = MAX ? warp_max(v) : warp_sum(v);
  __syncthreads();
  if (lane == 0) sh[wid] = v;
  __syncthreads();
  if (wid == 0) {
    double t = lane < nw ? sh[lane] : (MAX ? -INFINITY : 0.0);
    t = MAX ? warp_max(t) : warp_sum(t);
    if (lane == 0) total = t;
  }
  __syncthreads();
  return total;
}

template <typename T> __device__ __forceinline__ double wt_of(const T *w, int64_t c) {
  return w ? (double)w[c] : 1.0;
}

// lse of position i: max over classes, then log of the sum of exp (all threads get it).
template <typename T> __device__ double row_lse(const T *x, int64_t base, int64_t C, int64_t S) {
  double m = -INFINITY;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) m = nan_max(m, (double)x[base + c * S]);
  m = block_reduce<true>(m);
  if (m != m || isinf(m)) return m;  // NaN, or all -inf / +inf
  double s = 0;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) s += exp((double)x[base + c * S] - m);
  return m + log(block_reduce<false>(s));
}

template <typename T>
__global__ void ce_fwd_k(wick_kce a, const T *x, const T *prob, const T *w, T *lse, double *nll,
                         double *smooth, double *wt) {
  int64_t C = a.C, S = a.S, i = blockIdx.x;
  int64_t n = i / S, s = i - n * S, base = n * C * S + s;
  double l = row_lse(x, base, C, S);
  if (threadIdx.x == 0) lse[i] = (T)l;
  if (prob) {  // -sum_c w_c p_c log_softmax_c
    double acc = 0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
      double p = (double)prob[base + c * S];
      if (p == 0) continue;  // 0 * -inf stays 0, as xlogy would
      acc -= wt_of(w, c) * p * ((double)x[base + c * S] - l);
    }
    acc = block_reduce<false>(acc);
    if (threadIdx.x == 0) { nll[i] = acc; wt[i] = 0; }
    return;
  }
  int64_t t = a.target[i];
  if (t == a.ignore_index) {
    if (threadIdx.x == 0) {
      nll[i] = 0;
      wt[i] = 0;
      if (smooth) smooth[i] = 0;
    }
    return;
  }
  if (smooth) {
    double acc = 0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) acc += wt_of(w, c) * (l - (double)x[base + c * S]);
    acc = block_reduce<false>(acc);
    if (threadIdx.x == 0) smooth[i] = acc;
  }
  if (threadIdx.x == 0) {
    double wv = wt_of(w, t);
    nll[i] = wv * (l - (double)x[base + t * S]);
    wt[i] = wv;
  }
}

template <typename T>
__global__ void ce_bwd_k(wick_kce a, T *gin, T *gprob, const T *g, int64_t gstride, const T *x,
                         const T *prob, const T *w, const T *lse, double a_nll, double a_smooth) {
  int64_t C = a.C, S = a.S, i = blockIdx.x;
  int64_t n = i / S, s = i - n * S, base = n * C * S + s;
  double gi = (double)g[i * gstride], l = (double)lse[i];
  if (prob) {
    double k = gi * a_nll, wps = 0;  // sum_c w_c p_c
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) wps += wt_of(w, c) * (double)prob[base + c * S];
    wps = block_reduce<false>(wps);
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
      double wc = wt_of(w, c), lsm = (double)x[base + c * S] - l;
      if (gin) gin[base + c * S] = (T)(k * (exp(lsm) * wps - wc * (double)prob[base + c * S]));
      if (gprob) gprob[base + c * S] = (T)(-k * wc * lsm);
    }
    return;
  }
  int64_t t = a.target[i];
  if (t == a.ignore_index) {
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) gin[base + c * S] = (T)0;
    return;
  }
  double ks = gi * a_smooth, wsum = 0;
  if (ks != 0) {
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) wsum += wt_of(w, c);
    wsum = block_reduce<false>(wsum);
  }
  double kn = gi * a_nll * wt_of(w, t);
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    double p = exp((double)x[base + c * S] - l);
    double v = kn * (p - (c == t ? 1.0 : 0.0));
    if (ks != 0) v += ks * (wsum * p - wt_of(w, c));
    gin[base + c * S] = (T)v;
  }
}

template <typename T>
__global__ void nll_fwd_k(wick_kce a, const T *x, const T *w, double *out, double *wt) {
  int64_t C = a.C, S = a.S, NS = a.N * a.S;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < NS; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t n = i / S, s = i - n * S, t = a.target[i];
    if (t == a.ignore_index) { out[i] = 0; wt[i] = 0; continue; }
    double wv = wt_of(w, t);
    out[i] = -wv * (double)x[n * C * S + t * S + s];
    wt[i] = wv;
  }
}

template <typename T>
__global__ void nll_bwd_k(wick_kce a, T *gin, const T *g, int64_t gstride, const T *w, double scale) {
  int64_t C = a.C, S = a.S, NS = a.N * a.S;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < NS; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t n = i / S, s = i - n * S, t = a.target[i];
    if (t == a.ignore_index) continue;
    gin[n * C * S + t * S + s] = (T)(-(double)g[i * gstride] * scale * wt_of(w, t));
  }
}

// softplus(-x) = log(1 + exp(-x)), computed stably as PyTorch does.
__device__ __forceinline__ double sp_neg(double x) { return log1p(exp(-fabs(x))) + (x < 0 ? -x : 0); }

template <typename T>
__global__ void elem_fwd_k(int kind, int64_t n, T *loss, const T *x, const T *t, const T *w, const T *pw) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    double xv = (double)x[i], tv = (double)t[i], v;
    if (kind == WICK_LOSS_MSE) v = (xv - tv) * (xv - tv);
    else if (kind == WICK_LOSS_L1) v = fabs(xv - tv);
    else {
      double lw = pw ? ((double)pw[i] - 1) * tv + 1 : 1.0;
      v = (1 - tv) * xv + lw * sp_neg(xv);
      if (w) v *= (double)w[i];
    }
    loss[i] = (T)v;
  }
}

template <typename T>
__global__ void elem_bwd_k(int kind, int64_t n, T *gx, T *gt, const T *g, int64_t gstride, double scale,
                           const T *x, const T *t, const T *w, const T *pw) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    double xv = (double)x[i], tv = (double)t[i], k = (double)g[i * gstride] * scale, dx, dt;
    if (kind == WICK_LOSS_MSE) { dx = 2 * (xv - tv); dt = -dx; }
    else if (kind == WICK_LOSS_L1) {
      double d = xv - tv;
      dx = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;  // sign, as PyTorch's l1 backward
      dt = -dx;
    } else {
      double sig = 1.0 / (1.0 + exp(-xv));
      if (pw) {
        double p = (double)pw[i], lw = (p - 1) * tv + 1;
        dx = lw * sig - p * tv;
        dt = -xv + (p - 1) * sp_neg(xv);
      } else {
        dx = sig - tv;
        dt = -xv;
      }
      if (w) { double wv = (double)w[i]; dx *= wv; dt *= wv; }
    }
    if (gx) gx[i] = (T)(k * dx);
    if (gt) gt[i] = (T)(k * dt);
  }
}

inline int row_threads(int64_t C) {
  int t = 32;
  while (t < 512 && t < C) t <<= 1;
  return t;
}

inline unsigned ew_blocks(int64_t n) {
  int64_t b = (n + 255) / 256;
  return (unsigned)(b < 1 ? 1 : b > 65535LL * 16 ? 65535LL * 16 : b);
}

// Positions are grid.x (one block each): at most 2^31 - 1 of them.
wick_status check_positions(const char *op, int64_t NS) {
  if (NS > 0x7fffffffLL)
    return wick_errorf(WICK_ERR_SHAPE, "%s: %lld positions are more than one CUDA launch handles", op, (long long)NS);
  return WICK_OK;
}

}  // namespace

extern "C" wick_status wick_k_cross_entropy(int dt, const wick_kce *a, const void *x, void *lse,
                                            double *nll, double *smooth, double *wt,
                                            cudaStream_t s) {
  int64_t NS = a->N * a->S;
  WICK_TRY(check_positions("cross_entropy", NS));
  if (NS == 0) return WICK_OK;
  int th = row_threads(a->C);
  if (dt == WICK_DTYPE_F64)
    ce_fwd_k<double><<<(unsigned)NS, th, 0, s>>>(*a, (const double *)x, (const double *)a->prob,
                                                 (const double *)a->weight, (double *)lse, nll, smooth, wt);
  else
    ce_fwd_k<float><<<(unsigned)NS, th, 0, s>>>(*a, (const float *)x, (const float *)a->prob,
                                                (const float *)a->weight, (float *)lse, nll, smooth, wt);
  return wick_cuda_launch_check("cross_entropy");
}

extern "C" wick_status wick_k_cross_entropy_backward(int dt, const wick_kce *a, void *gin,
                                                     void *gprob, const void *g, int64_t gstride,
                                                     const void *x, const void *lse, double a_nll,
                                                     double a_smooth, cudaStream_t s) {
  int64_t NS = a->N * a->S;
  WICK_TRY(check_positions("cross_entropy backward", NS));
  if (NS == 0) return WICK_OK;
  int th = row_threads(a->C);
  if (dt == WICK_DTYPE_F64)
    ce_bwd_k<double><<<(unsigned)NS, th, 0, s>>>(*a, (double *)gin, (double *)gprob, (const double *)g, gstride,
                                                 (const double *)x, (const double *)a->prob,
                                                 (const double *)a->weight, (const double *)lse, a_nll, a_smooth);
  else
    ce_bwd_k<float><<<(unsigned)NS, th, 0, s>>>(*a, (float *)gin, (float *)gprob, (const float *)g, gstride,
                                                (const float *)x, (const float *)a->prob,
                                                (const float *)a->weight, (const float *)lse, a_nll, a_smooth);
  return wick_cuda_launch_check("cross_entropy backward");
}

extern "C" wick_status wick_k_nll_loss(int dt, const wick_kce *a, const void *x, double *out,
                                       double *wt, cudaStream_t s) {
  int64_t NS = a->N * a->S;
  if (NS == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64)
    nll_fwd_k<double><<<ew_blocks(NS), 256, 0, s>>>(*a, (const double *)x, (const double *)a->weight, out, wt);
  else
    nll_fwd_k<float><<<ew_blocks(NS), 256, 0, s>>>(*a, (const float *)x, (const float *)a->weight, out, wt);
  return wick_cuda_launch_check("nll_loss");
}

extern "C" wick_status wick_k_nll_loss_backward(int dt, const wick_kce *a, void *gin, const void *g,
                                                int64_t gstride, double scale, cudaStream_t s) {
  size_t es = dt == WICK_DTYPE_F64 ? 8 : 4;
  cudaError_t e = cudaMemsetAsync(gin, 0, es * (size_t)(a->N * a->C * a->S), s);
  if (e != cudaSuccess) return wick_cuda_status(e, "nll_loss backward");
  int64_t NS = a->N * a->S;
  if (NS == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64)
    nll_bwd_k<double><<<ew_blocks(NS), 256, 0, s>>>(*a, (double *)gin, (const double *)g, gstride, (const double *)a->weight, scale);
  else
    nll_bwd_k<float><<<ew_blocks(NS), 256, 0, s>>>(*a, (float *)gin, (const float *)g, gstride, (const float *)a->weight, scale);
  return wick_cuda_launch_check("nll_loss backward");
}

extern "C" wick_status wick_k_elem_loss(int dt, int kind, int64_t n, void *loss, const void *x,
                                        const void *t, const void *w, const void *pw,
                                        cudaStream_t s) {
  if (n == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64)
    elem_fwd_k<double><<<ew_blocks(n), 256, 0, s>>>(kind, n, (double *)loss, (const double *)x, (const double *)t,
                                                    (const double *)w, (const double *)pw);
  else
    elem_fwd_k<float><<<ew_blocks(n), 256, 0, s>>>(kind, n, (float *)loss, (const float *)x, (const float *)t,
                                                   (const float *)w, (const float *)pw);
  return wick_cuda_launch_check("elementwise loss");
}

extern "C" wick_status wick_k_elem_loss_backward(int dt, int kind, int64_t n, void *gx, void *gt,
                                                 const void *g, int64_t gstride, double scale,
                                                 const void *x, const void *t, const void *w,
                                                 const void *pw, cudaStream_t s) {
  if (n == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64)
    elem_bwd_k<double><<<ew_blocks(n), 256, 0, s>>>(kind, n, (double *)gx, (double *)gt, (const double *)g, gstride, scale,
                                                    (const double *)x, (const double *)t, (const double *)w,
                                                    (const double *)pw);
  else
    elem_bwd_k<float><<<ew_blocks(n), 256, 0, s>>>(kind, n, (float *)gx, (float *)gt, (const float *)g, gstride, scale,
                                                   (const float *)x, (const float *)t, (const float *)w,
                                                   (const float *)pw);
  return wick_cuda_launch_check("elementwise loss backward");
}
