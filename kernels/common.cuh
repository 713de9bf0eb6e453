// Shared device helpers for wick's kernels: dtype traits (storage type, compute type and the
// conversions, matching src/core/dtype.c), a strided offset calculator, and launch sizing.
#ifndef WICK_KERNELS_COMMON_CUH
#define WICK_KERNELS_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "core/oplist.h"
#include "kview.h"

// ---- dtypes: Tr<DT>::S is the storage type, C the compute type (f16/bf16 compute in float,
// integers in int64 as the CPU backend does), ld/st convert; st of bool stores v != 0.
template <int DT> struct Tr;
template <> struct Tr<WICK_DTYPE_BOOL> {
  typedef uint8_t S; typedef int64_t C; enum { is_float = 0 };
  static __device__ __forceinline__ C ld(S x) { return x != 0; }
  static __device__ __forceinline__ S st(C v) { return v != 0; }
};
template <> struct Tr<WICK_DTYPE_U8> {
  typedef uint8_t S; typedef int64_t C; enum { is_float = 0 };
  static __device__ __forceinline__ C ld(S x) { return x; }
  static __device__ __forceinline__ S st(C v) { return (S)v; }
};
template <> struct Tr<WICK_DTYPE_I32> {
  typedef int32_t S; typedef int64_t C; enum { is_float = 0 };
  static __device__ __forceinline__ C ld(S x) { return x; }
  static __device__ __forceinline__ S st(C v) { return (S)v; }
};
template <> struct Tr<WICK_DTYPE_I64> {
  typedef int64_t S; typedef int64_t C; enum { is_float = 0 };
  static __device__ __forceinline__ C ld(S x) { return x; }
  static __device__ __forceinline__ S st(C v) { return v; }
};
template <> struct Tr<WICK_DTYPE_F16> {
  typedef uint16_t S; typedef float C; enum { is_float = 1 };
  static __device__ __forceinline__ C ld(S x) { return __half2float(__ushort_as_half(x)); }
  static __device__ __forceinline__ S st(C v) { return __half_as_ushort(__float2half_rn(v)); }
};
template <> struct Tr<WICK_DTYPE_BF16> {
  typedef uint16_t S; typedef float C; enum { is_float = 1 };
  static __device__ __forceinline__ C ld(S x) { return __uint_as_float((uint32_t)x << 16); }
  static __device__ __forceinline__ S st(C v) {
    if (v != v) return 0x7fc0; // the CPU's NaN
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
  }
};
template <> struct Tr<WICK_DTYPE_F32> {
  typedef float S; typedef float C; enum { is_float = 1 };
  static __device__ __forceinline__ C ld(S x) { return x; }
  static __device__ __forceinline__ S st(C v) { return v; }
};
template <> struct Tr<WICK_DTYPE_F64> {
  typedef double S; typedef double C; enum { is_float = 1 };
  static __device__ __forceinline__ C ld(S x) { return x; }
  static __device__ __forceinline__ S st(C v) { return v; }
};

// double -> int64 as wick_load_i64 (NaN 0, saturating).
__device__ __forceinline__ int64_t wk_f2i(double v) {
  if (v != v) return 0;
  if (v >= 9.2233720368547758e18) return INT64_MAX;
  if (v <= -9.2233720368547758e18) return INT64_MIN;
  return (int64_t)v;
}

// Stores a double / int64 into any dtype (wick_store_f64 / wick_store_i64): used once per
// output where the output dtype is only known at run time (reductions, random).
__device__ __forceinline__ void wk_store_f(void *p, int dt, double v) {
  switch (dt) {
    case WICK_DTYPE_BOOL: *(uint8_t *)p = v != 0; break;
    case WICK_DTYPE_U8: *(uint8_t *)p = (uint8_t)(int64_t)v; break;
    case WICK_DTYPE_I32: *(int32_t *)p = (int32_t)(int64_t)v; break;
    case WICK_DTYPE_I64: *(int64_t *)p = v != v ? 0 : (int64_t)v; break;
    case WICK_DTYPE_F16: *(uint16_t *)p = Tr<WICK_DTYPE_F16>::st((float)v); break;
    case WICK_DTYPE_BF16: *(uint16_t *)p = Tr<WICK_DTYPE_BF16>::st((float)v); break;
    case WICK_DTYPE_F32: *(float *)p = (float)v; break;
    default: *(double *)p = v; break;
  }
}
__device__ __forceinline__ void wk_store_i(void *p, int dt, int64_t v) {
  switch (dt) {
    case WICK_DTYPE_BOOL: *(uint8_t *)p = v != 0; break;
    case WICK_DTYPE_U8: *(uint8_t *)p = (uint8_t)v; break;
    case WICK_DTYPE_I32: *(int32_t *)p = (int32_t)v; break;
    case WICK_DTYPE_I64: *(int64_t *)p = v; break;
    default: wk_store_f(p, dt, (double)v); break;
  }
}

// Calls F::template run<DT>() for a run-time dtype; returns what it returns.
#define WK_DISPATCH(dt, F, ...)                                                       \
  [&]() -> wick_status {                                                              \
    switch (dt) {                                                                     \
      case WICK_DTYPE_BOOL: return F<WICK_DTYPE_BOOL>(__VA_ARGS__);                   \
      case WICK_DTYPE_U8: return F<WICK_DTYPE_U8>(__VA_ARGS__);                       \
      case WICK_DTYPE_I32: return F<WICK_DTYPE_I32>(__VA_ARGS__);                     \
      case WICK_DTYPE_I64: return F<WICK_DTYPE_I64>(__VA_ARGS__);                     \
      case WICK_DTYPE_F16: return F<WICK_DTYPE_F16>(__VA_ARGS__);                     \
      case WICK_DTYPE_BF16: return F<WICK_DTYPE_BF16>(__VA_ARGS__);                   \
      case WICK_DTYPE_F32: return F<WICK_DTYPE_F32>(__VA_ARGS__);                     \
      case WICK_DTYPE_F64: return F<WICK_DTYPE_F64>(__VA_ARGS__);                     \
      default: return wick_errorf(WICK_ERR_DTYPE, "cuda: unknown dtype %d", (int)(dt)); \
    }                                                                                 \
  }()

// ---- geometry: N operands of one shape, dims coalesced on the host.
template <int N> struct Geom {
  int ndim;
  int64_t numel;
  int64_t sizes[WICK_KMAX_DIMS];
  int64_t strides[N][WICK_KMAX_DIMS]; // elements
};

// Drops size-1 dims and merges neighbours contiguous for every operand (the CPU's iterator).
template <int N> static Geom<N> wk_geom(const wick_kview *const *v) {
  Geom<N> g;
  const wick_kview *t0 = v[0];
  int nd = 0;
  g.numel = 1;
  for (int d = 0; d < t0->ndim; d++) g.numel *= t0->sizes[d];
  for (int d = 0; d < t0->ndim; d++) {
    if (t0->sizes[d] == 1) continue;
    g.sizes[nd] = t0->sizes[d];
    for (int k = 0; k < N; k++) g.strides[k][nd] = v[k]->strides[d];
    if (nd > 0) {
      bool merge = true;
      for (int k = 0; k < N && merge; k++)
        merge = g.strides[k][nd - 1] == g.strides[k][nd] * g.sizes[nd];
      if (merge) {
        g.sizes[nd - 1] *= g.sizes[nd];
        for (int k = 0; k < N; k++) g.strides[k][nd - 1] = g.strides[k][nd];
        continue;
      }
    }
    nd++;
  }
  if (nd == 0) {
    g.sizes[0] = 1;
    for (int k = 0; k < N; k++) g.strides[k][0] = 0;
    nd = 1;
  }
  g.ndim = nd;
  return g;
}

// True when every operand is one contiguous run (the vectorised path applies).
template <int N> static bool wk_flat(const Geom<N> &g) {
  if (g.ndim != 1) return false;
  for (int k = 0; k < N; k++)
    if (g.strides[k][0] != 1 && g.sizes[0] != 1) return false;
  return true;
}

// Element offsets of the row-major linear index i (I: uint32_t when numel fits, else uint64_t;
// 32-bit division is several times cheaper on the GPU).
template <int N, typename I>
__device__ __forceinline__ void wk_offsets(const Geom<N> &g, I i, int64_t *off) {
  if (g.ndim == 1) { // a scalar broadcast or a single strided run: no division
#pragma unroll
    for (int k = 0; k < N; k++) off[k] = (int64_t)i * g.strides[k][0];
    return;
  }
#pragma unroll
  for (int k = 0; k < N; k++) off[k] = 0;
  for (int d = g.ndim - 1; d >= 0; d--) {
    I sz = (I)g.sizes[d];
    I q = i / sz, r = i - q * sz;
#pragma unroll
    for (int k = 0; k < N; k++) off[k] += (int64_t)r * g.strides[k][d];
    i = q;
  }
}

// Grid for a grid-stride loop over `work` items with `threads` per block: at most one full
// wave (SMs x the kernel's resident blocks per SM, from the occupancy calculator), never more
// blocks than the work needs. A partial second wave would leave most of the GPU idle while it
// runs: 1.3 waves cost as much as 2. WK_GRID keeps the occupancy per kernel and device.
#define WK_MAX_DEVICES 64
// The device's multiprocessor count (132, an H100's, if the query fails), asked once per device
// and file.
static inline int wk_sm_count(int device) {
  static int cache[WK_MAX_DEVICES];
  if (device < 0 || device >= WK_MAX_DEVICES) device = 0;
  if (!cache[device]) {
    int n = 0;
    if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || n <= 0)
      n = 132;
    cache[device] = n;
  }
  return cache[device];
}
template <typename K>
static unsigned wk_grid(K kernel, int *cache, int64_t work, int threads, int device) {
  int d = device >= 0 && device < WK_MAX_DEVICES ? device : 0;
  if (!cache[d]) {
    int per = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per, kernel, threads, 0) != cudaSuccess) {
      (void)cudaGetLastError(); // not sticky: keep it from the next launch check
      per = 0;
    }
    cache[d] = per > 0 ? per : 1;
  }
  int64_t need = (work + threads - 1) / threads;
  int64_t cap = (int64_t)wk_sm_count(device) * cache[d];
  if (need > cap) need = cap;
  return need < 1 ? 1 : (unsigned)need;
}
#define WK_GRID(kernel, work, threads, device)                                        \
  ([&]() {                                                                           \
    static int cache_[WK_MAX_DEVICES];                                               \
    return wk_grid(kernel, cache_, (int64_t)(work), (threads), (device));            \
  }())

template <typename T, int V> struct alignas(sizeof(T) * V) WkVec { T v[V]; };

static inline bool wk_aligned(const void *p, size_t a) { return ((uintptr_t)p % a) == 0; }

#endif
