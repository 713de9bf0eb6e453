// Batch and layer normalisation on CUDA, forward and backward. Statistics accumulate in
// double with two passes (mean, then squared deviations), as the CPU kernels (src/cpu/norm.c)
// do, so the two agree to the storage dtype's rounding.
// Batch norm sees x as [N, C, S] and reduces per channel in two levels: a grid of
// (channel, chunk) blocks writes partial sums, one block per channel finishes them.
// Layer norm sees x as [M, D]: one block per row for the row statistics and the input
// gradient; the weight/bias gradients are column sums, again in two levels (row chunks).
#include "nn_launch.h"

#include <math.h>

namespace {

const int kThreads = 256;

__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

// Sum of v over the block (blockDim.x a multiple of 32, <= 1024); every thread gets it.
__device__ double block_sum(double v) {
  __shared__ double sh[32];
  __shared__ double total;
  int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // sh may still be read by a previous call
  if (lane == 0) sh[wid] = v;
  __syncthreads();
  if (wid == 0) {
    double t = lane < (int)(blockDim.x >> 5) ? sh[lane] : 0.0;
    t = warp_sum(t);
    if (lane == 0) total = t;
  }
  __syncthreads();
  return total;
}

template <typename T> __device__ __forceinline__ double ld(const T *p, int64_t i) { return (double)p[i]; }

// ---- batch norm

enum { BN_SUM_X = 0, BN_SUM_DEV2 = 1, BN_SUM_G_GDEV = 2 };

// partial[c * B + b] (and partial2) over chunk b of channel c's N * S elements.
template <typename T>
__global__ void bn_partial_k(int mode, const T *x, const T *g, const double *mean, double *partial,
                             double *partial2, int64_t N, int64_t C, int64_t S, int64_t B) {
  int64_t c = blockIdx.x, b = blockIdx.y, M = N * S;
  int64_t per = (M + B - 1) / B, j0 = b * per, j1 = j0 + per < M ? j0 + per : M;
  double mu = mode == BN_SUM_X ? 0.0 : mean[c];
  double a = 0, a2 = 0;
  for (int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
    int64_t n = j / S, k = j - n * S, i = (n * C + c) * S + k;
    double xv = ld(x, i);
    if (mode == BN_SUM_X) a += xv;
    else if (mode == BN_SUM_DEV2) { double d = xv - mu; a += d * d; }
    else { double gv = ld(g, i); a += gv; a2 += gv * (xv - mu); }
  }
  a = block_sum(a);
  if (mode == BN_SUM_G_GDEV) a2 = block_sum(a2);
  if (threadIdx.x == 0) {
    partial[c * B + b] = a;
    if (mode == BN_SUM_G_GDEV) partial2[c * B + b] = a2;
  }
}

// Sums each channel's B partials (in chunk order: deterministic) into out[c] (and out2).
__global__ void bn_finish_k(const double *partial, const double *partial2, double *out,
                            double *out2, int64_t B) {
  int64_t c = blockIdx.x;
  double a = 0, a2 = 0;
  for (int64_t b = threadIdx.x; b < B; b += blockDim.x) {
    a += partial[c * B + b];
    if (partial2) a2 += partial2[c * B + b];
  }
  a = block_sum(a);
  if (partial2) a2 = block_sum(a2);
  if (threadIdx.x == 0) {
    out[c] = a;
    if (out2) out2[c] = a2;
  }
}

// Per channel: mean, invstd (training: from sums; eval: running stats), running updates.
template <typename T>
__global__ void bn_stats_k(const double *sum, const double *ss, T *mean, T *invstd, T *rm, T *rv,
                           double *mean_d, int64_t C, int64_t M, int training, double momentum,
                           double eps) {
  int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (c >= C) return;
  double mu, is;
  if (training) {
    mu = M > 0 ? sum[c] / (double)M : NAN;
    double var = M > 0 ? ss[c] / (double)M : NAN;
    is = 1.0 / sqrt(var + eps);
    if (rm) rm[c] = (T)((1 - momentum) * (double)rm[c] + momentum * mu);
    if (rv) {
      double unbiased = M > 1 ? ss[c] / (double)(M - 1) : NAN;
      rv[c] = (T)((1 - momentum) * (double)rv[c] + momentum * unbiased);
    }
  } else {
    mu = (double)rm[c];
    is = 1.0 / sqrt((double)rv[c] + eps);
  }
  mean[c] = (T)mu;
  invstd[c] = (T)is;
  if (mean_d) mean_d[c] = mu;
}

template <typename T>
__global__ void to_double_k(double *out, const T *in, int64_t n) {
  int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < n) out[i] = (double)in[i];
}

template <typename T>
__global__ void bn_apply_k(T *out, const T *x, const T *w, const T *b, const T *mean,
                           const T *invstd, int64_t N, int64_t C, int64_t S) {
  int64_t total = N * C * S;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * blockDim.x) {
    int64_t c = (i / S) % C;
    double wv = w ? (double)w[c] : 1.0, bv = b ? (double)b[c] : 0.0;
    double scale = wv * (double)invstd[c], shift = bv - (double)mean[c] * scale;
    out[i] = (T)((double)x[i] * scale + shift);
  }
}

template <typename T>
__global__ void bn_bwd_param_k(T *gw, T *gb, const double *sg, const double *sgx, const T *invstd,
                               int64_t C) {
  int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (c >= C) return;
  if (gw) gw[c] = (T)(sgx[c] * (double)invstd[c]);
  if (gb) gb[c] = (T)sg[c];
}

template <typename T>
__global__ void bn_bwd_in_k(T *gin, const T *gout, const T *x, const T *w, const T *mean,
                            const T *invstd, const double *sg, const double *sgx, int64_t N,
                            int64_t C, int64_t S, int training) {
  int64_t total = N * C * S, M = N * S;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * blockDim.x) {
    int64_t c = (i / S) % C;
    double is = (double)invstd[c], k1 = (w ? (double)w[c] : 1.0) * is;
    double mg = training ? sg[c] / (double)M : 0.0;
    double k2 = training ? sgx[c] * is * is / (double)M : 0.0;
    double d = (double)x[i] - (double)mean[c];
    gin[i] = (T)(k1 * ((double)gout[i] - mg - d * k2));
  }
}

inline unsigned ew_blocks(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return (unsigned)(b < 1 ? 1 : b > 65535LL * 16 ? 65535LL * 16 : b);
}

// Chunks per channel: enough blocks to fill the GPU, each with >= 4096 elements.
inline int64_t bn_chunks(int64_t C, int64_t M) {
  int64_t b = (M + 4095) / 4096;
  int64_t want = (1024 + C - 1) / C;
  if (b > want) b = want;
  if (b > 65535) b = 65535;
  return b < 1 ? 1 : b;
}

// Scratch in device memory from the caching allocator, freed stream-ordered by the caller.
struct Scratch {
  void *p = nullptr;
  size_t n = 0;
  int dev = 0;
  ~Scratch() { if (p) wick_cuda_free(p, n, dev); }
};

template <typename T>
wick_status bn_forward(T *out, const T *x, const T *w, const T *b, T *rm, T *rv, T *mean, T *invstd,
                       int64_t N, int64_t C, int64_t S, int training, double momentum, double eps,
                       int device, cudaStream_t s) {
  const char *op = "batch_norm";
  int64_t M = N * S, B = bn_chunks(C, M);
  Scratch sc;
  sc.dev = device;
  sc.n = sizeof(double) * (size_t)(C * B + 3 * C);
  if (training) {
    sc.p = wick_cuda_alloc(sc.n, device);
    if (!sc.p) return wick_errorf(WICK_ERR_OOM, "%s: out of CUDA memory for %zu bytes of scratch", op, sc.n);
  }
  double *partial = (double *)sc.p, *sum = partial + C * B, *ss = sum + C, *mean_d = ss + C;
  if (training) {
    bn_partial_k<T><<<dim3((unsigned)C, (unsigned)B), kThreads, 0, s>>>(BN_SUM_X, x, nullptr, nullptr, partial, nullptr, N, C, S, B);
    bn_finish_k<<<(unsigned)C, kThreads, 0, s>>>(partial, nullptr, sum, nullptr, B);
    // the mean in double for the squared deviations
    bn_stats_k<T><<<(unsigned)((C + 127) / 128), 128, 0, s>>>(sum, sum, mean, invstd, nullptr, nullptr, mean_d, C, M, 1, 0, eps);
    bn_partial_k<T><<<dim3((unsigned)C, (unsigned)B), kThreads, 0, s>>>(BN_SUM_DEV2, x, nullptr, mean_d, partial, nullptr, N, C, S, B);
    bn_finish_k<<<(unsigned)C, kThreads, 0, s>>>(partial, nullptr, ss, nullptr, B);
    bn_stats_k<T><<<(unsigned)((C + 127) / 128), 128, 0, s>>>(sum, ss, mean, invstd, rm, rv, nullptr, C, M, 1, momentum, eps);
  } else {
    bn_stats_k<T><<<(unsigned)((C + 127) / 128), 128, 0, s>>>(nullptr, nullptr, mean, invstd, rm, rv, nullptr, C, M, 0, momentum, eps);
  }
  bn_apply_k<T><<<ew_blocks(N * C * S), kThreads, 0, s>>>(out, x, w, b, mean, invstd, N, C, S);
  return wick_cuda_launch_check(op);
}

template <typename T>
wick_status bn_backward(T *gin, T *gw, T *gb, const T *gout, const T *x, const T *w, const T *mean,
                        const T *invstd, int64_t N, int64_t C, int64_t S, int training, int device,
                        cudaStream_t s) {
  const char *op = "batch_norm backward";
  int64_t M = N * S, B = bn_chunks(C, M);
  Scratch sc;
  sc.dev = device;
  sc.n = sizeof(double) * (size_t)(2 * C * B + 3 * C);
  sc.p = wick_cuda_alloc(sc.n, device);
  if (!sc.p) return wick_errorf(WICK_ERR_OOM, "%s: out of CUDA memory for %zu bytes of scratch", op, sc.n);
  double *p1 = (double *)sc.p, *p2 = p1 + C * B, *sg = p2 + C * B, *sgx = sg + C, *mean_d = sgx + C;
  to_double_k<T><<<(unsigned)((C + 127) / 128), 128, 0, s>>>(mean_d, mean, C);
  bn_partial_k<T><<<dim3((unsigned)C, (unsigned)B), kThreads, 0, s>>>(BN_SUM_G_GDEV, x, gout, mean_d, p1, p2, N, C, S, B);
  bn_finish_k<<<(unsigned)C, kThreads, 0, s>>>(p1, p2, sg, sgx, B);
  if (gw || gb)
    bn_bwd_param_k<T><<<(unsigned)((C + 127) / 128), 128, 0, s>>>(gw, gb, sg, sgx, invstd, C);
  if (gin)
    bn_bwd_in_k<T><<<ew_blocks(N * C * S), kThreads, 0, s>>>(gin, gout, x, w, mean, invstd, sg, sgx, N, C, S, training);
  return wick_cuda_launch_check(op);
}

// ---- layer norm

template <typename T>
__global__ void ln_fwd_k(T *out, const T *x, const T *w, const T *b, T *mean, T *rstd, int64_t D,
                         double eps) {
  int64_t m = blockIdx.x;
  const T *xr = x + m * D;
  double s = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += (double)xr[d];
  double mu = D > 0 ? block_sum(s) / (double)D : NAN;
  double ss = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    double v = (double)xr[d] - mu;
    ss += v * v;
  }
  double r = 1.0 / sqrt((D > 0 ? block_sum(ss) / (double)D : NAN) + eps);
  if (threadIdx.x == 0) { mean[m] = (T)mu; rstd[m] = (T)r; }
  T *orow = out + m * D;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    double y = ((double)xr[d] - mu) * r;
    if (w) y *= (double)w[d];
    if (b) y += (double)b[d];
    orow[d] = (T)y;
  }
}

template <typename T>
__global__ void ln_bwd_in_k(T *gin, const T *gout, const T *x, const T *w, const T *mean,
                            const T *rstd, int64_t D) {
  int64_t m = blockIdx.x;
  const T *xr = x + m * D, *gr = gout + m * D;
  double mu = (double)mean[m], r = (double)rstd[m], a = 0, bb = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    double gx = (double)gr[d] * (w ? (double)w[d] : 1.0);
    a += gx;
    bb += gx * ((double)xr[d] - mu) * r;
  }
  a = block_sum(a) / (double)D;
  bb = block_sum(bb) / (double)D;
  T *gi = gin + m * D;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    double gx = (double)gr[d] * (w ? (double)w[d] : 1.0);
    double xh = ((double)xr[d] - mu) * r;
    gi[d] = (T)(r * (gx - a - xh * bb));
  }
}

// Column partial sums over row chunk blockIdx.y: pw/pb [R, D].
template <typename T>
__global__ void ln_bwd_param_partial_k(double *pw, double *pb, const T *gout, const T *x,
                                       const T *mean, const T *rstd, int64_t M, int64_t D,
                                       int64_t R) {
  int64_t d = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (d >= D) return;
  int64_t per = (M + R - 1) / R, m0 = blockIdx.y * per, m1 = m0 + per < M ? m0 + per : M;
  double sw = 0, sb = 0;
  for (int64_t m = m0; m < m1; m++) {
    double g = (double)gout[m * D + d];
    sb += g;
    sw += g * ((double)x[m * D + d] - (double)mean[m]) * (double)rstd[m];
  }
  pw[blockIdx.y * D + d] = sw;
  pb[blockIdx.y * D + d] = sb;
}

template <typename T>
__global__ void ln_bwd_param_finish_k(T *gw, T *gb, const double *pw, const double *pb, int64_t D,
                                      int64_t R) {
  int64_t d = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (d >= D) return;
  double sw = 0, sb = 0;
  for (int64_t r = 0; r < R; r++) { sw += pw[r * D + d]; sb += pb[r * D + d]; }
  if (gw) gw[d] = (T)sw;
  if (gb) gb[d] = (T)sb;
}

inline int ln_threads(int64_t D) {
  int t = 32;
  while (t < 512 && t < D) t <<= 1;
  return t;
}

template <typename T>
wick_status ln_backward(T *gin, T *gw, T *gb, const T *gout, const T *x, const T *w, const T *mean,
                        const T *rstd, int64_t M, int64_t D, int device, cudaStream_t s) {
  const char *op = "layer_norm backward";
  if (gin && M > 0) ln_bwd_in_k<T><<<(unsigned)M, ln_threads(D), 0, s>>>(gin, gout, x, w, mean, rstd, D);
  if ((gw || gb) && D > 0) {
    int64_t R = (M + 63) / 64;
    if (R > 256) R = 256;
    if (R < 1) R = 1;
    Scratch sc;
    sc.dev = device;
    sc.n = sizeof(double) * (size_t)(2 * R * D);
    sc.p = wick_cuda_alloc(sc.n, device);
    if (!sc.p) return wick_errorf(WICK_ERR_OOM, "%s: out of CUDA memory for %zu bytes of scratch", op, sc.n);
    double *pw = (double *)sc.p, *pb = pw + R * D;
    unsigned bx = (unsigned)((D + 255) / 256);
    ln_bwd_param_partial_k<T><<<dim3(bx, (unsigned)R), 256, 0, s>>>(pw, pb, gout, x, mean, rstd, M, D, R);
    ln_bwd_param_finish_k<T><<<bx, 256, 0, s>>>(gw, gb, pw, pb, D, R);
  }
  return wick_cuda_launch_check(op);
}

}  // namespace

extern "C" wick_status wick_k_batch_norm(int dt, void *out, const void *x, const void *w,
                                         const void *b, void *rm, void *rv, void *mean,
                                         void *invstd, int64_t N, int64_t C, int64_t S,
                                         int training, double momentum, double eps,
                                         cudaStream_t s) {
  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return wick_cuda_status(e, "batch_norm");
  if (C == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64)
    return bn_forward<double>((double *)out, (const double *)x, (const double *)w, (const double *)b,
                              (double *)rm, (double *)rv, (double *)mean, (double *)invstd, N, C, S,
                              training, momentum, eps, device, s);
  return bn_forward<float>((float *)out, (const float *)x, (const float *)w, (const float *)b,
                           (float *)rm, (float *)rv, (float *)mean, (float *)invstd, N, C, S,
                           training, momentum, eps, device, s);
}

extern "C" wick_status wick_k_batch_norm_backward(int dt, void *gin, void *gw, void *gb,
                                                  const void *gout, const void *x, const void *w,
                                                  const void *mean, const void *invstd, int64_t N,
                                                  int64_t C, int64_t S, int training, int device,
                                                  cudaStream_t s) {
  if (C == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64)
    return bn_backward<double>((double *)gin, (double *)gw, (double *)gb, (const double *)gout,
                               (const double *)x, (const double *)w, (const double *)mean,
                               (const double *)invstd, N, C, S, training, device, s);
  return bn_backward<float>((float *)gin, (float *)gw, (float *)gb, (const float *)gout,
                            (const float *)x, (const float *)w, (const float *)mean,
                            (const float *)invstd, N, C, S, training, device, s);
}

extern "C" wick_status wick_k_layer_norm(int dt, void *out, const void *x, const void *w,
                                         const void *b, void *mean, void *rstd, int64_t M,
                                         int64_t D, double eps, cudaStream_t s) {
  if (M == 0) return WICK_OK;
  if (dt == WICK_DTYPE_F64)
    ln_fwd_k<double><<<(unsigned)M, ln_threads(D), 0, s>>>((double *)out, (const double *)x, (const double *)w,
                                                          (const double *)b, (double *)mean, (double *)rstd, D, eps);
  else
    ln_fwd_k<float><<<(unsigned)M, ln_threads(D), 0, s>>>((float *)out, (const float *)x, (const float *)w,
                                                         (const float *)b, (float *)mean, (float *)rstd, D, eps);
  return wick_cuda_launch_check("layer_norm");
}

extern "C" wick_status wick_k_layer_norm_backward(int dt, void *gin, void *gw, void *gb,
                                                  const void *gout, const void *x, const void *w,
                                                  const void *mean, const void *rstd, int64_t M,
                                                  int64_t D, int device, cudaStream_t s) {
  if (dt == WICK_DTYPE_F64)
    return ln_backward<double>((double *)gin, (double *)gw, (double *)gb, (const double *)gout,
                               (const double *)x, (const double *)w, (const double *)mean,
                               (const double *)rstd, M, D, device, s);
  return ln_backward<float>((float *)gin, (float *)gw, (float *)gb, (const float *)gout,
                            (const float *)x, (const float *)w, (const float *)mean,
                            (const float *)rstd, M, D, device, s);
}
