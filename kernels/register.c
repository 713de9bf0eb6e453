/* The CUDA row's kernel slots: each turns its wick_tensor operands into plain views
 * (kview.h) and calls a launcher in the kernels/ .cu files on the device's current stream. */
#include <string.h>

#include "core/rng.h"
#include "kernels.h"
#include "kops.h"
#include "kview.h"

_Static_assert(WICK_KMAX_DIMS == WICK_MAX_DIMS, "kview.h: WICK_KMAX_DIMS != WICK_MAX_DIMS");
_Static_assert((int)WK_BIN_ADD == (int)WICK_BIN_ADD, "kops.h is out of date");
_Static_assert((int)WK_BIN_SUB == (int)WICK_BIN_SUB, "kops.h is out of date");
_Static_assert((int)WK_BIN_MUL == (int)WICK_BIN_MUL, "kops.h is out of date");
_Static_assert((int)WK_BIN_DIV == (int)WICK_BIN_DIV, "kops.h is out of date");
_Static_assert((int)WK_BIN_POW == (int)WICK_BIN_POW, "kops.h is out of date");
_Static_assert((int)WK_BIN_MAXIMUM == (int)WICK_BIN_MAXIMUM, "kops.h is out of date");
_Static_assert((int)WK_BIN_MINIMUM == (int)WICK_BIN_MINIMUM, "kops.h is out of date");
_Static_assert((int)WK_BIN_FMOD == (int)WICK_BIN_FMOD, "kops.h is out of date");
_Static_assert((int)WK_BIN_REMAINDER == (int)WICK_BIN_REMAINDER, "kops.h is out of date");
_Static_assert((int)WK_BIN_FLOOR_DIVIDE == (int)WICK_BIN_FLOOR_DIVIDE, "kops.h is out of date");
_Static_assert((int)WK_BIN_ATAN2 == (int)WICK_BIN_ATAN2, "kops.h is out of date");
_Static_assert((int)WK_BIN_EQ == (int)WICK_BIN_EQ, "kops.h is out of date");
_Static_assert((int)WK_BIN_NE == (int)WICK_BIN_NE, "kops.h is out of date");
_Static_assert((int)WK_BIN_LT == (int)WICK_BIN_LT, "kops.h is out of date");
_Static_assert((int)WK_BIN_LE == (int)WICK_BIN_LE, "kops.h is out of date");
_Static_assert((int)WK_BIN_GT == (int)WICK_BIN_GT, "kops.h is out of date");
_Static_assert((int)WK_BIN_GE == (int)WICK_BIN_GE, "kops.h is out of date");
_Static_assert((int)WK_BIN_LOGICAL_AND == (int)WICK_BIN_LOGICAL_AND, "kops.h is out of date");
_Static_assert((int)WK_BIN_LOGICAL_OR == (int)WICK_BIN_LOGICAL_OR, "kops.h is out of date");
_Static_assert((int)WK_BIN_LOGICAL_XOR == (int)WICK_BIN_LOGICAL_XOR, "kops.h is out of date");
_Static_assert((int)WK_BIN_BITWISE_AND == (int)WICK_BIN_BITWISE_AND, "kops.h is out of date");
_Static_assert((int)WK_BIN_BITWISE_OR == (int)WICK_BIN_BITWISE_OR, "kops.h is out of date");
_Static_assert((int)WK_BIN_BITWISE_XOR == (int)WICK_BIN_BITWISE_XOR, "kops.h is out of date");
_Static_assert((int)WK_BIN_COUNT == (int)WICK_BIN_COUNT, "kops.h is out of date");
_Static_assert((int)WK_UN_NEG == (int)WICK_UN_NEG, "kops.h is out of date");
_Static_assert((int)WK_UN_ABS == (int)WICK_UN_ABS, "kops.h is out of date");
_Static_assert((int)WK_UN_SIGN == (int)WICK_UN_SIGN, "kops.h is out of date");
_Static_assert((int)WK_UN_RECIPROCAL == (int)WICK_UN_RECIPROCAL, "kops.h is out of date");
_Static_assert((int)WK_UN_SQUARE == (int)WICK_UN_SQUARE, "kops.h is out of date");
_Static_assert((int)WK_UN_EXP == (int)WICK_UN_EXP, "kops.h is out of date");
_Static_assert((int)WK_UN_EXPM1 == (int)WICK_UN_EXPM1, "kops.h is out of date");
_Static_assert((int)WK_UN_LOG == (int)WICK_UN_LOG, "kops.h is out of date");
_Static_assert((int)WK_UN_LOG2 == (int)WICK_UN_LOG2, "kops.h is out of date");
_Static_assert((int)WK_UN_LOG10 == (int)WICK_UN_LOG10, "kops.h is out of date");
_Static_assert((int)WK_UN_LOG1P == (int)WICK_UN_LOG1P, "kops.h is out of date");
_Static_assert((int)WK_UN_SQRT == (int)WICK_UN_SQRT, "kops.h is out of date");
_Static_assert((int)WK_UN_RSQRT == (int)WICK_UN_RSQRT, "kops.h is out of date");
_Static_assert((int)WK_UN_SIN == (int)WICK_UN_SIN, "kops.h is out of date");
_Static_assert((int)WK_UN_COS == (int)WICK_UN_COS, "kops.h is out of date");
_Static_assert((int)WK_UN_TAN == (int)WICK_UN_TAN, "kops.h is out of date");
_Static_assert((int)WK_UN_ASIN == (int)WICK_UN_ASIN, "kops.h is out of date");
_Static_assert((int)WK_UN_ACOS == (int)WICK_UN_ACOS, "kops.h is out of date");
_Static_assert((int)WK_UN_ATAN == (int)WICK_UN_ATAN, "kops.h is out of date");
_Static_assert((int)WK_UN_SINH == (int)WICK_UN_SINH, "kops.h is out of date");
_Static_assert((int)WK_UN_COSH == (int)WICK_UN_COSH, "kops.h is out of date");
_Static_assert((int)WK_UN_TANH == (int)WICK_UN_TANH, "kops.h is out of date");
_Static_assert((int)WK_UN_ERF == (int)WICK_UN_ERF, "kops.h is out of date");
_Static_assert((int)WK_UN_SIGMOID == (int)WICK_UN_SIGMOID, "kops.h is out of date");
_Static_assert((int)WK_UN_RELU == (int)WICK_UN_RELU, "kops.h is out of date");
_Static_assert((int)WK_UN_GELU == (int)WICK_UN_GELU, "kops.h is out of date");
_Static_assert((int)WK_UN_GELU_TANH == (int)WICK_UN_GELU_TANH, "kops.h is out of date");
_Static_assert((int)WK_UN_SILU == (int)WICK_UN_SILU, "kops.h is out of date");
_Static_assert((int)WK_UN_SOFTPLUS == (int)WICK_UN_SOFTPLUS, "kops.h is out of date");
_Static_assert((int)WK_UN_FLOOR == (int)WICK_UN_FLOOR, "kops.h is out of date");
_Static_assert((int)WK_UN_CEIL == (int)WICK_UN_CEIL, "kops.h is out of date");
_Static_assert((int)WK_UN_ROUND == (int)WICK_UN_ROUND, "kops.h is out of date");
_Static_assert((int)WK_UN_TRUNC == (int)WICK_UN_TRUNC, "kops.h is out of date");
_Static_assert((int)WK_UN_LOGICAL_NOT == (int)WICK_UN_LOGICAL_NOT, "kops.h is out of date");
_Static_assert((int)WK_UN_BITWISE_NOT == (int)WICK_UN_BITWISE_NOT, "kops.h is out of date");
_Static_assert((int)WK_UN_ISNAN == (int)WICK_UN_ISNAN, "kops.h is out of date");
_Static_assert((int)WK_UN_ISINF == (int)WICK_UN_ISINF, "kops.h is out of date");
_Static_assert((int)WK_UN_ISFINITE == (int)WICK_UN_ISFINITE, "kops.h is out of date");
_Static_assert((int)WK_UN_CLAMP == (int)WICK_UN_CLAMP, "kops.h is out of date");
_Static_assert((int)WK_UN_LEAKY_RELU == (int)WICK_UN_LEAKY_RELU, "kops.h is out of date");
_Static_assert((int)WK_UN_ELU == (int)WICK_UN_ELU, "kops.h is out of date");
_Static_assert((int)WK_UN_HARDTANH == (int)WICK_UN_HARDTANH, "kops.h is out of date");
_Static_assert((int)WK_UN_COUNT == (int)WICK_UN_COUNT, "kops.h is out of date");
_Static_assert((int)WK_RED_SUM == (int)WICK_RED_SUM, "kops.h is out of date");
_Static_assert((int)WK_RED_PROD == (int)WICK_RED_PROD, "kops.h is out of date");
_Static_assert((int)WK_RED_MAX == (int)WICK_RED_MAX, "kops.h is out of date");
_Static_assert((int)WK_RED_MIN == (int)WICK_RED_MIN, "kops.h is out of date");
_Static_assert((int)WK_RED_ARGMAX == (int)WICK_RED_ARGMAX, "kops.h is out of date");
_Static_assert((int)WK_RED_ARGMIN == (int)WICK_RED_ARGMIN, "kops.h is out of date");
_Static_assert((int)WK_RED_ANY == (int)WICK_RED_ANY, "kops.h is out of date");
_Static_assert((int)WK_RED_ALL == (int)WICK_RED_ALL, "kops.h is out of date");
_Static_assert((int)WK_RED_COUNT == (int)WICK_RED_COUNT, "kops.h is out of date");
_Static_assert((int)WK_RANDOM_UNIFORM == (int)WICK_RANDOM_UNIFORM, "kops.h is out of date");
_Static_assert((int)WK_RANDOM_NORMAL == (int)WICK_RANDOM_NORMAL, "kops.h is out of date");
_Static_assert((int)WK_RANDOM_INTEGERS == (int)WICK_RANDOM_INTEGERS, "kops.h is out of date");
_Static_assert((int)WK_RANDOM_BERNOULLI == (int)WICK_RANDOM_BERNOULLI, "kops.h is out of date");
_Static_assert((int)WK_RANDOM_EXPONENTIAL == (int)WICK_RANDOM_EXPONENTIAL, "kops.h is out of date");

static wick_kview kv(const wick_tensor *t) {
  wick_kview v;
  memset(&v, 0, sizeof v);
  v.data = wick_tensor_data(t);
  v.dtype = t->dtype;
  v.ndim = t->ndim;
  v.device = t->device.index;
  memcpy(v.sizes, t->sizes, sizeof(int64_t) * (size_t)t->ndim);
  memcpy(v.strides, t->strides, sizeof(int64_t) * (size_t)t->ndim);
  return v;
}

static cudaStream_t stream_of(const wick_tensor *t) { return wick_cuda_current_stream(t->device.index); }

static wick_status k_binary(wick_binop op, wick_tensor *out, const wick_tensor *a, const wick_tensor *b) {
  wick_kview o = kv(out), x = kv(a), y = kv(b);
  return wick_k_binary((int)op, &o, &x, &y, stream_of(out));
}

static wick_status k_unary(wick_unop op, wick_tensor *out, const wick_tensor *a, double p0, double p1) {
  wick_kview o = kv(out), x = kv(a);
  return wick_k_unary((int)op, &o, &x, p0, p1, stream_of(out));
}

static wick_status k_unary_backward(wick_unop op, wick_tensor *gin, const wick_tensor *g,
                                    const wick_tensor *a, const wick_tensor *y, double p0, double p1) {
  wick_kview o = kv(gin), gv = kv(g), x = kv(a), yv = kv(y);
  return wick_k_unary_backward((int)op, &o, &gv, &x, &yv, p0, p1, stream_of(gin));
}

static wick_status k_where(wick_tensor *out, const wick_tensor *cond, const wick_tensor *a,
                           const wick_tensor *b) {
  wick_kview o = kv(out), c = kv(cond), x = kv(a), y = kv(b);
  return wick_k_where(&o, &c, &x, &y, stream_of(out));
}

static wick_status k_reduce(wick_redop op, wick_tensor *out, const wick_tensor *a, int nred) {
  wick_kview o = kv(out), x = kv(a);
  return wick_k_reduce((int)op, &o, &x, nred, stream_of(a));
}

/* a seen with out's sizes and stride 0 at dim (the index supplies that coordinate). */
static wick_kview take_source(const wick_tensor *out, const wick_tensor *a, int dim) {
  wick_kview v = kv(a);
  v.ndim = out->ndim;
  memcpy(v.sizes, out->sizes, sizeof(int64_t) * (size_t)out->ndim);
  for (int d = 0; d < out->ndim; d++) v.strides[d] = d < a->ndim ? a->strides[d] : 0;
  if (dim < out->ndim) v.strides[dim] = 0;
  return v;
}

static wick_status k_index_select(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx) {
  wick_kview o = kv(out), x = take_source(out, a, dim), ir = kv(idx);
  /* idx seen with out's shape: stride 0 everywhere but dim */
  ir.ndim = out->ndim;
  memcpy(ir.sizes, out->sizes, sizeof(int64_t) * (size_t)out->ndim);
  for (int d = 0; d < out->ndim; d++) ir.strides[d] = d == dim && idx->ndim ? idx->strides[0] : 0;
  int64_t sd = dim < a->ndim ? a->strides[dim] : 0;
  return wick_k_take(&o, &x, &ir, sd, stream_of(out));
}

static wick_status k_gather(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx) {
  wick_kview o = kv(out), x = take_source(out, a, dim), ir = kv(idx);
  int64_t sd = dim < a->ndim ? a->strides[dim] : 0;
  return wick_k_take(&o, &x, &ir, sd, stream_of(out));
}

static wick_status k_scatter(wick_tensor *dst, int dim, const wick_tensor *idx, const wick_tensor *src,
                             int reduce) {
  wick_kview d = kv(dst), i = kv(idx), s = kv(src);
  return wick_k_scatter(&d, dim, &i, &s, reduce, stream_of(dst));
}

/* Each call keys Philox with 64 bits drawn from the CPU generator (core holds its lock): the
 * generator's state then decides every CUDA stream, so manual_seed, get_rng_state and
 * set_rng_state work for CUDA fills too, while the values differ from CPU fills (PyTorch's
 * CUDA generator is a separate Philox as well). */
static wick_status k_random(wick_tensor *dst, wick_generator *gen, int kind, double p0, double p1) {
  if (wick_tensor_numel(dst) == 0) return WICK_OK;
  uint64_t key = wick_generator_random64(gen);
  wick_kview d = kv(dst);
  return wick_k_random(&d, key, kind, p0, p1, stream_of(dst));
}

static wick_status k_cumulative(wick_tensor *out, const wick_tensor *a, int dim, int prod) {
  wick_kview o = kv(out), x = kv(a);
  return wick_k_cumulative(&o, &x, dim, prod, stream_of(out));
}

void wick_cuda_kernels_register(wick_backend *row) {
  row->binary = k_binary;
  row->unary = k_unary;
  row->unary_backward = k_unary_backward;
  row->where = k_where;
  row->reduce = k_reduce;
  row->index_select = k_index_select;
  row->gather = k_gather;
  row->scatter = k_scatter;
  row->random = k_random;
  row->cumulative = k_cumulative;
}
