/* Differentiable matmul (all of torch.matmul's shapes): dA = dC Bᵀ, dB = Aᵀ dC, with 1-D
 * operands given a unit dim; the engine sums broadcast batch dims back. */
#include "autograd.h"
#include "core/exec_mode.h"

/* t with a unit dim inserted at `dim` when it is 1-D (else t itself), as a new reference. */
static wick_status as_matrix(const wick_tensor *t, int64_t dim, bool one_d, wick_tensor **out) {
  if (one_d) return wick_unsqueeze(t, dim, out);
  *out = wick_tensor_retain((wick_tensor *)t);
  return WICK_OK;
}

static wick_status matmul_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *a, *b;
  WICK_TRY(wick_node_saved(n, 0, &a));
  WICK_TRY(wick_node_saved(n, 1, &b));
  bool a1 = a->ndim == 1, b1 = b->ndim == 1;
  wick_tensor *a2 = NULL, *b2 = NULL, *g2 = NULL, *g1 = NULL, *t = NULL, *r = NULL;
  wick_status s;
  if ((s = as_matrix(a, 0, a1, &a2)) || (s = as_matrix(b, 1, b1, &b2))) goto done;
  /* g has the result's shape: restore the unit dims the 1-D operands lost */
  if ((s = as_matrix(gout[0], a1 && b1 ? 0 : -1, b1, &g1))) goto done;
  if ((s = as_matrix(g1, -2, a1, &g2))) goto done;
  if (n->next[0].node) {
    if ((s = wick_transpose(b2, -1, -2, &t)) || (s = wick_matmul(g2, t, &r))) goto done;
    if (a1) {
      /* r is [..., 1, K]: drop the unit dim, the engine sums leading dims */
      wick_tensor *sq;
      if ((s = wick_squeeze(r, false, -2, &sq))) goto done;
      wick_tensor_release(r);
      r = sq;
    }
    gin[0] = r;
    r = NULL;
    wick_tensor_release(t);
    t = NULL;
  }
  if (n->next[1].node) {
    if ((s = wick_transpose(a2, -1, -2, &t)) || (s = wick_matmul(t, g2, &r))) goto done;
    if (b1) {
      wick_tensor *sq;
      if ((s = wick_squeeze(r, false, -1, &sq))) goto done;
      wick_tensor_release(r);
      r = sq;
    }
    gin[1] = r;
    r = NULL;
  }
done:
  wick_tensor_release(a2); wick_tensor_release(b2); wick_tensor_release(g1);
  wick_tensor_release(g2); wick_tensor_release(t); wick_tensor_release(r);
  return s;
}

/* Under wick.autocast, f32/f16/bf16 operands are cast (differentiably, so gradients come
 * back in the parameters' dtype) to the autocast dtype first, as PyTorch's autocast does. */
static wick_status autocast_matmul(const wick_tensor *a, const wick_tensor *b, wick_dtype dt,
                                   wick_tensor **out) {
  wick_tensor *ca = NULL, *cb = NULL;
  wick_status s = wick_ag_to(a, dt, a->device, false, &ca);
  if (!s) s = wick_ag_to(b, dt, b->device, false, &cb);
  if (!s) s = wick_ag_matmul(ca, cb, out);
  wick_tensor_release(ca);
  wick_tensor_release(cb);
  return s;
}

wick_status wick_ag_matmul(const wick_tensor *a, const wick_tensor *b, wick_tensor **out) {
  wick_dtype da = wick_autocast_dtype_for(a->dtype), db = wick_autocast_dtype_for(b->dtype);
  if (da == db && (da != a->dtype || db != b->dtype)) return autocast_matmul(a, b, da, out);
  WICK_TRY(wick_matmul(a, b, out));
  const wick_tensor *ins[2] = {a, b};
  if (!wick_ag_needed(2, ins)) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new("MmBackward0", matmul_backward, 2, ins, 1, &n);
  if (!s) {
    if (!(s = wick_node_save(n, a)) && !(s = wick_node_save(n, b))) wick_set_history(*out, n, 0);
    wick_node_release(n);
  }
  return wick_ag_done(s, out);
}
