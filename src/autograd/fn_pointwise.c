/* Differentiable elementwise ops: the core op plus a graph node; backward formulas. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "autograd.h"

/* Ops without a node name in core/oplist.h (comparisons, floor_divide) have no gradient. */
static bool bin_differentiable(wick_binop op) { return wick_binop_node(op) != NULL; }

static wick_status scalar_like(const wick_tensor *t, double v, wick_tensor **out) {
  return wick_tensor_scalar(t->dtype, v, (int64_t)v, out);
}

static wick_status binary_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_binop op = (wick_binop)n->ints[0];
  wick_tensor *g = gout[0], *a = NULL, *b = NULL, *t1 = NULL, *t2 = NULL, *t3 = NULL;
  bool need_a = n->next[0].node != NULL, need_b = n->next[1].node != NULL;
  wick_status s = WICK_OK;
  if (n->nsaved >= 2) {
    WICK_TRY(wick_node_saved(n, 0, &a));
    WICK_TRY(wick_node_saved(n, 1, &b));
  }
  switch (op) {
    case WICK_BIN_ADD:
      if (need_a) gin[0] = wick_tensor_retain(g);
      if (need_b) gin[1] = wick_tensor_retain(g);
      break;
    case WICK_BIN_SUB:
      if (need_a) gin[0] = wick_tensor_retain(g);
      if (need_b) s = wick_unary(WICK_UN_NEG, g, 0, 0, &gin[1]);
      break;
    case WICK_BIN_MUL:
      if (need_a && (s = wick_binary(WICK_BIN_MUL, g, b, &gin[0]))) break;
      if (need_b) s = wick_binary(WICK_BIN_MUL, g, a, &gin[1]);
      break;
    case WICK_BIN_DIV:
      if ((s = wick_binary(WICK_BIN_DIV, g, b, &t1))) break;       /* g / b */
      if (need_b) {
        if ((s = wick_binary(WICK_BIN_MUL, t1, a, &t2))) break;     /* g a / b */
        if ((s = wick_binary(WICK_BIN_DIV, t2, b, &t3))) break;     /* g a / b^2 */
        if ((s = wick_unary(WICK_UN_NEG, t3, 0, 0, &gin[1]))) break;
      }
      if (need_a) gin[0] = wick_tensor_retain(t1);
      break;
    case WICK_BIN_POW: {
      wick_tensor *out;
      if ((s = wick_node_saved(n, 2, &out))) break;
      if (need_a) { /* g * b * a^(b-1) */
        wick_tensor *one, *bm1;
        if ((s = scalar_like(b, 1.0, &one))) break;
        one->wrapped_number = true;
        s = wick_binary(WICK_BIN_SUB, b, one, &bm1);
        wick_tensor_release(one);
        if (s) break;
        s = wick_binary(WICK_BIN_POW, a, bm1, &t1);
        if (!s) s = wick_binary(WICK_BIN_MUL, t1, b, &t2);
        wick_tensor_release(bm1);
        if (s || (s = wick_binary(WICK_BIN_MUL, g, t2, &gin[0]))) break;
        wick_tensor_release(t1); wick_tensor_release(t2); t1 = t2 = NULL;
      }
      if (need_b) { /* g * out * log(a), 0 where a == 0 and b >= 0 */
        if ((s = wick_unary(WICK_UN_LOG, a, 0, 0, &t1))) break;
        if ((s = wick_binary(WICK_BIN_MUL, out, t1, &t2))) break;
        wick_tensor *zero, *mask, *prod;
        if ((s = scalar_like(a, 0.0, &zero))) break;
        zero->wrapped_number = true;
        s = wick_binary(WICK_BIN_EQ, a, zero, &mask);
        if (!s) {
          s = wick_where(mask, zero, t2, &t3);
          wick_tensor_release(mask);
        }
        wick_tensor_release(zero);
        if (s) break;
        s = wick_binary(WICK_BIN_MUL, g, t3, &prod);
        if (!s) gin[1] = prod;
      }
      break;
    }
    case WICK_BIN_MAXIMUM:
    case WICK_BIN_MINIMUM: { /* the larger (smaller) input takes the gradient; ties split it */
      wick_tensor *gt, *eq, *half;
      if ((s = wick_binary(op == WICK_BIN_MAXIMUM ? WICK_BIN_GT : WICK_BIN_LT, a, b, &gt))) break;
      if ((s = wick_binary(WICK_BIN_EQ, a, b, &eq))) { wick_tensor_release(gt); break; }
      if ((s = scalar_like(g, 0.5, &half))) { wick_tensor_release(gt); wick_tensor_release(eq); break; }
      half->wrapped_number = true;
      /* wa = gt + 0.5 eq */
      s = wick_binary(WICK_BIN_MUL, eq, half, &t1);
      if (!s) s = wick_binary(WICK_BIN_ADD, t1, gt, &t2);
      wick_tensor_release(gt); wick_tensor_release(eq); wick_tensor_release(half);
      if (s) break;
      if (need_a && (s = wick_binary(WICK_BIN_MUL, g, t2, &gin[0]))) break;
      if (need_b) {
        if ((s = wick_binary(WICK_BIN_MUL, g, t2, &t3))) break;
        s = wick_binary(WICK_BIN_SUB, g, t3, &gin[1]);
      }
      break;
    }
    case WICK_BIN_ATAN2: { /* d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2) */
      wick_tensor *aa, *bb, *den;
      if ((s = wick_binary(WICK_BIN_MUL, a, a, &aa))) break;
      s = wick_binary(WICK_BIN_MUL, b, b, &bb);
      if (!s) s = wick_binary(WICK_BIN_ADD, aa, bb, &den);
      wick_tensor_release(aa);
      if (!s) wick_tensor_release(bb);
      if (s) break;
      s = wick_binary(WICK_BIN_DIV, g, den, &t1);
      wick_tensor_release(den);
      if (s) break;
      if (need_a && (s = wick_binary(WICK_BIN_MUL, t1, b, &gin[0]))) break;
      if (need_b) {
        if ((s = wick_binary(WICK_BIN_MUL, t1, a, &t2))) break;
        s = wick_unary(WICK_UN_NEG, t2, 0, 0, &gin[1]);
      }
      break;
    }
    case WICK_BIN_FMOD:
    case WICK_BIN_REMAINDER: { /* d/da = 1, d/db = -trunc(a/b) (fmod) or -floor(a/b) */
      if (need_a) gin[0] = wick_tensor_retain(g);
      if (need_b) {
        if ((s = wick_binary(WICK_BIN_DIV, a, b, &t1))) break;
        if ((s = wick_unary(op == WICK_BIN_FMOD ? WICK_UN_TRUNC : WICK_UN_FLOOR, t1, 0, 0, &t2))) break;
        if ((s = wick_binary(WICK_BIN_MUL, g, t2, &t3))) break;
        s = wick_unary(WICK_UN_NEG, t3, 0, 0, &gin[1]);
      }
      break;
    }
    default:
      s = wick_errorf(WICK_ERR_UNSUPPORTED, "%s: not differentiable", n->name);
  }
  wick_tensor_release(t1);
  wick_tensor_release(t2);
  wick_tensor_release(t3);
  return s;
}

static wick_status record_binary(wick_binop op, const wick_tensor *a, const wick_tensor *b, wick_tensor *out) {
  const wick_tensor *ins[2] = {a, b};
  wick_node *n;
  WICK_TRY(wick_node_new(wick_binop_node(op), binary_backward, 2, ins, 1, &n));
  n->ints[0] = op;
  wick_status s = WICK_OK;
  if (op != WICK_BIN_ADD && op != WICK_BIN_SUB) {
    if (!(s = wick_node_save(n, a))) s = wick_node_save(n, b);
    if (!s && op == WICK_BIN_POW) s = wick_node_save(n, out);
  }
  if (!s) wick_set_history(out, n, 0);
  wick_node_release(n);
  return s;
}

wick_status wick_ag_binary(wick_binop op, const wick_tensor *a, const wick_tensor *b, wick_tensor **out) {
  WICK_TRY(wick_binary(op, a, b, out));
  const wick_tensor *ins[2] = {a, b};
  if (!wick_ag_needed(2, ins) || !wick_dtype_is_float((*out)->dtype)) return WICK_OK;
  if (!bin_differentiable(op)) return WICK_OK; /* comparisons, floor_divide: no gradient */
  wick_status s = record_binary(op, a, b, *out);
  if (s) { wick_tensor_release(*out); *out = NULL; }
  return s;
}

/* ---- unary ---- */

static wick_status unary_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *a, *y;
  WICK_TRY(wick_node_saved(n, 0, &a));
  WICK_TRY(wick_node_saved(n, 1, &y));
  return wick_unary_backward((wick_unop)n->ints[0], gout[0], a, y, n->scalars[0], n->scalars[1], &gin[0]);
}

wick_status wick_ag_unary(wick_unop op, const wick_tensor *a, double p0, double p1, wick_tensor **out) {
  WICK_TRY(wick_unary(op, a, p0, p1, out));
  if (!wick_ag_needed(1, &a) || !wick_dtype_is_float((*out)->dtype) || !wick_unop_node(op))
    return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new(wick_unop_node(op), unary_backward, 1, &a, 1, &n);
  if (!s) {
    n->ints[0] = op;
    n->scalars[0] = p0;
    n->scalars[1] = p1;
    if (!(s = wick_node_save(n, a))) s = wick_node_save(n, *out);
    if (!s) wick_set_history(*out, n, 0);
    wick_node_release(n);
  }
  if (s) { wick_tensor_release(*out); *out = NULL; }
  return s;
}

/* ---- where, casts, clone ---- */

static wick_status where_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *c, *zero;
  WICK_TRY(wick_node_saved(n, 0, &c));
  WICK_TRY(wick_tensor_scalar(gout[0]->dtype, 0, 0, &zero));
  zero->wrapped_number = true;
  wick_status s = WICK_OK;
  if (n->next[1].node) s = wick_where(c, gout[0], zero, &gin[1]);
  if (!s && n->next[2].node) s = wick_where(c, zero, gout[0], &gin[2]);
  wick_tensor_release(zero);
  return s;
}

wick_status wick_ag_where(const wick_tensor *c, const wick_tensor *a, const wick_tensor *b, wick_tensor **out) {
  WICK_TRY(wick_where(c, a, b, out));
  const wick_tensor *ins[3] = {c, a, b};
  if (!wick_ag_needed(3, ins) || !wick_dtype_is_float((*out)->dtype)) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new("WhereBackward0", where_backward, 3, ins, 1, &n);
  if (!s) {
    if (!(s = wick_node_save(n, c))) wick_set_history(*out, n, 0);
    wick_node_release(n);
  }
  if (s) { wick_tensor_release(*out); *out = NULL; }
  return s;
}

/* The engine casts and shapes gradients to each input, so these pass the gradient through. */
static wick_status identity_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  (void)n;
  gin[0] = wick_tensor_retain(gout[0]);
  return WICK_OK;
}

static wick_status record_identity(const char *name, const wick_tensor *in, wick_tensor *out) {
  if (!wick_ag_needed(1, &in) || !wick_dtype_is_float(out->dtype)) return WICK_OK;
  wick_node *n;
  WICK_TRY(wick_node_new(name, identity_backward, 1, &in, 1, &n));
  wick_set_history(out, n, 0);
  wick_node_release(n);
  return WICK_OK;
}

wick_status wick_ag_to(const wick_tensor *t, wick_dtype dtype, wick_device dev, bool copy, wick_tensor **out) {
  WICK_TRY(wick_to(t, dtype, dev, copy, out));
  if (*out == t) return WICK_OK;
  wick_status s = record_identity("ToCopyBackward0", t, *out);
  if (s) { wick_tensor_release(*out); *out = NULL; }
  return s;
}

wick_status wick_ag_clone(const wick_tensor *t, wick_tensor **out) {
  WICK_TRY(wick_clone(t, out));
  wick_status s = record_identity("CloneBackward0", t, *out);
  if (s) { wick_tensor_release(*out); *out = NULL; }
  return s;
}

/* ---- in place ---- */

wick_status wick_ag_check_inplace(const char *op, const wick_tensor *t) {
  if (!wick_grad_enabled() || !wick_requires_grad(t)) return WICK_OK;
  if (wick_is_leaf(t))
    return wick_errorf(WICK_ERR_ARG,
                       "%s: a leaf tensor that requires grad is being used in an in-place operation "
                       "(wrap it in wick.no_grad or use an out-of-place op)", op);
  return WICK_OK;
}

/* An in-place op that autograd must see: compute on a clone of the old value (which the new
 * node may save: the tensor itself is about to change), write the result back, and make the
 * new node the tensor's history (its old history is the clone's input). */
static wick_status inplace_via_copy(wick_tensor *a, wick_tensor *r) {
  wick_status s = wick_copy_(a, r);
  if (!s && r->autograd && r->autograd->grad_fn) wick_set_history(a, r->autograd->grad_fn, 0);
  wick_tensor_release(r);
  return s;
}

wick_status wick_ag_binary_(wick_binop op, wick_tensor *a, const wick_tensor *b) {
  char name[48];
  snprintf(name, sizeof name, "%s_", wick_binop_name(op));
  WICK_TRY(wick_ag_check_inplace(name, a));
  const wick_tensor *ins[2] = {a, b};
  if (!wick_ag_needed(2, ins)) return wick_binary_(op, a, b);
  wick_tensor *old, *r;
  WICK_TRY(wick_ag_clone(a, &old));
  wick_status s = wick_ag_binary(op, old, b, &r);
  wick_tensor_release(old);
  return s ? s : inplace_via_copy(a, r);
}

wick_status wick_ag_unary_(wick_unop op, wick_tensor *a, double p0, double p1) {
  char name[48];
  snprintf(name, sizeof name, "%s_", wick_unop_name(op));
  WICK_TRY(wick_ag_check_inplace(name, a));
  if (!wick_ag_needed(1, (const wick_tensor *const *)&a)) return wick_unary_(op, a, p0, p1);
  wick_tensor *old, *r;
  WICK_TRY(wick_ag_clone(a, &old));
  wick_status s = wick_ag_unary(op, old, p0, p1, &r);
  wick_tensor_release(old);
  return s ? s : inplace_via_copy(a, r);
}
