// The elementwise engine: out[i] = f(in_0[i], ..., in_{N-1}[i]) over one shape, with a
// vectorised path for contiguous operands (128-bit loads and stores: a step of each thread
// covers 16 bytes of the widest operand) and a strided path (offset calculator, 32-bit index math when the tensor allows it).
// Grid-stride loops on the caller's stream; f is a small functor passed by value.
#ifndef WICK_KERNELS_EW_CUH
#define WICK_KERNELS_EW_CUH

#include "common.cuh"

template <typename T, int N> struct WkPtrs { const T *p[N]; };

// Elements per vector step: 16 bytes of the widest of SO and SI (2 for f64, 4 for f32, 8 for
// f16/bf16, 16 for bytes).
template <typename SO, typename SI> struct WkVecWidth {
  enum { v = 16 / (sizeof(SO) > sizeof(SI) ? sizeof(SO) : sizeof(SI)) };
};

template <int N, typename SO, typename SI, class F>
__global__ void ew_flat(F f, SO *out, WkPtrs<SI, N> in, int64_t n, bool vec) {
  enum { WK_VEC = WkVecWidth<SO, SI>::v };
  int64_t step = (int64_t)gridDim.x * blockDim.x;
  int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  int64_t start = 0;
  if (vec) {
    int64_t nv = n / WK_VEC;
    for (int64_t v = tid; v < nv; v += step) {
      WkVec<SI, WK_VEC> x[N > 0 ? N : 1];
#pragma unroll
      for (int k = 0; k < N; k++) x[k] = ((const WkVec<SI, WK_VEC> *)in.p[k])[v];
      WkVec<SO, WK_VEC> y;
#pragma unroll
      for (int j = 0; j < WK_VEC; j++) {
        SI a[N > 0 ? N : 1];
#pragma unroll
        for (int k = 0; k < N; k++) a[k] = x[k].v[j];
        y.v[j] = f(a);
      }
      ((WkVec<SO, WK_VEC> *)out)[v] = y;
    }
    start = nv * WK_VEC;
  }
  for (int64_t i = start + tid; i < n; i += step) {
    SI a[N > 0 ? N : 1];
#pragma unroll
    for (int k = 0; k < N; k++) a[k] = in.p[k][i];
    out[i] = f(a);
  }
}

template <int N, typename SO, typename SI, class F, typename I>
__global__ void ew_strided(F f, SO *out, WkPtrs<SI, N> in, Geom<N + 1> g) {
  I n = (I)g.numel;
  I step = (I)gridDim.x * blockDim.x;
  for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[N + 1];
    wk_offsets<N + 1, I>(g, i, off);
    SI a[N > 0 ? N : 1];
#pragma unroll
    for (int k = 0; k < N; k++) a[k] = in.p[k][off[k + 1]];
    out[off[0]] = f(a);
  }
}

// Launches f over out and ins (all of out's shape); op names the operation in errors.
template <int N, typename SO, typename SI, class F>
static wick_status ew_launch(F f, const wick_kview *out, const wick_kview *const *ins,
                             cudaStream_t s, const char *op) {
  const wick_kview *all[N + 1];
  all[0] = out;
  for (int k = 0; k < N; k++) all[k + 1] = ins[k];
  Geom<N + 1> g = wk_geom<N + 1>(all);
  if (g.numel == 0) return WICK_OK;
  WkPtrs<SI, N> p;
  for (int k = 0; k < N; k++) p.p[k] = (const SI *)ins[k]->data;
  const int threads = 256;
  if (wk_flat<N + 1>(g)) {
    enum { WK_VEC = WkVecWidth<SO, SI>::v };
    bool vec = wk_aligned(out->data, sizeof(SO) * WK_VEC);
    for (int k = 0; k < N; k++) vec = vec && wk_aligned(ins[k]->data, sizeof(SI) * WK_VEC);
    int64_t work = vec ? (g.numel + WK_VEC - 1) / WK_VEC : g.numel;
    ew_flat<N, SO, SI, F><<<WK_GRID((ew_flat<N, SO, SI, F>), work, threads, out->device), threads, 0, s>>>(
        f, (SO *)out->data, p, g.numel, vec);
  } else if (g.numel <= (int64_t)INT32_MAX) { // i + step cannot wrap
    ew_strided<N, SO, SI, F, uint32_t><<<WK_GRID((ew_strided<N, SO, SI, F, uint32_t>), g.numel, threads, out->device), threads, 0, s>>>(
        f, (SO *)out->data, p, g);
  } else {
    ew_strided<N, SO, SI, F, uint64_t><<<WK_GRID((ew_strided<N, SO, SI, F, uint64_t>), g.numel, threads, out->device), threads, 0, s>>>(
        f, (SO *)out->data, p, g);
  }
  return wick_cuda_launch_check(op);
}

#endif
