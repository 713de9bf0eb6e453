// Binary elementwise kernels (arithmetic, comparisons, logical and bitwise ops) and where,
// with the CPU backend's semantics (src/cpu/elementwise.c): integer division by zero is an
// error, remainder/floor_divide follow Python's signs, maximum/minimum propagate NaN.
#include <math.h>

#include "ew.cuh"

// ---- float domain (float for f16/bf16/f32, double for f64)
template <typename C> __device__ __forceinline__ C wk_fmod(C x, C y);
template <> __device__ __forceinline__ float wk_fmod(float x, float y) { return fmodf(x, y); }
template <> __device__ __forceinline__ double wk_fmod(double x, double y) { return fmod(x, y); }

template <typename C> __device__ __forceinline__ C arith(int op, C x, C y, int *err) {
  (void)err;
  switch (op) {
    case WICK_BIN_ADD: return x + y;
    case WICK_BIN_SUB: return x - y;
    case WICK_BIN_MUL: return x * y;
    case WICK_BIN_DIV: return x / y;
    case WICK_BIN_POW: return pow(x, y);
    case WICK_BIN_MAXIMUM: return (x != x || x > y) ? x : y;
    case WICK_BIN_MINIMUM: return (x != x || x < y) ? x : y;
    case WICK_BIN_FMOD: return wk_fmod(x, y);
    case WICK_BIN_REMAINDER: {
      C r = wk_fmod(x, y);
      return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
    }
    case WICK_BIN_FLOOR_DIVIDE: return floor(x / y);
    case WICK_BIN_ATAN2: return atan2(x, y);
    case WICK_BIN_LOGADDEXP:
      if (isinf(x) && x == y) return x;
      return (x > y ? x : y) + log1p(exp(-fabs(x - y)));
    default: return 0;
  }
}

__device__ __forceinline__ int64_t wk_ipow(int64_t b, int64_t e) {
  if (e < 0) return b == 1 ? 1 : b == -1 ? (e % 2 ? -1 : 1) : 0;
  uint64_t r = 1, x = (uint64_t)b;
  while (e) {
    if (e & 1) r *= x;
    x *= x;
    e >>= 1;
  }
  return (int64_t)r;
}

// ---- integer domain (int64, wrapping)
template <> __device__ __forceinline__ int64_t arith<int64_t>(int op, int64_t x, int64_t y, int *err) {
  switch (op) {
    case WICK_BIN_ADD: return (int64_t)((uint64_t)x + (uint64_t)y);
    case WICK_BIN_SUB: return (int64_t)((uint64_t)x - (uint64_t)y);
    case WICK_BIN_MUL: return (int64_t)((uint64_t)x * (uint64_t)y);
    case WICK_BIN_POW: return wk_ipow(x, y);
    case WICK_BIN_MAXIMUM: return x > y ? x : y;
    case WICK_BIN_MINIMUM: return x < y ? x : y;
    case WICK_BIN_FMOD:
    case WICK_BIN_REMAINDER:
    case WICK_BIN_FLOOR_DIVIDE: {
      if (y == 0) { *err = 1; return 0; }
      if (y == -1) return op == WICK_BIN_FLOOR_DIVIDE ? (int64_t)(0 - (uint64_t)x) : 0;
      int64_t q = x / y, r = x % y;
      if (op == WICK_BIN_FMOD) return r;
      bool adjust = r != 0 && ((r < 0) != (y < 0));
      if (op == WICK_BIN_REMAINDER) return adjust ? r + y : r;
      return adjust ? q - 1 : q;
    }
    case WICK_BIN_BITWISE_AND: return x & y;
    case WICK_BIN_BITWISE_OR: return x | y;
    case WICK_BIN_BITWISE_XOR: return x ^ y;
    default: return 0;
  }
}

template <typename C> __device__ __forceinline__ bool compare(int op, C x, C y) {
  switch (op) {
    case WICK_BIN_EQ: return x == y;
    case WICK_BIN_NE: return x != y;
    case WICK_BIN_LT: return x < y;
    case WICK_BIN_LE: return x <= y;
    case WICK_BIN_GT: return x > y;
    case WICK_BIN_GE: return x >= y;
    case WICK_BIN_LOGICAL_AND: return x != 0 && y != 0;
    case WICK_BIN_LOGICAL_OR: return x != 0 || y != 0;
    case WICK_BIN_LOGICAL_XOR: return (x != 0) != (y != 0);
    default: return false;
  }
}

// OPC >= 0: the op is that compile-time constant (hot float ops fold their switch away).
template <int DT, int OPC = -1> struct BinArith {
  typedef typename Tr<DT>::S S;
  typedef typename Tr<DT>::C C;
  int op;
  int *err;
  __device__ __forceinline__ S operator()(const S (&x)[2]) const {
    return Tr<DT>::st(arith<C>(OPC >= 0 ? OPC : op, Tr<DT>::ld(x[0]), Tr<DT>::ld(x[1]), err));
  }
};

template <int DT> struct BinCmp {
  typedef typename Tr<DT>::S S;
  int op;
  __device__ __forceinline__ uint8_t operator()(const S (&x)[2]) const {
    return compare(op, Tr<DT>::ld(x[0]), Tr<DT>::ld(x[1]));
  }
};

static bool is_int_division(int op) {
  return op == WICK_BIN_FMOD || op == WICK_BIN_REMAINDER || op == WICK_BIN_FLOOR_DIVIDE;
}

template <int DT>
static wick_status run_binary(int op, const wick_kview *out, const wick_kview *a, const wick_kview *b,
                              cudaStream_t s) {
  typedef typename Tr<DT>::S S;
  const wick_kview *ins[2] = {a, b};
  if (wick_binop_flags(op) & WICK_OPF_BOOL_OUT)
    return ew_launch<2, uint8_t, S>(BinCmp<DT>{op}, out, ins, s, "binary");
  if (Tr<DT>::is_float) {
    switch (op) {
      case WICK_BIN_ADD: return ew_launch<2, S, S>(BinArith<DT, WICK_BIN_ADD>{op, NULL}, out, ins, s, "binary");
      case WICK_BIN_SUB: return ew_launch<2, S, S>(BinArith<DT, WICK_BIN_SUB>{op, NULL}, out, ins, s, "binary");
      case WICK_BIN_MUL: return ew_launch<2, S, S>(BinArith<DT, WICK_BIN_MUL>{op, NULL}, out, ins, s, "binary");
      case WICK_BIN_DIV: return ew_launch<2, S, S>(BinArith<DT, WICK_BIN_DIV>{op, NULL}, out, ins, s, "binary");
      default: break;
    }
  }
  if (Tr<DT>::is_float || !is_int_division(op))
    return ew_launch<2, S, S>(BinArith<DT>{op, NULL}, out, ins, s, "binary");
  // integer fmod/remainder/floor_divide: a device flag reports division by zero, which costs a
  // synchronisation (the CPU raises ZeroDivisionError, so must we)
  int *flag = (int *)wick_cuda_alloc(sizeof(int), out->device);
  if (!flag) return wick_errorf(WICK_ERR_OOM, "binary: out of CUDA memory for the error flag");
  int h = 0;
  wick_status st = wick_cuda_status(cudaMemsetAsync(flag, 0, sizeof(int), s), "binary");
  if (!st) st = ew_launch<2, S, S>(BinArith<DT>{op, flag}, out, ins, s, "binary");
  if (!st) st = wick_cuda_status(cudaMemcpyAsync(&h, flag, sizeof(int), cudaMemcpyDeviceToHost, s), "binary");
  if (!st) st = wick_cuda_status(cudaStreamSynchronize(s), "binary");
  wick_cuda_free(flag, sizeof(int), out->device);
  if (!st && h) return wick_errorf(WICK_ERR_ARG, "ZeroDivisionError: integer division by zero");
  return st;
}

extern "C" wick_status wick_k_binary(int op, const wick_kview *out, const wick_kview *a,
                                     const wick_kview *b, cudaStream_t s) {
  return WK_DISPATCH(a->dtype, run_binary, op, out, a, b, s);
}

// ---- where: copies elements by size; cond is bool (bytes)
template <typename E>
__global__ void where_kernel(E *out, const uint8_t *cond, const E *a, const E *b, Geom<4> g) {
  int64_t n = g.numel, step = (int64_t)gridDim.x * blockDim.x;
  bool flat = g.ndim == 1 && g.strides[0][0] == 1 && g.strides[1][0] == 1 && g.strides[2][0] == 1 &&
              g.strides[3][0] == 1;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    if (flat) {
      out[i] = cond[i] ? a[i] : b[i];
    } else {
      int64_t off[4];
      wk_offsets<4, uint64_t>(g, (uint64_t)i, off);
      out[off[0]] = cond[off[1]] ? a[off[2]] : b[off[3]];
    }
  }
}

template <typename E>
static void launch_where(const wick_kview *out, const wick_kview *c, const wick_kview *a,
                         const wick_kview *b, const Geom<4> &g, cudaStream_t s) {
  where_kernel<E><<<WK_GRID(where_kernel<E>, g.numel, 256, out->device), 256, 0, s>>>(
      (E *)out->data, (const uint8_t *)c->data, (const E *)a->data, (const E *)b->data, g);
}

extern "C" wick_status wick_k_where(const wick_kview *out, const wick_kview *cond, const wick_kview *a,
                                    const wick_kview *b, cudaStream_t s) {
  const wick_kview *all[4] = {out, cond, a, b};
  Geom<4> g = wk_geom<4>(all);
  if (g.numel == 0) return WICK_OK;
  switch (wick_dtype_size((wick_dtype)out->dtype)) {
    case 1: launch_where<uint8_t>(out, cond, a, b, g, s); break;
    case 2: launch_where<uint16_t>(out, cond, a, b, g, s); break;
    case 4: launch_where<uint32_t>(out, cond, a, b, g, s); break;
    default: launch_where<uint64_t>(out, cond, a, b, g, s); break;
  }
  return wick_cuda_launch_check("where");
}
