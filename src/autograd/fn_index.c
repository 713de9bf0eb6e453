/* Differentiable indexing and joining: index_select, gather, scatter, masked_fill, cat, stack
 * and t[...] (advanced indexing sends gradients back with index_add, so repeated indices
 * accumulate as in PyTorch). */
#include <stdlib.h>
#include <string.h>

#include "autograd.h"

#define FINISH(expr) return wick_ag_done((expr), out)

static wick_status zeros_for(const wick_node *n, int i, const wick_tensor *like, wick_tensor **out) {
  const wick_input_meta *im = &n->in_meta[i];
  return wick_tensor_zeros(like->dtype, like->device, im->ndim, im->sizes, out);
}

/* Records a one-output node over `inputs`, saving `saves` (NULL-terminated). */
static wick_status record(const char *name, wick_backward_fn fn, int nin, const wick_tensor *const *inputs,
                          int64_t i0, const wick_tensor *const *saves, wick_tensor *out) {
  if (!wick_ag_needed(nin, inputs) || !wick_dtype_is_float(out->dtype)) return WICK_OK;
  wick_node *n;
  WICK_TRY(wick_node_new(name, fn, nin, inputs, 1, &n));
  n->ints[0] = i0;
  wick_status s = WICK_OK;
  for (int i = 0; saves && saves[i] && !s; i++) s = wick_node_save(n, saves[i]);
  if (!s) wick_set_history(out, n, 0);
  wick_node_release(n);
  return s;
}

/* ---- index_select / gather: the gradient goes back to zeros of the input's shape, rows
 * added with index_add (index_select) or elements with scatter-add (gather) ---- */

static wick_status add_into_zeros(wick_node *n, const wick_tensor *g, bool rows, wick_tensor **gin) {
  wick_tensor *idx, *z;
  WICK_TRY(wick_node_saved(n, 0, &idx));
  WICK_TRY(zeros_for(n, 0, g, &z));
  wick_status s = rows ? wick_index_add_(z, n->ints[0], idx, g, 1.0) : wick_scatter_(z, n->ints[0], idx, g, 1);
  if (s) wick_tensor_release(z);
  else gin[0] = z;
  return s;
}

static wick_status index_select_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  return add_into_zeros(n, gout[0], true, gin);
}

static wick_status gather_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  return add_into_zeros(n, gout[0], false, gin);
}

wick_status wick_ag_index_select(const wick_tensor *a, int64_t dim, const wick_tensor *idx, wick_tensor **out) {
  WICK_TRY(wick_index_select(a, dim, idx, out));
  const wick_tensor *saves[] = {idx, NULL};
  FINISH(record("IndexSelectBackward0", index_select_backward, 1, &a, dim, saves, *out));
}

wick_status wick_ag_gather(const wick_tensor *a, int64_t dim, const wick_tensor *idx, wick_tensor **out) {
  WICK_TRY(wick_gather(a, dim, idx, out));
  const wick_tensor *saves[] = {idx, NULL};
  FINISH(record("GatherBackward0", gather_backward, 1, &a, dim, saves, *out));
}

/* ---- scatter ---- */

static wick_status scatter_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *idx, *g = gout[0];
  WICK_TRY(wick_node_saved(n, 0, &idx));
  int64_t dim = n->ints[0];
  bool add = n->ints[1] != 0;
  wick_status s = WICK_OK;
  if (n->next[0].node) {
    if (add) gin[0] = wick_tensor_retain(g);
    else { /* the overwritten places get no gradient */
      wick_tensor *zero;
      WICK_TRY(wick_tensor_scalar(g->dtype, 0, 0, &zero));
      zero->wrapped_number = true;
      s = wick_scatter(g, dim, idx, zero, 0, &gin[0]);
      wick_tensor_release(zero);
    }
  }
  if (!s && n->next[2].node) s = wick_gather(g, dim, idx, &gin[2]);
  return s;
}

wick_status wick_ag_scatter(const wick_tensor *a, int64_t dim, const wick_tensor *idx, const wick_tensor *src,
                            int reduce, wick_tensor **out) {
  WICK_TRY(wick_scatter(a, dim, idx, src, reduce, out));
  const wick_tensor *ins[3] = {a, idx, src->wrapped_number ? NULL : src};
  if (!wick_ag_needed(3, ins) || !wick_dtype_is_float((*out)->dtype)) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new(reduce ? "ScatterAddBackward0" : "ScatterBackward0", scatter_backward, 3, ins, 1, &n);
  if (!s) {
    n->ints[0] = dim;
    n->ints[1] = reduce;
    if (!(s = wick_node_save(n, idx))) wick_set_history(*out, n, 0);
    wick_node_release(n);
  }
  FINISH(s);
}

/* ---- masked_fill ---- */

static wick_status masked_fill_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *mask, *zero;
  WICK_TRY(wick_node_saved(n, 0, &mask));
  WICK_TRY(wick_tensor_scalar(gout[0]->dtype, 0, 0, &zero));
  zero->wrapped_number = true;
  wick_status s = wick_masked_fill(gout[0], mask, zero, &gin[0]);
  wick_tensor_release(zero);
  return s;
}

wick_status wick_ag_masked_fill(const wick_tensor *a, const wick_tensor *mask, const wick_tensor *value,
                                wick_tensor **out) {
  if (wick_grad_enabled() && wick_requires_grad(value))
    return wick_errorf(WICK_ERR_UNSUPPORTED, "masked_fill: a fill value that requires grad is not supported");
  WICK_TRY(wick_masked_fill(a, mask, value, out));
  const wick_tensor *saves[] = {mask, NULL};
  FINISH(record("MaskedFillBackward0", masked_fill_backward, 1, &a, 0, saves, *out));
}

/* ---- cat / stack: each input takes its slice of the gradient ---- */

static wick_status cat_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  int64_t dim = n->ints[0], off = 0;
  bool stack = n->ints[1] != 0;
  for (int i = 0; i < n->num_inputs; i++) {
    const wick_input_meta *im = &n->in_meta[i];
    if (stack) {
      if (n->next[i].node) WICK_TRY(wick_select(gout[0], dim, i, &gin[i]));
      continue;
    }
    /* PyTorch's legacy rule: 1-d empty inputs are skipped by cat */
    if (im->ndim == 1 && im->sizes[0] == 0) continue;
    int64_t len = im->sizes[(dim % im->ndim + im->ndim) % im->ndim];
    if (n->next[i].node) WICK_TRY(wick_narrow(gout[0], dim, off, len, &gin[i]));
    off += len;
  }
  return WICK_OK;
}

static wick_status record_join(bool stack, int n, const wick_tensor *const *ts, int64_t dim, wick_tensor *out) {
  if (!wick_ag_needed(n, ts) || !wick_dtype_is_float(out->dtype)) return WICK_OK;
  wick_node *node;
  WICK_TRY(wick_node_new(stack ? "StackBackward0" : "CatBackward0", cat_backward, n, ts, 1, &node));
  int nd = out->ndim;
  node->ints[0] = nd ? (dim % nd + nd) % nd : 0;
  node->ints[1] = stack;
  wick_set_history(out, node, 0);
  wick_node_release(node);
  return WICK_OK;
}

wick_status wick_ag_cat(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out) {
  WICK_TRY(wick_cat(n, ts, dim, out));
  FINISH(record_join(false, n, ts, dim, *out));
}

wick_status wick_ag_stack(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out) {
  WICK_TRY(wick_stack(n, ts, dim, out));
  FINISH(record_join(true, n, ts, dim, *out));
}

/* ---- t[...]: the same indexing applied to the flat positions of t tells where each
 * gradient element goes; index_add accumulates repeated positions ---- */

typedef struct {
  int n;
  wick_index_item items[];
} saved_items;

static wick_status subscript_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  if (n->released)
    return wick_errorf(WICK_ERR_ARG, "backward: trying to backward through the graph a second time; "
                       "specify retain_graph = true on the first backward");
  saved_items *si = n->extra;
  const wick_input_meta *im = &n->in_meta[0];
  /* tensor items point at the node's saved tensors: check their versions */
  for (int i = 0; i < n->nsaved; i++) {
    wick_tensor *t;
    WICK_TRY(wick_node_saved(n, i, &t));
  }
  int64_t numel = 1;
  for (int i = 0; i < im->ndim; i++) numel *= im->sizes[i];
  wick_tensor *pos = NULL, *posv = NULL, *where = NULL, *flat_w = NULL, *flat_g = NULL, *z = NULL, *zv = NULL;
  wick_status s;
  if ((s = wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 1, &numel, &pos))) goto done;
  int64_t *p = wick_tensor_data(pos);
  for (int64_t i = 0; i < numel; i++) p[i] = i;
  if ((s = wick_reshape(pos, im->ndim, im->sizes, &posv))) goto done;
  if ((s = wick_index(posv, si->n, si->items, &where))) goto done;
  int64_t m1 = -1;
  if ((s = wick_reshape(where, 1, &m1, &flat_w)) || (s = wick_reshape(gout[0], 1, &m1, &flat_g))) goto done;
  if ((s = wick_tensor_zeros(gout[0]->dtype, gout[0]->device, 1, &numel, &z))) goto done;
  if ((s = wick_index_add_(z, 0, flat_w, flat_g, 1.0))) goto done;
  if ((s = wick_reshape(z, im->ndim, im->sizes, &zv))) goto done;
  gin[0] = zv;
  zv = NULL;
done:
  wick_tensor_release(pos); wick_tensor_release(posv); wick_tensor_release(where);
  wick_tensor_release(flat_w); wick_tensor_release(flat_g); wick_tensor_release(z);
  wick_tensor_release(zv);
  return s;
}

wick_status wick_ag_index(const wick_tensor *t, int nitems, const wick_index_item *items, wick_tensor **out) {
  WICK_TRY(wick_index(t, nitems, items, out));
  if (!wick_ag_needed(1, &t) || !wick_dtype_is_float((*out)->dtype)) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new("IndexBackward0", subscript_backward, 1, &t, 1, &n);
  if (s) FINISH(s);
  saved_items *si = malloc(sizeof *si + sizeof(wick_index_item) * (size_t)(nitems ? nitems : 1));
  if (!si) { wick_node_release(n); FINISH(wick_errorf(WICK_ERR_OOM, "out of memory")); }
  si->n = nitems;
  memcpy(si->items, items, sizeof(wick_index_item) * (size_t)nitems);
  n->extra = si;
  n->free_extra = free;
  for (int i = 0; i < nitems && !s; i++) {
    if (items[i].kind != WICK_INDEX_TENSOR) continue;
    if ((s = wick_node_save(n, items[i].tensor))) break;
    si->items[i].tensor = n->saved[n->nsaved - 1];
  }
  if (!s) wick_set_history(*out, n, 0);
  wick_node_release(n);
  FINISH(s);
}
