/* PyTorch's per-op dtype rules that refuse a call before any kernel runs (the dtypes its CPU
 * kernels are "not implemented for", bool subtraction, integers to negative powers) and the
 * few result dtypes that differ from plain promotion. Checked against torch 1.13 by
 * spec/diff_torch_spec.lua. */
#include "ops.h"

#include <math.h>

/* The scalar type name PyTorch puts in "not implemented for 'Long'". */
const char *wick_dtype_torch_name(wick_dtype d) {
  switch (d) {
    case WICK_DTYPE_BOOL: return "Bool";
    case WICK_DTYPE_U8: return "Byte";
    case WICK_DTYPE_I32: return "Int";
    case WICK_DTYPE_I64: return "Long";
    case WICK_DTYPE_F16: return "Half";
    case WICK_DTYPE_BF16: return "BFloat16";
    case WICK_DTYPE_F32: return "Float";
    default: return "Double";
  }
}

static wick_status not_implemented(const char *op, wick_dtype d) {
  return wick_errorf(WICK_ERR_DTYPE, "%s: not implemented for '%s'", op, wick_dtype_torch_name(d));
}

wick_status wick_unary_check(wick_unop op, const char *name, const wick_tensor *a, double p0,
                             double p1, wick_dtype *ct) {
  wick_dtype d = a->dtype;
  bool fl = wick_dtype_is_float(d), b = d == WICK_DTYPE_BOOL;
  switch (op) {
    case WICK_UN_GELU: case WICK_UN_GELU_TANH: case WICK_UN_SILU: case WICK_UN_SOFTPLUS:
    case WICK_UN_ELU: case WICK_UN_LEAKY_RELU:
      if (!fl) return not_implemented(name, d);
      break;
    case WICK_UN_ABS: case WICK_UN_FLOOR: case WICK_UN_CEIL: case WICK_UN_ROUND:
    case WICK_UN_TRUNC:
      if (b) return not_implemented(name, d);
      break;
    case WICK_UN_RELU:
      if (b) return wick_errorf(WICK_ERR_DTYPE, "relu: Boolean inputs not supported for relu");
      break;
    case WICK_UN_HARDTANH:
      if (b) return wick_errorf(WICK_ERR_DTYPE, "hardtanh: Bool inputs not supported for hardtanh");
      if (d == WICK_DTYPE_U8 && (p0 < 0 || p1 < 0))
        return wick_errorf(WICK_ERR_DTYPE, "hardtanh: cannot do hardtanh on an unsigned type with negative limits");
      break;
    case WICK_UN_SQUARE: /* x ** 2: a bool tensor meets an integer exponent */
      if (b) *ct = WICK_DTYPE_I64;
      break;
    default:
      break;
  }
  return WICK_OK;
}

/* A wrapped (Lua) integer number below zero? */
static bool negative_int_scalar(const wick_tensor *t) {
  if (!t->wrapped_number || wick_dtype_is_float(t->dtype) || t->dtype == WICK_DTYPE_BOOL) return false;
  double v;
  int64_t iv;
  if (wick_item(t, &v, &iv)) return false;
  return iv < 0;
}

wick_status wick_binary_check(wick_binop op, const char *name, const wick_tensor *a,
                              const wick_tensor *b, wick_dtype ct) {
  bool bl = ct == WICK_DTYPE_BOOL;
  switch (op) {
    case WICK_BIN_SUB:
      if (a->dtype == WICK_DTYPE_BOOL && b->dtype == WICK_DTYPE_BOOL)
        return wick_errorf(WICK_ERR_DTYPE,
                           "sub: subtraction of two bool tensors is not supported; use logical_xor");
      if (a->dtype == WICK_DTYPE_BOOL || b->dtype == WICK_DTYPE_BOOL)
        return wick_errorf(WICK_ERR_DTYPE,
                           "sub: subtraction with a bool tensor is not supported; use logical_not to invert a mask");
      break;
    case WICK_BIN_FLOOR_DIVIDE: case WICK_BIN_REMAINDER: case WICK_BIN_FMOD:
      if (bl) return not_implemented(name, ct);
      break;
    case WICK_BIN_POW:
      if (bl && !b->wrapped_number) return not_implemented(name, ct);
      if (!wick_dtype_is_float(ct) && negative_int_scalar(b))
        return wick_errorf(WICK_ERR_ARG, "pow: integers to negative integer powers are not allowed");
      break;
    default:
      break;
  }
  return WICK_OK;
}
