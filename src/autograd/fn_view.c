/* Differentiable views: the core view op, plus a node that maps the gradient back onto the
 * base's shape. Params per kind:
 *   VIEW, RESHAPE, EXPAND: sizes    PERMUTE: dims    TRANSPOSE: d0, d1    UNSQUEEZE: dim
 *   SQUEEZE: all, dim    FLATTEN: start, end    NARROW: dim, start, length
 *   SLICE: dim, start, stop, step    SELECT: dim, index    DIAGONAL, ALIAS: none */
#include <string.h>

#include "autograd.h"

static const char *const view_names[] = {
  "ViewBackward0", "ReshapeAliasBackward0", "PermuteBackward0", "TransposeBackward0",
  "UnsqueezeBackward0", "SqueezeBackward0", "ExpandBackward0", "ViewBackward0",
  "NarrowBackward0", "SliceBackward0", "SelectBackward0", "DiagonalBackward0", "AliasBackward0",
};

static wick_status apply_view(wick_view_kind kind, const wick_tensor *t, int np, const int64_t *p,
                              wick_tensor **out) {
  switch (kind) {
    case WICK_VIEW_VIEW: return wick_view(t, np, p, out);
    case WICK_VIEW_RESHAPE: return wick_reshape(t, np, p, out);
    case WICK_VIEW_PERMUTE: return wick_permute(t, np, p, out);
    case WICK_VIEW_TRANSPOSE: return wick_transpose(t, p[0], p[1], out);
    case WICK_VIEW_UNSQUEEZE: return wick_unsqueeze(t, p[0], out);
    case WICK_VIEW_SQUEEZE: return wick_squeeze(t, p[0] != 0, p[1], out);
    case WICK_VIEW_EXPAND: return wick_expand(t, np, p, out);
    case WICK_VIEW_FLATTEN: return wick_flatten(t, p[0], p[1], out);
    case WICK_VIEW_NARROW: return wick_narrow(t, p[0], p[1], p[2], out);
    case WICK_VIEW_SLICE: return wick_slice(t, p[0], p[1], p[2], p[3], out);
    case WICK_VIEW_SELECT: return wick_select(t, p[0], p[1], out);
    case WICK_VIEW_DIAGONAL: return wick_diagonal(t, out);
    case WICK_VIEW_ALIAS: return wick_tensor_as_strided(t, t->ndim, t->sizes, t->strides, t->offset, out);
  }
  return wick_errorf(WICK_ERR_ARG, "unknown view kind %d", kind);
}

static wick_status view_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_view_kind kind = (wick_view_kind)n->ints[0];
  const int64_t *p = n->ints + 2;
  int np = (int)n->ints[1];
  const wick_input_meta *im = &n->in_meta[0];
  wick_tensor *g = gout[0];
  switch (kind) {
    case WICK_VIEW_EXPAND:
    case WICK_VIEW_ALIAS:
      gin[0] = wick_tensor_retain(g); /* the engine sums expanded dims */
      return WICK_OK;
    case WICK_VIEW_PERMUTE: {
      int64_t inv[WICK_MAX_DIMS];
      for (int i = 0; i < np; i++) inv[(p[i] + np) % np] = i;
      return wick_permute(g, np, inv, &gin[0]);
    }
    case WICK_VIEW_TRANSPOSE:
      return wick_transpose(g, p[0], p[1], &gin[0]);
    case WICK_VIEW_NARROW:
    case WICK_VIEW_SLICE:
    case WICK_VIEW_SELECT:
    case WICK_VIEW_DIAGONAL: { /* scatter g into zeros shaped like the base */
      wick_tensor *z, *v;
      WICK_TRY(wick_tensor_zeros(g->dtype, g->device, im->ndim, im->sizes, &z));
      wick_status s = apply_view(kind, z, np, p, &v);
      if (!s) {
        s = wick_copy_(v, g);
        wick_tensor_release(v);
      }
      if (s) wick_tensor_release(z);
      else gin[0] = z;
      return s;
    }
    default:
      return wick_reshape(g, im->ndim, im->sizes, &gin[0]);
  }
}

wick_status wick_ag_view(wick_view_kind kind, const wick_tensor *base, int np, const int64_t *p,
                         wick_tensor **out) {
  WICK_TRY(apply_view(kind, base, np, p, out));
  if (!wick_ag_needed(1, &base)) return WICK_OK;
  if (np > WICK_MAX_DIMS + 2) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new(view_names[kind], view_backward, 1, &base, 1, &n);
  if (!s) {
    n->ints[0] = kind;
    n->ints[1] = np;
    if (np) memcpy(n->ints + 2, p, sizeof(int64_t) * (size_t)np);
    wick_set_history(*out, n, 0);
    wick_node_release(n);
  } else {
    wick_tensor_release(*out);
    *out = NULL;
  }
  return s;
}

wick_status wick_sum_to(const wick_tensor *g, int ndim, const int64_t *sizes, wick_tensor **out) {
  int lead = g->ndim - ndim;
  if (lead < 0) {
    char b1[128], b2[128];
    return wick_errorf(WICK_ERR_SHAPE, "sum_to: cannot sum %s to %s",
                       wick_shape_str(g->ndim, g->sizes, b1, sizeof b1), wick_shape_str(ndim, sizes, b2, sizeof b2));
  }
  int64_t dims[WICK_MAX_DIMS];
  int nd = 0;
  for (int i = 0; i < g->ndim; i++)
    if (i < lead || (sizes[i - lead] == 1 && g->sizes[i] != 1)) dims[nd++] = i;
  if (nd == 0) return wick_reshape(g, ndim, sizes, out);
  wick_tensor *r;
  WICK_TRY(wick_reduce(WICK_RED_SUM, g, nd, dims, true, &r));
  wick_status s = wick_reshape(r, ndim, sizes, out);
  wick_tensor_release(r);
  return s;
}
