// Unary elementwise kernels and their gradients, with the CPU backend's semantics
// (src/cpu/elementwise.c, unary_backward.c): float dtypes compute in float (f16/bf16/f32) or
// double (f64), integer dtypes in int64; round is half-to-even; relu keeps NaN.
#include <math.h>

#include <type_traits>

#include "ew.cuh"

template <typename C> __device__ __forceinline__ C clampc(C x, double lo, double hi) {
  if (x != x) return x;
  if (!isnan(lo) && x < (C)lo) x = (C)lo;
  if (!isnan(hi) && x > (C)hi) x = (C)hi;
  return x;
}

// Float domain: the overloads of <cmath> pick the float or double function from C.
template <typename C> __device__ __forceinline__ C un_f(int op, C x, double p0, double p1) {
  switch (op) {
    case WICK_UN_NEG: return -x;
    case WICK_UN_ABS: return fabs(x);
    case WICK_UN_SIGN: return x > 0 ? (C)1 : x < 0 ? (C)-1 : x; // keeps 0, -0 and NaN
    case WICK_UN_RECIPROCAL: return (C)1 / x;
    case WICK_UN_SQUARE: return x * x;
    case WICK_UN_EXP: return exp(x);
    case WICK_UN_EXPM1: return expm1(x);
    case WICK_UN_LOG: return log(x);
    case WICK_UN_LOG2: return log2(x);
    case WICK_UN_LOG10: return log10(x);
    case WICK_UN_LOG1P: return log1p(x);
    case WICK_UN_SQRT: return sqrt(x);
    case WICK_UN_RSQRT: return (C)1 / sqrt(x);
    case WICK_UN_SIN: return sin(x);
    case WICK_UN_COS: return cos(x);
    case WICK_UN_TAN: return tan(x);
    case WICK_UN_ASIN: return asin(x);
    case WICK_UN_ACOS: return acos(x);
    case WICK_UN_ATAN: return atan(x);
    case WICK_UN_SINH: return sinh(x);
    case WICK_UN_COSH: return cosh(x);
    case WICK_UN_TANH: return tanh(x);
    case WICK_UN_ERF: return erf(x);
    case WICK_UN_SIGMOID: return (C)1 / ((C)1 + exp(-x));
    case WICK_UN_RELU: return x > 0 ? x : (x != x ? x : (C)0);
    case WICK_UN_GELU: return (C)0.5 * x * ((C)1 + erf(x * (C)0.70710678118654752440));
    case WICK_UN_GELU_TANH:
      return (C)0.5 * x * ((C)1 + tanh((C)0.79788456080286535588 * (x + (C)0.044715 * x * x * x)));
    case WICK_UN_SILU: return x / ((C)1 + exp(-x));
    case WICK_UN_SOFTPLUS: return x > 20 ? x : log1p(exp(x));
    case WICK_UN_FLOOR: return floor(x);
    case WICK_UN_CEIL: return ceil(x);
    case WICK_UN_ROUND: return rint(x);
    case WICK_UN_TRUNC: return trunc(x);
    case WICK_UN_LOGICAL_NOT: return x == 0;
    case WICK_UN_ISNAN: return isnan(x);
    case WICK_UN_ISINF: return isinf(x) != 0;
    case WICK_UN_ISFINITE: return isfinite(x);
    case WICK_UN_CLAMP: case WICK_UN_HARDTANH: return clampc(x, p0, p1);
    case WICK_UN_LEAKY_RELU: return x > 0 ? x : x * (C)p0;
    case WICK_UN_ELU: return x > 0 ? x : (C)p0 * expm1(x);
    default: return 0;
  }
}

template <> __device__ __forceinline__ int64_t un_f<int64_t>(int op, int64_t x, double p0, double p1) {
  switch (op) {
    case WICK_UN_NEG: return (int64_t)(0 - (uint64_t)x);
    case WICK_UN_ABS: return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
    case WICK_UN_SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case WICK_UN_SQUARE: return (int64_t)((uint64_t)x * (uint64_t)x);
    case WICK_UN_RELU: return x > 0 ? x : 0;
    case WICK_UN_LOGICAL_NOT: return x == 0;
    case WICK_UN_BITWISE_NOT: return ~x; // bool: see UnOp
    case WICK_UN_ISNAN: case WICK_UN_ISINF: return 0;
    case WICK_UN_ISFINITE: return 1;
    case WICK_UN_CLAMP: case WICK_UN_HARDTANH:
      if (!isnan(p0) && (double)x < p0) x = (int64_t)ceil(p0);
      if (!isnan(p1) && (double)x > p1) x = (int64_t)floor(p1);
      return x;
    case WICK_UN_LEAKY_RELU: return x > 0 ? x : (int64_t)((double)x * p0);
    default: return x; // floor, ceil, round, trunc: identity on integers
  }
}

// ODT: DT, or BOOL for logical_not and the is* tests.
template <int DT, int ODT> struct UnOp {
  typedef typename Tr<DT>::S S;
  typedef typename Tr<DT>::C C;
  int op;
  double p0, p1;
  __device__ __forceinline__ typename Tr<ODT>::S operator()(const S (&x)[1]) const {
    C v = Tr<DT>::ld(x[0]);
    if (DT == WICK_DTYPE_BOOL && op == WICK_UN_BITWISE_NOT) return Tr<ODT>::st(v == 0);
    C r = un_f<C>(op, v, p0, p1);
    return Tr<ODT>::st((typename Tr<ODT>::C)r);
  }
};

static bool returns_bool(int op) { return wick_unop_flags(op) & WICK_OPF_BOOL_OUT; }

template <int DT>
static wick_status run_unary(int op, const wick_kview *out, const wick_kview *a, double p0, double p1,
                             cudaStream_t s) {
  typedef typename Tr<DT>::S S;
  const wick_kview *ins[1] = {a};
  if (out->dtype == WICK_DTYPE_BOOL && DT != WICK_DTYPE_BOOL) {
    if (!returns_bool(op))
      return wick_errorf(WICK_ERR_DTYPE, "unary: op %d cannot write a bool output", op);
    return ew_launch<1, uint8_t, S>(UnOp<DT, WICK_DTYPE_BOOL>{op, p0, p1}, out, ins, s, "unary");
  }
  if (out->dtype != DT)
    return wick_errorf(WICK_ERR_DTYPE, "unary: output dtype %s differs from input dtype %s",
                       wick_dtype_name((wick_dtype)out->dtype), wick_dtype_name((wick_dtype)DT));
  return ew_launch<1, S, S>(UnOp<DT, DT>{op, p0, p1}, out, ins, s, "unary");
}

extern "C" wick_status wick_k_unary(int op, const wick_kview *out, const wick_kview *a, double p0,
                                    double p1, cudaStream_t s) {
  return WK_DISPATCH(a->dtype, run_unary, op, out, a, p0, p1, s);
}

// ---- gradients: gin = g * op'(x), y = op(x); integer dtypes (no autograd) compute in double
template <typename C> __device__ __forceinline__ C derivative(int op, C x, C y, double p0, double p1) {
  switch (op) {
    case WICK_UN_NEG: return -1;
    case WICK_UN_ABS: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case WICK_UN_SIGN: case WICK_UN_FLOOR: case WICK_UN_CEIL: case WICK_UN_ROUND: case WICK_UN_TRUNC: return 0;
    case WICK_UN_RECIPROCAL: return -y * y;
    case WICK_UN_SQUARE: return 2 * x;
    case WICK_UN_EXP: return y;
    case WICK_UN_EXPM1: return y + 1;
    case WICK_UN_LOG: return (C)1 / x;
    case WICK_UN_LOG2: return (C)1 / (x * (C)0.69314718055994530942);
    case WICK_UN_LOG10: return (C)1 / (x * (C)2.30258509299404568402);
    case WICK_UN_LOG1P: return (C)1 / (1 + x);
    case WICK_UN_SQRT: return (C)0.5 / y;
    case WICK_UN_RSQRT: return (C)-0.5 * y * y * y;
    case WICK_UN_SIN: return cos(x);
    case WICK_UN_COS: return -sin(x);
    case WICK_UN_TAN: return 1 + y * y;
    case WICK_UN_ASIN: return (C)1 / sqrt(1 - x * x);
    case WICK_UN_ACOS: return (C)-1 / sqrt(1 - x * x);
    case WICK_UN_ATAN: return (C)1 / (1 + x * x);
    case WICK_UN_SINH: return cosh(x);
    case WICK_UN_COSH: return sinh(x);
    case WICK_UN_TANH: return 1 - y * y;
    case WICK_UN_ERF: return (C)1.12837916709551257390 * exp(-x * x);
    case WICK_UN_SIGMOID: return y * (1 - y);
    case WICK_UN_RELU: return x > 0 ? 1 : 0;
    case WICK_UN_GELU: {
      C cdf = (C)0.5 * (1 + erf(x * (C)0.70710678118654752440));
      C pdf = (C)0.39894228040143267794 * exp((C)-0.5 * x * x);
      return cdf + x * pdf;
    }
    case WICK_UN_GELU_TANH: {
      const C k = (C)0.79788456080286535588, c = (C)0.044715;
      C inner = k * (x + c * x * x * x), t = tanh(inner);
      return (C)0.5 * (1 + t) + (C)0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x);
    }
    case WICK_UN_SILU: {
      C s = (C)1 / (1 + exp(-x));
      return s * (1 + x * (1 - s));
    }
    case WICK_UN_SOFTPLUS: return x > 20 ? (C)1 : (C)1 / (1 + exp(-x));
    case WICK_UN_CLAMP: return (isnan(p0) || x >= (C)p0) && (isnan(p1) || x <= (C)p1) ? 1 : 0;
    case WICK_UN_HARDTANH: return x > (C)p0 && x < (C)p1 ? 1 : 0;
    case WICK_UN_LEAKY_RELU: return x > 0 ? (C)1 : (C)p0;
    case WICK_UN_ELU: return x > 0 ? (C)1 : y + (C)p0;
    default: return 0;
  }
}

template <int DT> struct UnBack {
  typedef typename Tr<DT>::S S;
  typedef typename std::conditional<Tr<DT>::is_float, typename Tr<DT>::C, double>::type C;
  int op;
  double p0, p1;
  __device__ __forceinline__ S operator()(const S (&v)[3]) const {
    C g = (C)Tr<DT>::ld(v[0]), x = (C)Tr<DT>::ld(v[1]), y = (C)Tr<DT>::ld(v[2]);
    // relu, clamp and hardtanh mask the gradient (a NaN gradient stays out where the
    // derivative is 0), as PyTorch's threshold/hardtanh_backward and the CPU kernels do
    C dx = derivative<C>(op, x, y, p0, p1);
    bool mask = op == WICK_UN_RELU || op == WICK_UN_CLAMP || op == WICK_UN_HARDTANH;
    C r = mask && dx == (C)0 ? (C)0 : g * dx;
    if (Tr<DT>::is_float) return Tr<DT>::st((typename Tr<DT>::C)r);
    return Tr<DT>::st((typename Tr<DT>::C)wk_f2i((double)r));
  }
};

template <int DT>
static wick_status run_unary_backward(int op, const wick_kview *gin, const wick_kview *g,
                                      const wick_kview *a, const wick_kview *y, double p0, double p1,
                                      cudaStream_t s) {
  typedef typename Tr<DT>::S S;
  const wick_kview *ins[3] = {g, a, y};
  return ew_launch<3, S, S>(UnBack<DT>{op, p0, p1}, gin, ins, s, "unary_backward");
}

extern "C" wick_status wick_k_unary_backward(int op, const wick_kview *gin, const wick_kview *g,
                                             const wick_kview *a, const wick_kview *y, double p0,
                                             double p1, cudaStream_t s) {
  return WK_DISPATCH(a->dtype, run_unary_backward, op, gin, g, a, y, p0, p1, s);
}
