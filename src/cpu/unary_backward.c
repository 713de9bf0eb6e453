/* CPU gradients of unary ops: gin = g * op'(a), using y = op(a) where that is cheaper. */
#include <math.h>

#include "cpu.h"
#include "iter.h"

typedef struct { int op; wick_dtype dt; double p0, p1; } ub_ctx;

static double derivative(int op, double x, double y, double p0, double p1) {
  switch (op) {
    case WICK_UN_NEG: return -1;
    case WICK_UN_ABS: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case WICK_UN_SIGN: case WICK_UN_FLOOR: case WICK_UN_CEIL: case WICK_UN_ROUND:
    case WICK_UN_TRUNC: return 0;
    case WICK_UN_RECIPROCAL: return -y * y;
    case WICK_UN_SQUARE: return 2 * x;
    case WICK_UN_EXP: return y;
    case WICK_UN_EXPM1: return y + 1;
    case WICK_UN_LOG: return 1 / x;
    case WICK_UN_LOG2: return 1 / (x * 0.69314718055994530942);
    case WICK_UN_LOG10: return 1 / (x * 2.30258509299404568402);
    case WICK_UN_LOG1P: return 1 / (1 + x);
    case WICK_UN_SQRT: return 0.5 / y;
    case WICK_UN_RSQRT: return -0.5 * y * y * y;
    case WICK_UN_SIN: return cos(x);
    case WICK_UN_COS: return -sin(x);
    case WICK_UN_TAN: return 1 + y * y;
    case WICK_UN_ASIN: return 1 / sqrt(1 - x * x);
    case WICK_UN_ACOS: return -1 / sqrt(1 - x * x);
    case WICK_UN_ATAN: return 1 / (1 + x * x);
    case WICK_UN_SINH: return cosh(x);
    case WICK_UN_COSH: return sinh(x);
    case WICK_UN_TANH: return 1 - y * y;
    case WICK_UN_ERF: return 1.12837916709551257390 * exp(-x * x);
    case WICK_UN_SIGMOID: return y * (1 - y);
    case WICK_UN_RELU: return x > 0 ? 1 : 0;
    case WICK_UN_GELU: {
      double cdf = 0.5 * (1 + erf(x * 0.70710678118654752440));
      double pdf = 0.39894228040143267794 * exp(-0.5 * x * x);
      return cdf + x * pdf;
    }
    case WICK_UN_GELU_TANH: {
      const double k = 0.79788456080286535588, c = 0.044715;
      double inner = k * (x + c * x * x * x), t = tanh(inner);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x);
    }
    case WICK_UN_SILU: {
      double s = 1 / (1 + exp(-x));
      return s * (1 + x * (1 - s));
    }
    case WICK_UN_SOFTPLUS: return x > 20 ? 1 : 1 / (1 + exp(-x));
    case WICK_UN_CLAMP:
      return (isnan(p0) || x >= p0) && (isnan(p1) || x <= p1) ? 1 : 0;
    case WICK_UN_HARDTANH: return x > p0 && x < p1 ? 1 : 0;
    case WICK_UN_LEAKY_RELU: return x > 0 ? 1 : p0;
    case WICK_UN_ELU: return x > 0 ? 1 : y + p0;
    default: return 0;
  }
}

static void generic(char **d, const int64_t *s, int64_t n, void *vctx) {
  ub_ctx *c = vctx;
  for (int64_t i = 0; i < n; i++) {
    double g = wick_load_f64(d[1] + i * s[1], c->dt), x = wick_load_f64(d[2] + i * s[2], c->dt);
    double y = wick_load_f64(d[3] + i * s[3], c->dt);
    double dx = derivative(c->op, x, y, c->p0, c->p1);
    /* relu, clamp and hardtanh mask the gradient (PyTorch's threshold_backward, a where() for
     * clamp, hardtanh_backward): a masked
     * position is 0 even for an inf or NaN gradient, as in relu_f32 below */
    bool mask = c->op == WICK_UN_RELU || c->op == WICK_UN_CLAMP || c->op == WICK_UN_HARDTANH;
    wick_store_f64(d[0] + i * s[0], c->dt, mask && dx == 0 ? 0.0 : g * dx);
  }
}

#define F32_AT(base, i, stride) (*(float *)((base) + (i) * (stride)))

/* EXPR reads G (incoming gradient), X (input) and Y (output). */
#define UB_F32(NAME, EXPR)                                                              \
  static void NAME(char **d, const int64_t *s, int64_t n, void *ctx) {                   \
    (void)ctx;                                                                           \
    if (s[0] == 4 && s[1] == 4 && s[2] == 4 && s[3] == 4) {                              \
      float *o = (float *)d[0];                                                          \
      const float *gp = (const float *)d[1], *xp = (const float *)d[2], *yp = (const float *)d[3]; \
      for (int64_t i = 0; i < n; i++) {                                                  \
        float G = gp[i], X = xp[i], Y = yp[i];                                           \
        (void)X; (void)Y;                                                                \
        o[i] = (EXPR);                                                                   \
      }                                                                                  \
    } else {                                                                             \
      for (int64_t i = 0; i < n; i++) {                                                  \
        float G = F32_AT(d[1], i, s[1]), X = F32_AT(d[2], i, s[2]), Y = F32_AT(d[3], i, s[3]); \
        (void)X; (void)Y;                                                                \
        F32_AT(d[0], i, s[0]) = (EXPR);                                                  \
      }                                                                                  \
    }                                                                                    \
  }

UB_F32(relu_f32, X > 0 ? G : 0.0f)
UB_F32(sigmoid_f32, G * Y * (1.0f - Y))
UB_F32(tanh_f32, G * (1.0f - Y * Y))

wick_status wick_cpu_unary_backward(wick_unop op, wick_tensor *gin, const wick_tensor *g,
                                   const wick_tensor *a, const wick_tensor *y, double p0, double p1) {
  const wick_tensor *ts[4] = {gin, g, a, y};
  wick_iter it;
  wick_iter_init(&it, 4, ts);
  ub_ctx c = {op, a->dtype, p0, p1};
  wick_inner_fn fn = NULL;
  if (a->dtype == WICK_DTYPE_F32) {
    if (op == WICK_UN_RELU) fn = relu_f32;
    else if (op == WICK_UN_SIGMOID) fn = sigmoid_f32;
    else if (op == WICK_UN_TANH) fn = tanh_f32;
  }
  wick_iter_run(&it, fn ? fn : generic, &c, fn ? 2 : 16);
  return WICK_OK;
}
