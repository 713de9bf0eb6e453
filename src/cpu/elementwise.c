/* CPU elementwise kernels: binary and unary math, fill, copy/convert, where.
 * Hot (op, dtype) pairs get tight loops the compiler vectorises; every other pair goes
 * through a generic loop that computes in double (float dtypes) or int64 (integer dtypes). */
#include <math.h>
#include <string.h>

#include "cpu.h"
#include "iter.h"
#include "vec.h"

typedef struct {
  int op;
  wick_dtype dt, odt;
  double p0, p1;
  int err; /* set by a kernel on integer division by zero */
} ew_ctx;

#define AT(T, base, i, stride) (*(T *)((char *)(base) + (i) * (stride)))

/* Tight binary loop: contiguous/contiguous, contiguous/scalar, scalar/contiguous, strided. */
#define BIN_KERNEL(NAME, T, TO, EXPR)                                                    \
  static void NAME(char **d, const int64_t *s, int64_t n, void *ctx) {                    \
    (void)ctx;                                                                            \
    TO *o = (TO *)d[0];                                                                   \
    const T *a = (const T *)d[1], *b = (const T *)d[2];                                   \
    if (s[0] == sizeof(TO) && s[1] == sizeof(T) && s[2] == sizeof(T)) {                   \
      for (int64_t i = 0; i < n; i++) { T x = a[i], y = b[i]; o[i] = (TO)(EXPR); }        \
    } else if (s[0] == sizeof(TO) && s[1] == sizeof(T) && s[2] == 0) {                    \
      const T y = *b;                                                                     \
      for (int64_t i = 0; i < n; i++) { T x = a[i]; o[i] = (TO)(EXPR); }                  \
    } else if (s[0] == sizeof(TO) && s[1] == 0 && s[2] == sizeof(T)) {                    \
      const T x = *a;                                                                     \
      for (int64_t i = 0; i < n; i++) { T y = b[i]; o[i] = (TO)(EXPR); }                  \
    } else {                                                                              \
      for (int64_t i = 0; i < n; i++) {                                                   \
        T x = AT(const T, a, i, s[1]), y = AT(const T, b, i, s[2]);                       \
        AT(TO, o, i, s[0]) = (TO)(EXPR);                                                  \
      }                                                                                   \
    }                                                                                     \
  }

#define MAXF(x, y) ((x) != (x) || (x) > (y) ? (x) : (y))
#define MINF(x, y) ((x) != (x) || (x) < (y) ? (x) : (y))

BIN_KERNEL(add_f32, float, float, x + y)
BIN_KERNEL(sub_f32, float, float, x - y)
BIN_KERNEL(mul_f32, float, float, x * y)
BIN_KERNEL(div_f32, float, float, x / y)
BIN_KERNEL(max_f32, float, float, MAXF(x, y))
BIN_KERNEL(min_f32, float, float, MINF(x, y))
BIN_KERNEL(eq_f32, float, uint8_t, x == y)
BIN_KERNEL(ne_f32, float, uint8_t, x != y)
BIN_KERNEL(lt_f32, float, uint8_t, x < y)
BIN_KERNEL(le_f32, float, uint8_t, x <= y)
BIN_KERNEL(gt_f32, float, uint8_t, x > y)
BIN_KERNEL(ge_f32, float, uint8_t, x >= y)
BIN_KERNEL(add_f64, double, double, x + y)
BIN_KERNEL(sub_f64, double, double, x - y)
BIN_KERNEL(mul_f64, double, double, x * y)
BIN_KERNEL(div_f64, double, double, x / y)
BIN_KERNEL(max_f64, double, double, MAXF(x, y))
BIN_KERNEL(min_f64, double, double, MINF(x, y))
BIN_KERNEL(add_i64, int64_t, int64_t, (int64_t)((uint64_t)x + (uint64_t)y))
BIN_KERNEL(sub_i64, int64_t, int64_t, (int64_t)((uint64_t)x - (uint64_t)y))
BIN_KERNEL(mul_i64, int64_t, int64_t, (int64_t)((uint64_t)x * (uint64_t)y))
BIN_KERNEL(eq_i64, int64_t, uint8_t, x == y)
BIN_KERNEL(ne_i64, int64_t, uint8_t, x != y)
BIN_KERNEL(lt_i64, int64_t, uint8_t, x < y)
BIN_KERNEL(gt_i64, int64_t, uint8_t, x > y)

static wick_inner_fn fast_binary(wick_binop op, wick_dtype dt) {
  if (dt == WICK_DTYPE_F32) {
    switch (op) {
      case WICK_BIN_ADD: return add_f32; case WICK_BIN_SUB: return sub_f32;
      case WICK_BIN_MUL: return mul_f32; case WICK_BIN_DIV: return div_f32;
      case WICK_BIN_MAXIMUM: return max_f32; case WICK_BIN_MINIMUM: return min_f32;
      case WICK_BIN_EQ: return eq_f32; case WICK_BIN_NE: return ne_f32;
      case WICK_BIN_LT: return lt_f32; case WICK_BIN_LE: return le_f32;
      case WICK_BIN_GT: return gt_f32; case WICK_BIN_GE: return ge_f32;
      default: return NULL;
    }
  }
  if (dt == WICK_DTYPE_F64) {
    switch (op) {
      case WICK_BIN_ADD: return add_f64; case WICK_BIN_SUB: return sub_f64;
      case WICK_BIN_MUL: return mul_f64; case WICK_BIN_DIV: return div_f64;
      case WICK_BIN_MAXIMUM: return max_f64; case WICK_BIN_MINIMUM: return min_f64;
      default: return NULL;
    }
  }
  if (dt == WICK_DTYPE_I64) {
    switch (op) {
      case WICK_BIN_ADD: return add_i64; case WICK_BIN_SUB: return sub_i64;
      case WICK_BIN_MUL: return mul_i64; case WICK_BIN_EQ: return eq_i64;
      case WICK_BIN_NE: return ne_i64; case WICK_BIN_LT: return lt_i64;
      case WICK_BIN_GT: return gt_i64;
      default: return NULL;
    }
  }
  return NULL;
}

static double bin_f(int op, double x, double y) {
  switch (op) {
    case WICK_BIN_ADD: return x + y;
    case WICK_BIN_SUB: return x - y;
    case WICK_BIN_MUL: return x * y;
    case WICK_BIN_DIV: return x / y;
    case WICK_BIN_POW: return pow(x, y);
    case WICK_BIN_MAXIMUM: return MAXF(x, y);
    case WICK_BIN_MINIMUM: return MINF(x, y);
    case WICK_BIN_FMOD: return fmod(x, y);
    case WICK_BIN_REMAINDER: {
      double r = fmod(x, y);
      return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
    }
    case WICK_BIN_FLOOR_DIVIDE: return floor(x / y);
    case WICK_BIN_ATAN2: return atan2(x, y);
    case WICK_BIN_EQ: return x == y;
    case WICK_BIN_NE: return x != y;
    case WICK_BIN_LT: return x < y;
    case WICK_BIN_LE: return x <= y;
    case WICK_BIN_GT: return x > y;
    case WICK_BIN_GE: return x >= y;
    case WICK_BIN_LOGICAL_AND: return x != 0 && y != 0;
    case WICK_BIN_LOGICAL_OR: return x != 0 || y != 0;
    case WICK_BIN_LOGICAL_XOR: return (x != 0) != (y != 0);
    default: return 0;
  }
}

static int64_t ipow(int64_t b, int64_t e) {
  if (e < 0) return b == 1 ? 1 : b == -1 ? (e % 2 ? -1 : 1) : 0;
  uint64_t r = 1, x = (uint64_t)b;
  while (e) { if (e & 1) r *= x; x *= x; e >>= 1; }
  return (int64_t)r;
}

static int64_t bin_i(int op, int64_t x, int64_t y, int *err) {
  switch (op) {
    case WICK_BIN_ADD: return (int64_t)((uint64_t)x + (uint64_t)y);
    case WICK_BIN_SUB: return (int64_t)((uint64_t)x - (uint64_t)y);
    case WICK_BIN_MUL: return (int64_t)((uint64_t)x * (uint64_t)y);
    case WICK_BIN_POW: return ipow(x, y);
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
    case WICK_BIN_EQ: return x == y;
    case WICK_BIN_NE: return x != y;
    case WICK_BIN_LT: return x < y;
    case WICK_BIN_LE: return x <= y;
    case WICK_BIN_GT: return x > y;
    case WICK_BIN_GE: return x >= y;
    case WICK_BIN_LOGICAL_AND: return x != 0 && y != 0;
    case WICK_BIN_LOGICAL_OR: return x != 0 || y != 0;
    case WICK_BIN_LOGICAL_XOR: return (x != 0) != (y != 0);
    case WICK_BIN_BITWISE_AND: return x & y;
    case WICK_BIN_BITWISE_OR: return x | y;
    case WICK_BIN_BITWISE_XOR: return x ^ y;
    default: return 0;
  }
}

static void generic_binary(char **d, const int64_t *s, int64_t n, void *vctx) {
  ew_ctx *c = vctx;
  size_t is = wick_dtype_size(c->dt), os = wick_dtype_size(c->odt);
  (void)is; (void)os;
  if (wick_dtype_is_float(c->dt)) {
    for (int64_t i = 0; i < n; i++) {
      double x = wick_load_f64(d[1] + i * s[1], c->dt), y = wick_load_f64(d[2] + i * s[2], c->dt);
      wick_store_f64(d[0] + i * s[0], c->odt, bin_f(c->op, x, y));
    }
  } else {
    int err = 0;
    for (int64_t i = 0; i < n; i++) {
      int64_t x = wick_load_i64(d[1] + i * s[1], c->dt), y = wick_load_i64(d[2] + i * s[2], c->dt);
      wick_store_i64(d[0] + i * s[0], c->odt, bin_i(c->op, x, y, &err));
    }
    if (err) c->err = 1;
  }
}

wick_status wick_cpu_binary(wick_binop op, wick_tensor *out, const wick_tensor *a, const wick_tensor *b) {
  const wick_tensor *ts[3] = {out, a, b};
  wick_iter it;
  wick_iter_init(&it, 3, ts);
  ew_ctx c = {.op = op, .dt = a->dtype, .odt = out->dtype};
  wick_inner_fn fn = fast_binary(op, a->dtype);
  wick_iter_run(&it, fn ? fn : generic_binary, &c, fn ? 1 : 8);
  if (c.err) return wick_errorf(WICK_ERR_ARG, "ZeroDivisionError: integer division by zero");
  return WICK_OK;
}

/* ---- unary ---- */

#define UN_KERNEL(NAME, T, EXPR)                                                         \
  static void NAME(char **d, const int64_t *s, int64_t n, void *ctx) {                    \
    (void)ctx;                                                                            \
    T *o = (T *)d[0];                                                                     \
    const T *a = (const T *)d[1];                                                         \
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {                                         \
      for (int64_t i = 0; i < n; i++) { T x = a[i]; o[i] = (EXPR); }                      \
    } else {                                                                              \
      for (int64_t i = 0; i < n; i++) { T x = AT(const T, a, i, s[1]); AT(T, o, i, s[0]) = (EXPR); } \
    }                                                                                     \
  }

UN_KERNEL(neg_f32, float, -x)
UN_KERNEL(abs_f32, float, fabsf(x))
UN_KERNEL(relu_f32, float, x > 0 ? x : (x != x ? x : 0.0f))
UN_KERNEL(sqrt_f32, float, sqrtf(x))

/* f32 math from the vectorised kernels of the CPU's instruction set (vec.h); strided runs
 * go through a contiguous buffer so that every element gets the same arithmetic. */
#define VEC_KERNEL(NAME, SLOT)                                                           \
  static void NAME(char **d, const int64_t *s, int64_t n, void *ctx) {                    \
    (void)ctx;                                                                            \
    const wick_cpu_vec *v = wick_cpu_vec_get();                                           \
    if (s[0] == 4 && s[1] == 4) { v->SLOT((float *)d[0], (const float *)d[1], n); return; } \
    float buf[256];                                                                       \
    for (int64_t i = 0; i < n; i += 256) {                                                \
      int64_t k = n - i < 256 ? n - i : 256;                                              \
      for (int64_t j = 0; j < k; j++) buf[j] = AT(const float, d[1], i + j, s[1]);        \
      v->SLOT(buf, buf, k);                                                               \
      for (int64_t j = 0; j < k; j++) AT(float, d[0], i + j, s[0]) = buf[j];              \
    }                                                                                     \
  }

VEC_KERNEL(exp_f32, exp)
VEC_KERNEL(log_f32, log)
VEC_KERNEL(tanh_f32, tanh)
VEC_KERNEL(sigmoid_f32, sigmoid)
VEC_KERNEL(gelu_f32, gelu)
UN_KERNEL(square_f32, float, x * x)
UN_KERNEL(neg_f64, double, -x)
UN_KERNEL(relu_f64, double, x > 0 ? x : (x != x ? x : 0.0))
UN_KERNEL(exp_f64, double, exp(x))

static wick_inner_fn fast_unary(wick_unop op, wick_dtype dt) {
  if (dt == WICK_DTYPE_F32) {
    switch (op) {
      case WICK_UN_NEG: return neg_f32; case WICK_UN_ABS: return abs_f32;
      case WICK_UN_RELU: return relu_f32; case WICK_UN_EXP: return exp_f32;
      case WICK_UN_LOG: return log_f32; case WICK_UN_SQRT: return sqrt_f32;
      case WICK_UN_TANH: return tanh_f32; case WICK_UN_SIGMOID: return sigmoid_f32;
      case WICK_UN_SQUARE: return square_f32; case WICK_UN_GELU: return gelu_f32;
      default: return NULL;
    }
  }
  if (dt == WICK_DTYPE_F64) {
    switch (op) {
      case WICK_UN_NEG: return neg_f64; case WICK_UN_RELU: return relu_f64;
      case WICK_UN_EXP: return exp_f64;
      default: return NULL;
    }
  }
  return NULL;
}

static double clampd(double x, double lo, double hi) {
  if (x != x) return x;
  if (!isnan(lo) && x < lo) x = lo;
  if (!isnan(hi) && x > hi) x = hi;
  return x;
}

static double un_f(int op, double x, double p0, double p1) {
  switch (op) {
    case WICK_UN_NEG: return -x;
    case WICK_UN_ABS: return fabs(x);
    case WICK_UN_SIGN: return x > 0 ? 1 : x < 0 ? -1 : x; /* keeps 0, -0 and NaN */
    case WICK_UN_RECIPROCAL: return 1 / x;
    case WICK_UN_SQUARE: return x * x;
    case WICK_UN_EXP: return exp(x);
    case WICK_UN_EXPM1: return expm1(x);
    case WICK_UN_LOG: return log(x);
    case WICK_UN_LOG2: return log2(x);
    case WICK_UN_LOG10: return log10(x);
    case WICK_UN_LOG1P: return log1p(x);
    case WICK_UN_SQRT: return sqrt(x);
    case WICK_UN_RSQRT: return 1 / sqrt(x);
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
    case WICK_UN_SIGMOID: return 1 / (1 + exp(-x));
    case WICK_UN_RELU: return x > 0 ? x : (x != x ? x : 0);
    case WICK_UN_GELU: return 0.5 * x * (1 + erf(x * 0.70710678118654752440));
    case WICK_UN_GELU_TANH:
      return 0.5 * x * (1 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    case WICK_UN_SILU: return x / (1 + exp(-x));
    case WICK_UN_SOFTPLUS: return x > 20 ? x : log1p(exp(x));
    case WICK_UN_FLOOR: return floor(x);
    case WICK_UN_CEIL: return ceil(x);
    case WICK_UN_ROUND: return nearbyint(x);
    case WICK_UN_TRUNC: return trunc(x);
    case WICK_UN_LOGICAL_NOT: return x == 0;
    case WICK_UN_ISNAN: return isnan(x);
    case WICK_UN_ISINF: return isinf(x) != 0;
    case WICK_UN_ISFINITE: return isfinite(x);
    case WICK_UN_CLAMP: case WICK_UN_HARDTANH: return clampd(x, p0, p1);
    case WICK_UN_LEAKY_RELU: return x > 0 ? x : x * p0;
    case WICK_UN_ELU: return x > 0 ? x : p0 * expm1(x);
    default: return 0;
  }
}

static int64_t un_i(int op, int64_t x, double p0, double p1, wick_dtype dt) {
  switch (op) {
    case WICK_UN_NEG: return (int64_t)(0 - (uint64_t)x);
    case WICK_UN_ABS: return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
    case WICK_UN_SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case WICK_UN_SQUARE: return (int64_t)((uint64_t)x * (uint64_t)x);
    case WICK_UN_RELU: return x > 0 ? x : 0;
    case WICK_UN_LOGICAL_NOT: return x == 0;
    case WICK_UN_BITWISE_NOT: return dt == WICK_DTYPE_BOOL ? x == 0 : ~x;
    case WICK_UN_ISNAN: case WICK_UN_ISINF: return 0;
    case WICK_UN_ISFINITE: return 1;
    case WICK_UN_CLAMP: case WICK_UN_HARDTANH: {
      if (!isnan(p0) && (double)x < p0) x = (int64_t)ceil(p0);
      if (!isnan(p1) && (double)x > p1) x = (int64_t)floor(p1);
      return x;
    }
    case WICK_UN_LEAKY_RELU: return x > 0 ? x : (int64_t)((double)x * p0);
    default: return x; /* floor, ceil, round, trunc: identity on integers */
  }
}

static void generic_unary(char **d, const int64_t *s, int64_t n, void *vctx) {
  ew_ctx *c = vctx;
  if (wick_dtype_is_float(c->dt)) {
    for (int64_t i = 0; i < n; i++)
      wick_store_f64(d[0] + i * s[0], c->odt, un_f(c->op, wick_load_f64(d[1] + i * s[1], c->dt), c->p0, c->p1));
  } else {
    for (int64_t i = 0; i < n; i++)
      wick_store_i64(d[0] + i * s[0], c->odt,
                     un_i(c->op, wick_load_i64(d[1] + i * s[1], c->dt), c->p0, c->p1, c->dt));
  }
}

wick_status wick_cpu_unary(wick_unop op, wick_tensor *out, const wick_tensor *a, double p0, double p1) {
  const wick_tensor *ts[2] = {out, a};
  wick_iter it;
  wick_iter_init(&it, 2, ts);
  ew_ctx c = {.op = op, .dt = a->dtype, .odt = out->dtype, .p0 = p0, .p1 = p1};
  wick_inner_fn fn = out->dtype == a->dtype ? fast_unary(op, a->dtype) : NULL;
  wick_iter_run(&it, fn ? fn : generic_unary, &c, fn ? 4 : 16);
  return WICK_OK;
}

/* ---- fill ---- */

#define FILL_LOOP(T, val)                                                              \
  do {                                                                                 \
    T v_ = (val);                                                                      \
    if (s[0] == sizeof(T)) { T *o = (T *)d[0]; for (int64_t i = 0; i < n; i++) o[i] = v_; } \
    else for (int64_t i = 0; i < n; i++) AT(T, d[0], i, s[0]) = v_;                    \
  } while (0)

typedef struct { wick_dtype dt; double v; int64_t iv; unsigned char bytes[8]; } fill_ctx;

static void fill_fn(char **d, const int64_t *s, int64_t n, void *vctx) {
  fill_ctx *c = vctx;
  switch (wick_dtype_size(c->dt)) {
    case 1: { uint8_t v; memcpy(&v, c->bytes, 1); FILL_LOOP(uint8_t, v); break; }
    case 2: { uint16_t v; memcpy(&v, c->bytes, 2); FILL_LOOP(uint16_t, v); break; }
    case 4: { uint32_t v; memcpy(&v, c->bytes, 4); FILL_LOOP(uint32_t, v); break; }
    default: { uint64_t v; memcpy(&v, c->bytes, 8); FILL_LOOP(uint64_t, v); break; }
  }
}

wick_status wick_cpu_fill(wick_tensor *dst, double v, int64_t iv) {
  fill_ctx c = {.dt = dst->dtype, .v = v, .iv = iv};
  if (wick_dtype_is_float(dst->dtype)) wick_store_f64(c.bytes, dst->dtype, v);
  else wick_store_i64(c.bytes, dst->dtype, iv);
  const wick_tensor *ts[1] = {dst};
  wick_iter it;
  wick_iter_init(&it, 1, ts);
  wick_iter_run(&it, fill_fn, &c, 1);
  return WICK_OK;
}

/* ---- copy / convert ---- */

typedef struct { wick_dtype sdt, ddt; } copy_ctx;

#define CONV_KERNEL(NAME, TS, TD, EXPR)                                                  \
  static void NAME(char **d, const int64_t *s, int64_t n, void *ctx) {                    \
    (void)ctx;                                                                            \
    if (s[0] == sizeof(TD) && s[1] == sizeof(TS)) {                                       \
      TD *o = (TD *)d[0];                                                                 \
      const TS *a = (const TS *)d[1];                                                     \
      for (int64_t i = 0; i < n; i++) { TS x = a[i]; o[i] = (EXPR); }                     \
    } else {                                                                              \
      for (int64_t i = 0; i < n; i++) { TS x = AT(const TS, d[1], i, s[1]); AT(TD, d[0], i, s[0]) = (EXPR); } \
    }                                                                                     \
  }

CONV_KERNEL(copy_b1, uint8_t, uint8_t, x)
CONV_KERNEL(copy_b2, uint16_t, uint16_t, x)
CONV_KERNEL(copy_b4, uint32_t, uint32_t, x)
CONV_KERNEL(copy_b8, uint64_t, uint64_t, x)
CONV_KERNEL(u8_to_f32, uint8_t, float, (float)x)
CONV_KERNEL(f32_to_f64, float, double, (double)x)
CONV_KERNEL(f64_to_f32, double, float, (float)x)
CONV_KERNEL(i64_to_f32, int64_t, float, (float)x)
CONV_KERNEL(i64_to_f64, int64_t, double, (double)x)
CONV_KERNEL(bool_to_f32, uint8_t, float, x ? 1.0f : 0.0f)

static void generic_copy(char **d, const int64_t *s, int64_t n, void *vctx) {
  copy_ctx *c = vctx;
  if (wick_dtype_is_float(c->sdt) || wick_dtype_is_float(c->ddt)) {
    for (int64_t i = 0; i < n; i++)
      wick_store_f64(d[0] + i * s[0], c->ddt, wick_load_f64(d[1] + i * s[1], c->sdt));
  } else {
    for (int64_t i = 0; i < n; i++)
      wick_store_i64(d[0] + i * s[0], c->ddt, wick_load_i64(d[1] + i * s[1], c->sdt));
  }
}

static wick_inner_fn fast_copy(wick_dtype sd, wick_dtype dd) {
  if (sd == dd || (sd == WICK_DTYPE_U8 && dd == WICK_DTYPE_BOOL && 0)) {
    switch (wick_dtype_size(sd)) {
      case 1: return copy_b1; case 2: return copy_b2; case 4: return copy_b4; default: return copy_b8;
    }
  }
  if (dd == WICK_DTYPE_F32) {
    if (sd == WICK_DTYPE_U8) return u8_to_f32;
    if (sd == WICK_DTYPE_F64) return f64_to_f32;
    if (sd == WICK_DTYPE_I64) return i64_to_f32;
    if (sd == WICK_DTYPE_BOOL) return bool_to_f32;
  }
  if (dd == WICK_DTYPE_F64) {
    if (sd == WICK_DTYPE_F32) return f32_to_f64;
    if (sd == WICK_DTYPE_I64) return i64_to_f64;
  }
  return NULL;
}

wick_status wick_cpu_copy(wick_tensor *dst, const wick_tensor *src) {
  if (src->device.type != WICK_DEVICE_CPU || dst->device.type != WICK_DEVICE_CPU)
    return wick_errorf(WICK_ERR_DEVICE, "copy_: the CPU backend cannot copy device memory");
  if (dst->dtype == src->dtype && wick_tensor_is_contiguous(dst) && wick_tensor_is_contiguous(src)) {
    size_t nb = (size_t)wick_tensor_numel(dst) * wick_dtype_size(dst->dtype);
    if (nb) memmove(wick_tensor_data(dst), wick_tensor_data(src), nb);
    return WICK_OK;
  }
  const wick_tensor *ts[2] = {dst, src};
  wick_iter it;
  wick_iter_init(&it, 2, ts);
  copy_ctx c = {src->dtype, dst->dtype};
  wick_inner_fn fn = fast_copy(src->dtype, dst->dtype);
  wick_iter_run(&it, fn ? fn : generic_copy, &c, fn ? 1 : 8);
  return WICK_OK;
}

/* ---- where ---- */

static void where_fn(char **d, const int64_t *s, int64_t n, void *vctx) {
  size_t es = *(size_t *)vctx;
  for (int64_t i = 0; i < n; i++) {
    const char *src = *(const uint8_t *)(d[1] + i * s[1]) ? d[2] + i * s[2] : d[3] + i * s[3];
    memcpy(d[0] + i * s[0], src, es);
  }
}

wick_status wick_cpu_where(wick_tensor *out, const wick_tensor *cond, const wick_tensor *a,
                           const wick_tensor *b) {
  const wick_tensor *ts[4] = {out, cond, a, b};
  wick_iter it;
  wick_iter_init(&it, 4, ts);
  size_t es = wick_dtype_size(out->dtype);
  wick_iter_run(&it, where_fn, &es, 2);
  return WICK_OK;
}
