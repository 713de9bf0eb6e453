// Copy with dtype conversion and fill, for any strides (src/cuda/copy.c prepares the geometry:
// size-1 dims dropped, dense runs merged). Shape letters: N elements, D dims (<= WICK_CUDA_MAX_DIMS).
// Conversions follow the CPU backend (src/core/dtype.c): floats to integers truncate (NaN -> 0)
// through int64, then wrap to the narrower type; bool is x != 0. Beyond the int64 range (and
// for infinities) the device saturates, where the CPU gives what x86's conversion gives.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "cuda/cuda_rt.h"

namespace {

struct Geom {
  int ndim;
  int64_t sizes[WICK_CUDA_MAX_DIMS];
  int64_t dst_strides[WICK_CUDA_MAX_DIMS];
  int64_t src_strides[WICK_CUDA_MAX_DIMS];
};

// Element i (row-major over sizes) -> offsets into dst and src.
__device__ __forceinline__ void offsets(const Geom &g, int64_t i, int64_t *od, int64_t *os) {
  int64_t d = 0, s = 0;
  for (int k = g.ndim - 1; k >= 0; k--) {
    int64_t sz = g.sizes[k];
    int64_t j = i % sz;
    i /= sz;
    d += j * g.dst_strides[k];
    s += j * g.src_strides[k];
  }
  *od = d;
  *os = s;
}

// Every value passes through one of two carriers: double for floats, int64 for integers.
template <typename T> struct Conv;
template <> struct Conv<bool> {
  using Store = uint8_t;
  static constexpr bool is_float = false;
  __device__ static int64_t to_i(uint8_t v) { return v != 0; }
  __device__ static double to_f(uint8_t v) { return v != 0; }
  __device__ static uint8_t from_i(int64_t v) { return v != 0; }
  __device__ static uint8_t from_f(double v) { return v != 0.0; }
};
template <typename I> struct ConvInt {
  using Store = I;
  static constexpr bool is_float = false;
  __device__ static int64_t to_i(I v) { return (int64_t)v; }
  __device__ static double to_f(I v) { return (double)v; }
  __device__ static I from_i(int64_t v) { return (I)v; }
  __device__ static I from_f(double v) {
    if (isnan(v)) return 0;
    if (v >= 9.2233720368547758e18) return (I)INT64_MAX;
    if (v <= -9.2233720368547758e18) return (I)INT64_MIN;
    return (I)(int64_t)v;
  }
};
template <> struct Conv<uint8_t> : ConvInt<uint8_t> {};
template <> struct Conv<int32_t> : ConvInt<int32_t> {};
template <> struct Conv<int64_t> : ConvInt<int64_t> {};
// Floats go through W (float, or double for double itself) with round-to-nearest: the
// __half / __nv_bfloat16 constructors from float are __float2half_rn / __float2bfloat16_rn.
template <typename T, typename W> struct ConvFloat {
  using Store = T;
  static constexpr bool is_float = true;
  __device__ static double to_f(T v) { return (double)(W)v; }
  __device__ static T from_f(double v) { return (T)(W)v; }
  __device__ static T from_i(int64_t v) { return (T)(W)v; }
  __device__ static int64_t to_i(T v) { return ConvInt<int64_t>::from_f(to_f(v)); }
};
template <> struct Conv<__half> : ConvFloat<__half, float> {};
template <> struct Conv<__nv_bfloat16> : ConvFloat<__nv_bfloat16, float> {};
template <> struct Conv<float> : ConvFloat<float, float> {};
template <> struct Conv<double> : ConvFloat<double, double> {};

template <typename D, typename S> __device__ __forceinline__ typename Conv<D>::Store convert(typename Conv<S>::Store v) {
  // float -> float in float precision where that is exact enough; double paths keep f64 exact
  if constexpr (Conv<D>::is_float) {
    if constexpr (Conv<S>::is_float) return Conv<D>::from_f(Conv<S>::to_f(v));
    else return Conv<D>::from_i(Conv<S>::to_i(v));
  } else {
    if constexpr (Conv<S>::is_float) return Conv<D>::from_f(Conv<S>::to_f(v));
    else return Conv<D>::from_i(Conv<S>::to_i(v));
  }
}

template <typename D, typename S>
__global__ void convert_kernel(typename Conv<D>::Store *dst, const typename Conv<S>::Store *src, Geom g,
                               int64_t n, bool dense) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    if (dense) {
      dst[i] = convert<D, S>(src[i]);
    } else {
      int64_t od, os;
      offsets(g, i, &od, &os);
      dst[od] = convert<D, S>(src[os]);
    }
  }
}

// offsets() in 32-bit arithmetic (64-bit division is a long instruction sequence on the GPU),
// for tensors whose element count and extents fit (checked by fits32 on the host).
__device__ __forceinline__ void offsets32(const Geom &g, uint32_t i, int64_t *od, int64_t *os) {
  int64_t d = 0, s = 0;
  for (int k = g.ndim - 1; k >= 0; k--) {
    uint32_t sz = (uint32_t)g.sizes[k];
    uint32_t j = i % sz;
    i /= sz;
    d += (int64_t)j * g.dst_strides[k];
    s += (int64_t)j * g.src_strides[k];
  }
  *od = d;
  *os = s;
}

// Same dtype: move elements of W bytes, no conversion (contiguous(), copies into views).
template <typename W, bool Small> __global__ void move_kernel(W *dst, const W *src, Geom g, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t od, os;
    if (Small) offsets32(g, (uint32_t)i, &od, &os);
    else offsets(g, i, &od, &os);
    dst[od] = src[os];
  }
}

template <typename D> __global__ void fill_kernel(typename Conv<D>::Store *dst, typename Conv<D>::Store v, Geom g,
                                                  int64_t n, bool dense) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    if (dense) {
      dst[i] = v;
    } else {
      int64_t od, os;
      offsets(g, i, &od, &os);
      dst[od] = v;
    }
  }
}

constexpr int kThreads = 256;

unsigned grid_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return (unsigned)(b < 65535 * 8 ? (b > 0 ? b : 1) : 65535 * 8);
}

Geom to_geom(const wick_cuda_copy_geom *c) {
  Geom g;
  g.ndim = c->ndim;
  for (int k = 0; k < WICK_CUDA_MAX_DIMS; k++) {
    g.sizes[k] = k < c->ndim ? c->sizes[k] : 1;
    g.dst_strides[k] = k < c->ndim ? c->dst_strides[k] : 0;
    g.src_strides[k] = k < c->ndim ? c->src_strides[k] : 0;
  }
  return g;
}

bool fits32(int64_t n) { return n < ((int64_t)1 << 31); }

template <typename W> void launch_move(void *dst, const void *src, const Geom &g, int64_t n, cudaStream_t s) {
  if (fits32(n)) move_kernel<W, true><<<grid_for(n), kThreads, 0, s>>>((W *)dst, (const W *)src, g, n);
  else move_kernel<W, false><<<grid_for(n), kThreads, 0, s>>>((W *)dst, (const W *)src, g, n);
}

bool is_dense(const Geom &g) { return g.ndim == 1 && g.dst_strides[0] == 1 && g.src_strides[0] == 1; }

template <typename D, typename S>
void launch_pair(void *dst, const void *src, const Geom &g, int64_t n, cudaStream_t s) {
  convert_kernel<D, S><<<grid_for(n), kThreads, 0, s>>>((typename Conv<D>::Store *)dst,
                                                       (const typename Conv<S>::Store *)src, g, n, is_dense(g));
}

template <typename D> bool launch_from(wick_dtype st, void *dst, const void *src, const Geom &g, int64_t n,
                                       cudaStream_t s) {
  switch (st) {
    case WICK_DTYPE_BOOL: launch_pair<D, bool>(dst, src, g, n, s); return true;
    case WICK_DTYPE_U8: launch_pair<D, uint8_t>(dst, src, g, n, s); return true;
    case WICK_DTYPE_I32: launch_pair<D, int32_t>(dst, src, g, n, s); return true;
    case WICK_DTYPE_I64: launch_pair<D, int64_t>(dst, src, g, n, s); return true;
    case WICK_DTYPE_F16: launch_pair<D, __half>(dst, src, g, n, s); return true;
    case WICK_DTYPE_BF16: launch_pair<D, __nv_bfloat16>(dst, src, g, n, s); return true;
    case WICK_DTYPE_F32: launch_pair<D, float>(dst, src, g, n, s); return true;
    case WICK_DTYPE_F64: launch_pair<D, double>(dst, src, g, n, s); return true;
    default: return false;
  }
}

}  // namespace

extern "C" wick_status wick_cuda_launch_convert(void *dst, wick_dtype dt, const void *src, wick_dtype st,
                                                const wick_cuda_copy_geom *cg, int64_t n, cudaStream_t s) {
  if (n <= 0) return WICK_OK;
  Geom g = to_geom(cg);
  if (dt == st) {
    switch (wick_dtype_size(dt)) {
      case 1: launch_move<uint8_t>(dst, src, g, n, s); break;
      case 2: launch_move<uint16_t>(dst, src, g, n, s); break;
      case 4: launch_move<uint32_t>(dst, src, g, n, s); break;
      default: launch_move<uint64_t>(dst, src, g, n, s); break;
    }
    return wick_cuda_launch_check("copy_");
  }
  bool ok = false;
  switch (dt) {
    case WICK_DTYPE_BOOL: ok = launch_from<bool>(st, dst, src, g, n, s); break;
    case WICK_DTYPE_U8: ok = launch_from<uint8_t>(st, dst, src, g, n, s); break;
    case WICK_DTYPE_I32: ok = launch_from<int32_t>(st, dst, src, g, n, s); break;
    case WICK_DTYPE_I64: ok = launch_from<int64_t>(st, dst, src, g, n, s); break;
    case WICK_DTYPE_F16: ok = launch_from<__half>(st, dst, src, g, n, s); break;
    case WICK_DTYPE_BF16: ok = launch_from<__nv_bfloat16>(st, dst, src, g, n, s); break;
    case WICK_DTYPE_F32: ok = launch_from<float>(st, dst, src, g, n, s); break;
    case WICK_DTYPE_F64: ok = launch_from<double>(st, dst, src, g, n, s); break;
    default: break;
  }
  if (!ok)
    return wick_errorf(WICK_ERR_DTYPE, "copy_: no CUDA conversion from %s to %s", wick_dtype_name(st),
                       wick_dtype_name(dt));
  return wick_cuda_launch_check("copy_");
}

template <typename D> static void launch_fill(void *dst, typename Conv<D>::Store v, const Geom &g, int64_t n,
                                             cudaStream_t s) {
  bool dense = g.ndim == 1 && g.dst_strides[0] == 1;
  fill_kernel<D><<<grid_for(n), kThreads, 0, s>>>((typename Conv<D>::Store *)dst, v, g, n, dense);
}

extern "C" wick_status wick_cuda_launch_fill(void *dst, wick_dtype dt, double v, int64_t iv,
                                             const wick_cuda_copy_geom *cg, int64_t n, cudaStream_t s) {
  if (n <= 0) return WICK_OK;
  Geom g = to_geom(cg);
  switch (dt) {
    case WICK_DTYPE_BOOL: launch_fill<bool>(dst, (uint8_t)(iv != 0), g, n, s); break;
    case WICK_DTYPE_U8: launch_fill<uint8_t>(dst, (uint8_t)iv, g, n, s); break;
    case WICK_DTYPE_I32: launch_fill<int32_t>(dst, (int32_t)iv, g, n, s); break;
    case WICK_DTYPE_I64: launch_fill<int64_t>(dst, iv, g, n, s); break;
    case WICK_DTYPE_F16: launch_fill<__half>(dst, __float2half_rn((float)v), g, n, s); break;
    case WICK_DTYPE_BF16: launch_fill<__nv_bfloat16>(dst, __float2bfloat16_rn((float)v), g, n, s); break;
    case WICK_DTYPE_F32: launch_fill<float>(dst, (float)v, g, n, s); break;
    case WICK_DTYPE_F64: launch_fill<double>(dst, v, g, n, s); break;
    default: return wick_errorf(WICK_ERR_DTYPE, "fill_: dtype %s is not supported on CUDA", wick_dtype_name(dt));
  }
  return wick_cuda_launch_check("fill_");
}
