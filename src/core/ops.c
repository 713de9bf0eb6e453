/* Elementwise ops, copies, conversions and matmul: argument checks, type promotion,
 * broadcasting and output allocation; the arithmetic itself is in the backend rows. */
#include "ops.h"

#include <math.h>
#include <string.h>

static int category(wick_dtype d) {
  return d == WICK_DTYPE_BOOL ? 0 : wick_dtype_is_float(d) ? 2 : 1;
}

static int tier(const wick_tensor *t) { return t->wrapped_number ? 0 : t->ndim == 0 ? 1 : 2; }

wick_dtype wick_result_type(const wick_tensor *a, const wick_tensor *b) {
  int ta = tier(a), tb = tier(b);
  if (ta == 0 && tb == 0) { /* two Lua numbers: PyTorch's default dtypes */
    int c = category(wick_dtype_promote(a->dtype, b->dtype));
    return c == 2 ? WICK_DTYPE_F32 : c == 1 ? WICK_DTYPE_I64 : WICK_DTYPE_BOOL;
  }
  if (ta == tb) return wick_dtype_promote(a->dtype, b->dtype);
  const wick_tensor *hi = ta > tb ? a : b, *lo = ta > tb ? b : a;
  if (category(lo->dtype) <= category(hi->dtype)) return hi->dtype;
  if (lo->wrapped_number)  /* a Lua number of a higher kind: PyTorch's default dtypes */
    return category(lo->dtype) == 2 ? WICK_DTYPE_F32 : WICK_DTYPE_I64;
  return lo->dtype;
}

static bool is_comparison(wick_binop op) { return wick_binop_flags(op) & WICK_OPF_BOOL_OUT; }
static bool unop_needs_float(wick_unop op) { return wick_unop_flags(op) & WICK_OPF_FLOAT_OUT; }
static bool unop_returns_bool(wick_unop op) { return wick_unop_flags(op) & WICK_OPF_BOOL_OUT; }

/* Can a value of dtype `from` be stored in `to` without changing kind (float->int etc.)? */
static bool can_cast(wick_dtype from, wick_dtype to) { return category(from) <= category(to); }

/* Brings an operand to `dev` and `dtype` (0-d CPU tensors may meet any device, as in PyTorch). */
static wick_status operand(const char *op, const wick_tensor *t, wick_dtype dtype, wick_device dev,
                           wick_tensor **out) {
  if (!(t->ndim == 0 && t->device.type == WICK_DEVICE_CPU))
    WICK_TRY(wick_check_same_device(op, dev, t->device));
  return wick_to(t, dtype, dev, false, out);
}

/* Broadcasts t to shape; the common case of an equal shape costs only a retain. */
static wick_status expand_to(const wick_tensor *t, int nd, const int64_t *shape, wick_tensor **out) {
  if (t->ndim == nd && memcmp(t->sizes, shape, sizeof(int64_t) * (size_t)nd) == 0) {
    *out = wick_tensor_retain((wick_tensor *)t);
    return WICK_OK;
  }
  return wick_expand(t, nd, shape, out);
}

static wick_device common_device(const wick_tensor *a, const wick_tensor *b) {
  if (a->ndim == 0 && a->device.type == WICK_DEVICE_CPU) return b->device;
  return a->device;
}

wick_status wick_binary(wick_binop op, const wick_tensor *a, const wick_tensor *b, wick_tensor **out) {
  const char *name = wick_binop_name(op);
  unsigned flags = wick_binop_flags(op);
  wick_dtype ct = wick_result_type(a, b);
  if (flags & WICK_OPF_FLOAT_OUT) {
    if (!wick_dtype_is_float(ct)) ct = WICK_DTYPE_F32;
  } else if ((flags & WICK_OPF_INT_ONLY) && wick_dtype_is_float(ct)) {
    return wick_errorf(WICK_ERR_DTYPE, "%s: not defined for floating point tensors (%s)", name,
                       wick_dtype_name(ct));
  }
  WICK_TRY(wick_binary_check(op, name, a, b, ct));
  int64_t shape[WICK_MAX_DIMS];
  int nd;
  WICK_TRY(wick_broadcast_shapes(name, a->ndim, a->sizes, b->ndim, b->sizes, &nd, shape));
  wick_device dev = common_device(a, b);
  const wick_backend *be;
  WICK_TRY(wick_backend_for(name, dev, &be));
  wick_tensor *ac = NULL, *bc = NULL, *ae = NULL, *be_ = NULL, *o = NULL;
  wick_status s;
  if ((s = operand(name, a, ct, dev, &ac)) || (s = operand(name, b, ct, dev, &bc))) goto done;
  if ((s = expand_to(ac, nd, shape, &ae)) || (s = expand_to(bc, nd, shape, &be_))) goto done;
  if ((s = wick_tensor_new(is_comparison(op) ? WICK_DTYPE_BOOL : ct, dev, nd, shape, &o))) goto done;
  s = be->binary(op, o, ae, be_);
done:
  wick_tensor_release(ac);
  wick_tensor_release(bc);
  wick_tensor_release(ae);
  wick_tensor_release(be_);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

wick_status wick_binary_(wick_binop op, wick_tensor *a, const wick_tensor *b) {
  const char *name = wick_binop_name(op);
  if (is_comparison(op) || (wick_binop_flags(op) & WICK_OPF_FLOAT_OUT) ||
      wick_result_type(a, b) != a->dtype) {
    /* compute out of place, then store: checks the result fits a's dtype */
    wick_tensor *r;
    WICK_TRY(wick_binary(op, a, b, &r));
    wick_status s = WICK_OK;
    if (!is_comparison(op) && !can_cast(r->dtype, a->dtype))
      s = wick_errorf(WICK_ERR_DTYPE, "%s_: result type %s can't be cast to the desired output type %s",
                      name, wick_dtype_name(r->dtype), wick_dtype_name(a->dtype));
    else if (!wick_shape_eq(r, a)) {
      char b1[128], b2[128];
      s = wick_errorf(WICK_ERR_SHAPE, "%s_: output with shape %s doesn't match the broadcast shape %s",
                      name, wick_shape_str(a->ndim, a->sizes, b1, sizeof b1),
                      wick_shape_str(r->ndim, r->sizes, b2, sizeof b2));
    } else s = wick_copy_(a, r);
    wick_tensor_release(r);
    return s;
  }
  WICK_TRY(wick_binary_check(op, name, a, b, a->dtype));
  const wick_backend *be;
  WICK_TRY(wick_backend_for(name, a->device, &be));
  wick_tensor *bc = NULL, *bx = NULL;
  wick_status s;
  if ((s = operand(name, b, a->dtype, a->device, &bc))) goto done;
  if ((s = expand_to(bc, a->ndim, a->sizes, &bx))) {
    char b1[128], b2[128];
    s = wick_errorf(WICK_ERR_SHAPE, "%s_: output with shape %s doesn't match the broadcast shape of %s",
                    name, wick_shape_str(a->ndim, a->sizes, b1, sizeof b1),
                    wick_shape_str(b->ndim, b->sizes, b2, sizeof b2));
    goto done;
  }
  s = be->binary(op, a, a, bx);
  if (!s) wick_tensor_bump_version(a);
done:
  wick_tensor_release(bc);
  wick_tensor_release(bx);
  return s;
}

wick_status wick_unary(wick_unop op, const wick_tensor *a, double p0, double p1, wick_tensor **out) {
  const char *name = wick_unop_name(op);
  wick_dtype ct = a->dtype;
  if (unop_needs_float(op) && !wick_dtype_is_float(ct)) ct = WICK_DTYPE_F32;
  if ((wick_unop_flags(op) & WICK_OPF_INT_ONLY) && wick_dtype_is_float(ct))
    return wick_errorf(WICK_ERR_DTYPE, "%s: not defined for floating point tensors (%s)", name,
                       wick_dtype_name(ct));
  if (op == WICK_UN_NEG && ct == WICK_DTYPE_BOOL)
    return wick_errorf(WICK_ERR_DTYPE, "neg: negation of a bool tensor is not supported; use logical_not");
  WICK_TRY(wick_unary_check(op, name, a, p0, p1, &ct));
  const wick_backend *be;
  WICK_TRY(wick_backend_for(name, a->device, &be));
  wick_tensor *ac = NULL, *o = NULL;
  wick_status s;
  if ((s = wick_to(a, ct, a->device, false, &ac))) goto done;
  if ((s = wick_tensor_new(unop_returns_bool(op) ? WICK_DTYPE_BOOL : ct, a->device, a->ndim,
                           a->sizes, &o)))
    goto done;
  s = be->unary(op, o, ac, p0, p1);
done:
  wick_tensor_release(ac);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

wick_status wick_unary_(wick_unop op, wick_tensor *a, double p0, double p1) {
  wick_dtype ct = a->dtype;
  WICK_TRY(wick_unary_check(op, wick_unop_name(op), a, p0, p1, &ct));
  if (ct != a->dtype)
    return wick_errorf(WICK_ERR_DTYPE, "%s_: result type %s can't be cast to the desired output type %s",
                       wick_unop_name(op), wick_dtype_name(ct), wick_dtype_name(a->dtype));
  if ((unop_needs_float(op) && !wick_dtype_is_float(a->dtype)) || unop_returns_bool(op)) {
    if (!unop_returns_bool(op))
      return wick_errorf(WICK_ERR_DTYPE, "%s_: result type f32 can't be cast to the desired output type %s",
                         wick_unop_name(op), wick_dtype_name(a->dtype));
    wick_tensor *r;
    WICK_TRY(wick_unary(op, a, p0, p1, &r));
    wick_status s = wick_copy_(a, r);
    wick_tensor_release(r);
    return s;
  }
  const wick_backend *be;
  WICK_TRY(wick_backend_for(wick_unop_name(op), a->device, &be));
  if (op == WICK_UN_NEG && a->dtype == WICK_DTYPE_BOOL)
    return wick_errorf(WICK_ERR_DTYPE, "neg: negation of a bool tensor is not supported; use logical_not");
  WICK_TRY(be->unary(op, a, a, p0, p1));
  wick_tensor_bump_version(a);
  return WICK_OK;
}

wick_status wick_unary_backward(wick_unop op, const wick_tensor *g, const wick_tensor *a,
                                const wick_tensor *y, double p0, double p1, wick_tensor **out) {
  const wick_backend *be;
  WICK_TRY(wick_backend_for(wick_unop_name(op), a->device, &be));
  WICK_NEED_SLOT(be, unary_backward, wick_unop_name(op));
  wick_tensor *gc = NULL, *o = NULL;
  wick_status s;
  if ((s = operand(wick_unop_name(op), g, a->dtype, a->device, &gc))) goto done;
  if (!wick_shape_eq(gc, a)) {
    char b1[128], b2[128];
    s = wick_errorf(WICK_ERR_SHAPE, "%s backward: gradient shape %s does not match input shape %s",
                    wick_unop_name(op), wick_shape_str(gc->ndim, gc->sizes, b1, sizeof b1),
                    wick_shape_str(a->ndim, a->sizes, b2, sizeof b2));
    goto done;
  }
  if ((s = wick_tensor_new_like(a, &o))) goto done;
  s = be->unary_backward(op, o, gc, a, y, p0, p1);
done:
  wick_tensor_release(gc);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

wick_status wick_where(const wick_tensor *cond, const wick_tensor *a, const wick_tensor *b,
                       wick_tensor **out) {
  if (cond->dtype != WICK_DTYPE_BOOL && cond->dtype != WICK_DTYPE_U8)
    return wick_errorf(WICK_ERR_DTYPE, "where: condition must be a bool tensor (got %s)",
                       wick_dtype_name(cond->dtype));
  wick_dtype ct = wick_result_type(a, b);
  int64_t s1[WICK_MAX_DIMS], shape[WICK_MAX_DIMS];
  int n1, nd;
  WICK_TRY(wick_broadcast_shapes("where", a->ndim, a->sizes, b->ndim, b->sizes, &n1, s1));
  WICK_TRY(wick_broadcast_shapes("where", cond->ndim, cond->sizes, n1, s1, &nd, shape));
  wick_device dev = cond->device;
  const wick_backend *be;
  WICK_TRY(wick_backend_for("where", dev, &be));
  WICK_NEED_SLOT(be, where, "where");
  wick_tensor *cc = NULL, *ac = NULL, *bc = NULL, *ce = NULL, *ae = NULL, *bx = NULL, *o = NULL;
  wick_status s;
  if ((s = operand("where", cond, WICK_DTYPE_BOOL, dev, &cc)) || (s = operand("where", a, ct, dev, &ac)) ||
      (s = operand("where", b, ct, dev, &bc)))
    goto done;
  if ((s = wick_expand(cc, nd, shape, &ce)) || (s = wick_expand(ac, nd, shape, &ae)) ||
      (s = wick_expand(bc, nd, shape, &bx)))
    goto done;
  if ((s = wick_tensor_new(ct, dev, nd, shape, &o))) goto done;
  s = be->where(o, ce, ae, bx);
done:
  wick_tensor_release(cc); wick_tensor_release(ac); wick_tensor_release(bc);
  wick_tensor_release(ce); wick_tensor_release(ae); wick_tensor_release(bx);
  if (s) wick_tensor_release(o);
  else *out = o;
  return s;
}

wick_status wick_copy_(wick_tensor *dst, const wick_tensor *src) {
  wick_tensor *se;
  WICK_TRY(expand_to(src, dst->ndim, dst->sizes, &se));
  /* a copy between devices is done by the non-CPU side */
  int dt = dst->device.type != WICK_DEVICE_CPU ? dst->device.type : src->device.type;
  const wick_backend *be;
  wick_status s = wick_backend_for("copy_", (wick_device){(int8_t)dt, 0}, &be);
  if (!s) s = be->copy(dst, se);
  if (!s) wick_tensor_bump_version(dst);
  wick_tensor_release(se);
  return s;
}

wick_status wick_fill_(wick_tensor *t, double v, int64_t iv) {
  const wick_backend *be;
  WICK_TRY(wick_backend_for("fill_", t->device, &be));
  WICK_TRY(be->fill(t, v, iv));
  wick_tensor_bump_version(t);
  return WICK_OK;
}

wick_status wick_clone(const wick_tensor *t, wick_tensor **out) {
  wick_tensor *o;
  WICK_TRY(wick_tensor_new_like(t, &o));
  wick_status s = wick_copy_(o, t);
  if (s) { wick_tensor_release(o); return s; }
  *out = o;
  return WICK_OK;
}

wick_status wick_to(const wick_tensor *t, wick_dtype dtype, wick_device dev, bool copy,
                    wick_tensor **out) {
  if (!copy && t->dtype == dtype && wick_device_eq(t->device, dev)) {
    *out = wick_tensor_retain((wick_tensor *)t);
    return WICK_OK;
  }
  wick_tensor *o;
  WICK_TRY(wick_tensor_new(dtype, dev, t->ndim, t->sizes, &o));
  wick_status s = wick_copy_(o, t);
  if (s) { wick_tensor_release(o); return s; }
  *out = o;
  return WICK_OK;
}

wick_status wick_item(const wick_tensor *t, double *v, int64_t *iv) {
  int64_t n = wick_tensor_numel(t);
  if (n != 1)
    return wick_errorf(WICK_ERR_SHAPE,
                       "item: a tensor with %lld elements cannot be converted to a number", (long long)n);
  wick_tensor *c;
  WICK_TRY(wick_to(t, t->dtype, wick_cpu(), false, &c));
  const void *p = wick_tensor_data(c);
  *v = wick_load_f64(p, c->dtype);
  *iv = wick_load_i64(p, c->dtype);
  wick_tensor_release(c);
  return WICK_OK;
}

/* ---- matmul ---- */

static wick_status mm_checks(const char *op, const wick_tensor *a, const wick_tensor *b,
                             int64_t k1, int64_t k2) {
  char b1[128], b2[128];
  if (k1 != k2)
    return wick_errorf(WICK_ERR_SHAPE, "%s: shapes %s and %s cannot be multiplied (%lld != %lld)",
                       op, wick_shape_str(a->ndim, a->sizes, b1, sizeof b1),
                       wick_shape_str(b->ndim, b->sizes, b2, sizeof b2), (long long)k1, (long long)k2);
  if (a->dtype != b->dtype)
    return wick_errorf(WICK_ERR_DTYPE, "%s: expected both tensors to have the same dtype, but got %s and %s",
                       op, wick_dtype_name(a->dtype), wick_dtype_name(b->dtype));
  if (a->dtype == WICK_DTYPE_BOOL)
    return wick_errorf(WICK_ERR_DTYPE, "%s: not implemented for bool tensors", op);
  return wick_check_same_device(op, a->device, b->device);
}

/* a3 [B, M, K] @ b3 [B, K, N] -> new [B, M, N] */
static wick_status bmm_raw(const char *op, const wick_tensor *a3, const wick_tensor *b3, wick_tensor **out) {
  const wick_backend *be;
  WICK_TRY(wick_backend_for(op, a3->device, &be));
  WICK_NEED_SLOT(be, matmul, op);
  int64_t shape[3] = {a3->sizes[0], a3->sizes[1], b3->sizes[2]};
  wick_tensor *o;
  WICK_TRY(wick_tensor_new(a3->dtype, a3->device, 3, shape, &o));
  wick_status s = be->matmul(o, a3, b3);
  if (s) { wick_tensor_release(o); return s; }
  *out = o;
  return WICK_OK;
}

wick_status wick_matmul(const wick_tensor *a, const wick_tensor *b, wick_tensor **out) {
  if (a->ndim == 0 || b->ndim == 0)
    return wick_errorf(WICK_ERR_SHAPE, "matmul: both arguments need at least 1 dimension (got %d-D and %d-D)",
                       a->ndim, b->ndim);
  int64_t ka = a->sizes[a->ndim - 1], kb = b->ndim == 1 ? b->sizes[0] : b->sizes[b->ndim - 2];
  WICK_TRY(mm_checks("matmul", a, b, ka, kb));
  /* Work shapes: a as [..., M, K], b as [..., K, N]; 1-D operands get a unit dim that is
   * dropped from the result. */
  int64_t m = a->ndim == 1 ? 1 : a->sizes[a->ndim - 2], n = b->ndim == 1 ? 1 : b->sizes[b->ndim - 1];
  int na = a->ndim > 2 ? a->ndim - 2 : 0, nb = b->ndim > 2 ? b->ndim - 2 : 0;
  int64_t batch[WICK_MAX_DIMS];
  int nbatch;
  WICK_TRY(wick_broadcast_shapes("matmul", na, a->sizes, nb, b->sizes, &nbatch, batch));
  int64_t B = 1;
  for (int i = 0; i < nbatch; i++) B *= batch[i];
  wick_tensor *a3 = NULL, *b3 = NULL, *ax = NULL, *bx = NULL, *o = NULL;
  wick_status s;
  int64_t sh[WICK_MAX_DIMS];
  if (nb == 0 && b->ndim == 2 && na > 0) {
    /* [..., M, K] @ [K, N]: fold the batch into M, one GEMM */
    int64_t s3[3] = {1, B * m, ka};
    if ((s = wick_reshape(a, 3, s3, &a3))) goto done;
    if ((s = wick_unsqueeze(b, 0, &b3))) goto done;
  } else {
    memcpy(sh, batch, sizeof(int64_t) * (size_t)nbatch);
    sh[nbatch] = m; sh[nbatch + 1] = ka;
    if ((s = wick_expand(a, nbatch + 2, sh, &ax))) goto done;
    sh[nbatch] = kb; sh[nbatch + 1] = n;
    if (b->ndim == 1) {
      wick_tensor *col;
      if ((s = wick_unsqueeze(b, 1, &col))) goto done;
      s = wick_expand(col, nbatch + 2, sh, &bx);
      wick_tensor_release(col);
      if (s) goto done;
    } else if ((s = wick_expand(b, nbatch + 2, sh, &bx))) goto done;
    int64_t s3a[3] = {B, m, ka}, s3b[3] = {B, kb, n};
    if ((s = wick_reshape(ax, 3, s3a, &a3)) || (s = wick_reshape(bx, 3, s3b, &b3))) goto done;
  }
  wick_tensor *r;
  if ((s = bmm_raw("matmul", a3, b3, &r))) goto done;
  int nd = 0;
  memcpy(sh, batch, sizeof(int64_t) * (size_t)nbatch);
  nd = nbatch;
  if (a->ndim > 1) sh[nd++] = m;
  if (b->ndim > 1) sh[nd++] = n;
  s = wick_view(r, nd, sh, &o);
  wick_tensor_release(r);
done:
  wick_tensor_release(a3); wick_tensor_release(b3);
  wick_tensor_release(ax); wick_tensor_release(bx);
  if (!s) *out = o;
  return s;
}
