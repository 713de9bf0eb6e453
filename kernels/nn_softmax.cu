// Fused softmax / log_softmax and their gradients on CUDA (the optional softmax slots): a is
// seen as [outer, n, inner] with the softmax over n. With inner == 1 (the last dim: attention,
// logits) one block per row keeps an online (max, sum of exp) pair per thread and combines
// them: two reads and one write instead of the seven passes of the composed op. Otherwise one
// thread per (outer, inner) column walks n with stride inner (coalesced across threads).
// f16/bf16 compute in f32, f32 in f32, f64 in f64; results as the CPU's composed op:
// softmax = exp(x - max) * (1 / sum), log_softmax = (x - max) - log(sum).
#include "nn_launch.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>

namespace {

template <int DT> struct St;
template <> struct St<WICK_DTYPE_F16> {
  typedef uint16_t S; typedef float C;
  static __device__ __forceinline__ C ld(S x) { return __half2float(__ushort_as_half(x)); }
  static __device__ __forceinline__ S st(C v) { return __half_as_ushort(__float2half_rn(v)); }
};
template <> struct St<WICK_DTYPE_BF16> {
  typedef uint16_t S; typedef float C;
  static __device__ __forceinline__ C ld(S x) { return __uint_as_float((uint32_t)x << 16); }
  static __device__ __forceinline__ S st(C v) {
    if (v != v) return 0x7fc0;  // the CPU's NaN
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
  }
};
template <> struct St<WICK_DTYPE_F32> {
  typedef float S; typedef float C;
  static __device__ __forceinline__ C ld(S x) { return x; }
  static __device__ __forceinline__ S st(C v) { return v; }
};
template <> struct St<WICK_DTYPE_F64> {
  typedef double S; typedef double C;
  static __device__ __forceinline__ C ld(S x) { return x; }
  static __device__ __forceinline__ S st(C v) { return v; }
};

template <typename C> __device__ __forceinline__ C nan_max(C a, C b) { return (b > a || b != b) ? b : a; }

// (m, s) of two partial rows combined (an empty side is (-inf, 0)). While every element seen
// is -inf the sums just add: exp(-inf - -inf) would be NaN, and a later finite maximum scales
// them to 0 anyway, as the composed exp(x - max) does for masked (-inf) entries.
template <typename C> __device__ __forceinline__ void combine(C &m, C &s, C m2, C s2) {
  C mx = nan_max(m, m2);
  if (mx == -(C)INFINITY) { s += s2; return; }
  s = s * exp(m - mx) + s2 * exp(m2 - mx);
  m = mx;
}

template <typename C> __device__ __forceinline__ C shfl(C v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }

// Block-wide reduce of (m, s) pairs (blockDim a multiple of 32); every thread gets the result.
template <typename C> __device__ void block_combine(C &m, C &s) {
  __shared__ C shm[32], shs[32];
  for (int o = 16; o > 0; o >>= 1) combine(m, s, shfl(m, o), shfl(s, o));
  int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
  __syncthreads();
  if (lane == 0) { shm[wid] = m; shs[wid] = s; }
  __syncthreads();
  if (wid == 0) {
    m = lane < nw ? shm[lane] : -(C)INFINITY;
    s = lane < nw ? shs[lane] : (C)0;
    for (int o = 16; o > 0; o >>= 1) combine(m, s, shfl(m, o), shfl(s, o));
    if (lane == 0) { shm[0] = m; shs[0] = s; }
  }
  __syncthreads();
  m = shm[0];
  s = shs[0];
}

template <typename C> __device__ C block_sum(C v) {
  __shared__ C sh[32];
  for (int o = 16; o > 0; o >>= 1) v += shfl(v, o);
  int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
  __syncthreads();
  if (lane == 0) sh[wid] = v;
  __syncthreads();
  if (wid == 0) {
    v = lane < nw ? sh[lane] : (C)0;
    for (int o = 16; o > 0; o >>= 1) v += shfl(v, o);
    if (lane == 0) sh[0] = v;
  }
  __syncthreads();
  return sh[0];
}

template <int DT>
__global__ void __launch_bounds__(1024) softmax_rows_k(typename St<DT>::S *out, const typename St<DT>::S *a, int64_t n, int log) {
  typedef St<DT> T;
  typedef typename T::C C;
  const typename T::S *x = a + blockIdx.x * n;
  typename T::S *y = out + blockIdx.x * n;
  C m = -(C)INFINITY, s = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) combine(m, s, T::ld(x[i]), (C)1);
  block_combine(m, s);
  if (log) {
    C ls = ::log(s);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) y[i] = T::st((T::ld(x[i]) - m) - ls);
  } else {
    C r = (C)1 / s;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) y[i] = T::st(exp(T::ld(x[i]) - m) * r);
  }
}

template <int DT>
__global__ void softmax_cols_k(typename St<DT>::S *out, const typename St<DT>::S *a, int64_t outer,
                               int64_t n, int64_t inner, int log) {
  typedef St<DT> T;
  typedef typename T::C C;
  int64_t total = outer * inner;
  for (int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; q < total; q += (int64_t)gridDim.x * blockDim.x) {
    int64_t o = q / inner, i = q - o * inner;
    const typename T::S *x = a + o * n * inner + i;
    typename T::S *y = out + o * n * inner + i;
    C m = -(C)INFINITY, s = 0;
    for (int64_t k = 0; k < n; k++) combine(m, s, T::ld(x[k * inner]), (C)1);
    if (log) {
      C ls = ::log(s);
      for (int64_t k = 0; k < n; k++) y[k * inner] = T::st((T::ld(x[k * inner]) - m) - ls);
    } else {
      C r = (C)1 / s;
      for (int64_t k = 0; k < n; k++) y[k * inner] = T::st(exp(T::ld(x[k * inner]) - m) * r);
    }
  }
}

// softmax: gin = y * (g - sum(g * y)); log_softmax: gin = g - exp(y) * sum(g).
template <int DT>
__global__ void __launch_bounds__(1024) softmax_bwd_rows_k(typename St<DT>::S *gin, const typename St<DT>::S *g,
                                   const typename St<DT>::S *y, int64_t n, int log) {
  typedef St<DT> T;
  typedef typename T::C C;
  int64_t base = blockIdx.x * n;
  C acc = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    acc += log ? T::ld(g[base + i]) : T::ld(g[base + i]) * T::ld(y[base + i]);
  acc = block_sum(acc);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    C gv = T::ld(g[base + i]), yv = T::ld(y[base + i]);
    gin[base + i] = T::st(log ? gv - exp(yv) * acc : yv * (gv - acc));
  }
}

template <int DT>
__global__ void softmax_bwd_cols_k(typename St<DT>::S *gin, const typename St<DT>::S *g,
                                   const typename St<DT>::S *y, int64_t outer, int64_t n, int64_t inner,
                                   int log) {
  typedef St<DT> T;
  typedef typename T::C C;
  int64_t total = outer * inner;
  for (int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; q < total; q += (int64_t)gridDim.x * blockDim.x) {
    int64_t o = q / inner, i = q - o * inner, base = o * n * inner + i;
    C acc = 0;
    for (int64_t k = 0; k < n; k++) {
      C gv = T::ld(g[base + k * inner]);
      acc += log ? gv : gv * T::ld(y[base + k * inner]);
    }
    for (int64_t k = 0; k < n; k++) {
      C gv = T::ld(g[base + k * inner]), yv = T::ld(y[base + k * inner]);
      gin[base + k * inner] = T::st(log ? gv - exp(yv) * acc : yv * (gv - acc));
    }
  }
}

inline int row_threads(int64_t n) {
  int t = 32;
  while (t < 1024 && t * 4 < n) t <<= 1;  // ~4 elements per thread, up to 1024 threads
  return t;
}

inline unsigned col_blocks(int64_t total) {
  int64_t b = (total + 255) / 256;
  return (unsigned)(b < 1 ? 1 : b > 65535LL * 16 ? 65535LL * 16 : b);
}

template <int DT>
wick_status run_fwd(void *out, const void *a, int64_t outer, int64_t n, int64_t inner, int log, cudaStream_t s) {
  typedef typename St<DT>::S S;
  if (inner == 1)
    softmax_rows_k<DT><<<(unsigned)outer, row_threads(n), 0, s>>>((S *)out, (const S *)a, n, log);
  else
    softmax_cols_k<DT><<<col_blocks(outer * inner), 256, 0, s>>>((S *)out, (const S *)a, outer, n, inner, log);
  return wick_cuda_launch_check(log ? "log_softmax" : "softmax");
}

template <int DT>
wick_status run_bwd(void *gin, const void *g, const void *y, int64_t outer, int64_t n, int64_t inner, int log,
                    cudaStream_t s) {
  typedef typename St<DT>::S S;
  if (inner == 1)
    softmax_bwd_rows_k<DT><<<(unsigned)outer, row_threads(n), 0, s>>>((S *)gin, (const S *)g, (const S *)y, n, log);
  else
    softmax_bwd_cols_k<DT><<<col_blocks(outer * inner), 256, 0, s>>>((S *)gin, (const S *)g, (const S *)y, outer, n,
                                                                      inner, log);
  return wick_cuda_launch_check(log ? "log_softmax backward" : "softmax backward");
}

wick_status check_rows(const char *op, int64_t outer, int64_t inner) {
  if (inner == 1 && outer > 0x7fffffffLL)
    return wick_errorf(WICK_ERR_SHAPE, "%s: %lld rows are more than one CUDA launch handles", op, (long long)outer);
  return WICK_OK;
}

}  // namespace

extern "C" wick_status wick_k_softmax(int dt, void *out, const void *a, int64_t outer, int64_t n,
                                      int64_t inner, int log, cudaStream_t s) {
  WICK_TRY(check_rows(log ? "log_softmax" : "softmax", outer, inner));
  if (outer * n * inner == 0) return WICK_OK;
  switch (dt) {
    case WICK_DTYPE_F16: return run_fwd<WICK_DTYPE_F16>(out, a, outer, n, inner, log, s);
    case WICK_DTYPE_BF16: return run_fwd<WICK_DTYPE_BF16>(out, a, outer, n, inner, log, s);
    case WICK_DTYPE_F32: return run_fwd<WICK_DTYPE_F32>(out, a, outer, n, inner, log, s);
    case WICK_DTYPE_F64: return run_fwd<WICK_DTYPE_F64>(out, a, outer, n, inner, log, s);
    default: return wick_errorf(WICK_ERR_DTYPE, "softmax: unsupported dtype %d on CUDA", dt);
  }
}

extern "C" wick_status wick_k_softmax_backward(int dt, void *gin, const void *g, const void *y,
                                               int64_t outer, int64_t n, int64_t inner, int log,
                                               cudaStream_t s) {
  WICK_TRY(check_rows(log ? "log_softmax backward" : "softmax backward", outer, inner));
  if (outer * n * inner == 0) return WICK_OK;
  switch (dt) {
    case WICK_DTYPE_F16: return run_bwd<WICK_DTYPE_F16>(gin, g, y, outer, n, inner, log, s);
    case WICK_DTYPE_BF16: return run_bwd<WICK_DTYPE_BF16>(gin, g, y, outer, n, inner, log, s);
    case WICK_DTYPE_F32: return run_bwd<WICK_DTYPE_F32>(gin, g, y, outer, n, inner, log, s);
    case WICK_DTYPE_F64: return run_bwd<WICK_DTYPE_F64>(gin, g, y, outer, n, inner, log, s);
    default: return wick_errorf(WICK_ERR_DTYPE, "softmax backward: unsupported dtype %d on CUDA", dt);
  }
}
