/* t[...] and t[...] = v with PyTorch's semantics. Ints, slices, newaxis and ellipsis give a
 * view; index tensors and bool masks (advanced indexing) are turned into element offsets into
 * that view, so a single index_select / index_copy_ does the data movement on any strides. */
#include <stdio.h>
#include <string.h>

#include "ops.h"

typedef struct {
  wick_tensor *cur;                 /* the view left by basic indexing */
  int nadv;
  int dims[WICK_MAX_DIMS];          /* dim of cur indexed by each advanced index */
  int odims[WICK_MAX_DIMS];         /* the same dim counted in t, for messages */
  wick_tensor *idx[WICK_MAX_DIMS];  /* owned index tensors (any integer dtype, any device) */
} plan;

static void plan_free(plan *p) {
  wick_tensor_release(p->cur);
  for (int i = 0; i < p->nadv; i++) wick_tensor_release(p->idx[i]);
}

static wick_status add_adv(plan *p, int d, int od, wick_tensor *idx) {
  p->dims[p->nadv] = d;
  p->odims[p->nadv] = od;
  p->idx[p->nadv++] = idx;
  return WICK_OK;
}

/* A bool mask over dims [d, d+k) of cur becomes k index tensors (columns of its nonzero). */
static wick_status add_mask(const char *op, plan *p, int d, int od, const wick_tensor *m) {
  for (int j = 0; j < m->ndim; j++)
    if (m->sizes[j] != p->cur->sizes[d + j]) {
      char b1[128], b2[128];
      return wick_errorf(WICK_ERR_INDEX,
                         "%s: the shape of the mask %s at index %d does not match the shape of the "
                         "indexed tensor %s at index %d", op, wick_shape_str(m->ndim, m->sizes, b1, sizeof b1),
                         j, wick_shape_str(p->cur->ndim, p->cur->sizes, b2, sizeof b2), d + j);
    }
  wick_tensor *nz;
  WICK_TRY(wick_nonzero(m, &nz));
  wick_status s = WICK_OK;
  for (int j = 0; j < m->ndim && !s; j++) {
    wick_tensor *col;
    if (!(s = wick_select(nz, 1, j, &col))) add_adv(p, d + j, od + j, col);
  }
  wick_tensor_release(nz);
  return s;
}

static int consumes(const wick_index_item *it) {
  if (it->kind == WICK_INDEX_INT || it->kind == WICK_INDEX_SLICE) return 1;
  if (it->kind != WICK_INDEX_TENSOR) return 0;
  return it->tensor->dtype == WICK_DTYPE_BOOL ? it->tensor->ndim : 1;
}

/* Makes *next (just set by a view function that returned s) the current view. */
static wick_status replace(plan *p, wick_status s, wick_tensor **next) {
  if (s) return s;
  wick_tensor_release(p->cur);
  p->cur = *next;
  return WICK_OK;
}

static wick_status plan_build(const char *op, const wick_tensor *t, int n, const wick_index_item *items,
                              plan *p) {
  memset(p, 0, sizeof *p);
  int used = 0, ellipses = 0;
  for (int i = 0; i < n; i++) {
    const wick_index_item *it = &items[i];
    if (it->kind == WICK_INDEX_TENSOR) {
      wick_dtype dt = it->tensor->dtype;
      if (dt != WICK_DTYPE_I64 && dt != WICK_DTYPE_I32 && dt != WICK_DTYPE_BOOL)
        return wick_errorf(WICK_ERR_DTYPE, "%s: tensors used as indices must be i64, i32 or bool tensors (got %s)",
                           op, wick_dtype_name(dt));
      if (dt == WICK_DTYPE_BOOL && it->tensor->ndim == 0)
        return wick_errorf(WICK_ERR_INDEX, "%s: a 0-dim bool tensor cannot be used as an index", op);
    }
    if (it->kind == WICK_INDEX_SLICE && it->step <= 0)
      return wick_errorf(WICK_ERR_ARG, "%s: step must be greater than zero (got %lld)", op, (long long)it->step);
    used += consumes(it);
    ellipses += it->kind == WICK_INDEX_ELLIPSIS;
  }
  if (ellipses > 1) return wick_errorf(WICK_ERR_INDEX, "%s: an index can only have a single ellipsis ('...')", op);
  if (used > t->ndim)
    return wick_errorf(WICK_ERR_INDEX, "%s: too many indices for tensor of dimension %d", op, t->ndim);
  p->cur = wick_tensor_retain((wick_tensor *)t);
  int d = 0, od = 0;
  for (int i = 0; i < n; i++) {
    const wick_index_item *it = &items[i];
    wick_tensor *next = NULL;
    wick_status s = WICK_OK;
    switch (it->kind) {
      case WICK_INDEX_INT: {
        int64_t size = p->cur->sizes[d];
        if (it->start < -size || it->start >= size)
          return wick_errorf(WICK_ERR_INDEX, "%s: index %lld is out of bounds for dimension %d with size %lld",
                             op, (long long)it->start, od, (long long)size);
        s = replace(p, wick_select(p->cur, d, it->start, &next), &next);
        od++;
        break;
      }
      case WICK_INDEX_SLICE:
        s = replace(p, wick_slice(p->cur, d, it->start, it->stop, it->step, &next), &next);
        d++, od++;
        break;
      case WICK_INDEX_ELLIPSIS:
        d += t->ndim - used;
        od += t->ndim - used;
        break;
      case WICK_INDEX_NEWAXIS:
        s = replace(p, wick_unsqueeze(p->cur, d, &next), &next);
        d++;
        break;
      case WICK_INDEX_TENSOR:
        if (it->tensor->dtype == WICK_DTYPE_BOOL) {
          s = add_mask(op, p, d, od, it->tensor);
          d += it->tensor->ndim, od += it->tensor->ndim;
        } else {
          add_adv(p, d, od, wick_tensor_retain((wick_tensor *)it->tensor));
          d++, od++;
        }
        break;
    }
    if (s) return s;
  }
  return WICK_OK;
}

/* The advanced part: B (the broadcast index shape), host offsets O[B] into cur, and V: cur
 * with the indexed dims replaced by one pseudo-dim of stride 1 at position *pos, so that
 * V.index_select(pos, O) reads exactly the indexed elements. */
typedef struct {
  int nb, pos;
  int64_t bshape[WICK_MAX_DIMS];
  wick_tensor *offsets; /* i64 [numel(B)] on cur's device */
  wick_tensor *v;
} adv_geom;

static void adv_free(adv_geom *g) {
  wick_tensor_release(g->offsets);
  wick_tensor_release(g->v);
}

static wick_status adv_build(const char *op, const plan *p, adv_geom *g) {
  memset(g, 0, sizeof *g);
  const wick_tensor *cur = p->cur;
  g->nb = p->idx[0]->ndim;
  memcpy(g->bshape, p->idx[0]->sizes, sizeof g->bshape);
  for (int j = 1; j < p->nadv; j++) {
    int64_t tmp[WICK_MAX_DIMS];
    int nt;
    if (wick_broadcast_shapes(op, g->nb, g->bshape, p->idx[j]->ndim, p->idx[j]->sizes, &nt, tmp)) {
      char list[512] = "", b[128];
      for (int k = 0; k < p->nadv; k++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "",
                 wick_shape_str(p->idx[k]->ndim, p->idx[k]->sizes, b, sizeof b));
      }
      return wick_errorf(WICK_ERR_INDEX, "%s: shape mismatch: indexing tensors could not be broadcast "
                         "together with shapes %s", op, list);
    }
    g->nb = nt;
    memcpy(g->bshape, tmp, sizeof tmp);
  }
  int64_t total = 1, maxo = 0;
  for (int k = 0; k < g->nb; k++) total *= g->bshape[k];
  wick_tensor *o;
  WICK_TRY(wick_tensor_zeros(WICK_DTYPE_I64, wick_cpu(), 1, &total, &o));
  int64_t *off = wick_tensor_data(o);
  wick_status s = WICK_OK;
  for (int j = 0; j < p->nadv && !s; j++) {
    wick_tensor *e = NULL, *h = NULL, *c = NULL;
    int64_t size = cur->sizes[p->dims[j]], stride = cur->strides[p->dims[j]];
    if (!(s = wick_expand(p->idx[j], g->nb, g->bshape, &e)) &&
        !(s = wick_to(e, WICK_DTYPE_I64, wick_cpu(), false, &h)) && !(s = wick_contiguous(h, &c))) {
      const int64_t *x = wick_tensor_data(c);
      for (int64_t i = 0; i < total; i++) {
        int64_t v = x[i];
        if (v < -size || v >= size) {
          s = wick_errorf(WICK_ERR_INDEX, "%s: index %lld is out of bounds for dimension %d with size %lld",
                          op, (long long)v, p->odims[j], (long long)size);
          break;
        }
        off[i] += (v < 0 ? v + size : v) * stride;
        if (j == p->nadv - 1 && off[i] > maxo) maxo = off[i];
      }
    }
    wick_tensor_release(e);
    wick_tensor_release(h);
    wick_tensor_release(c);
  }
  if (s) { wick_tensor_release(o); return s; }
  if ((s = wick_to(o, WICK_DTYPE_I64, cur->device, false, &g->offsets))) { wick_tensor_release(o); return s; }
  wick_tensor_release(o);
  bool adjacent = true;
  for (int j = 1; j < p->nadv; j++) adjacent = adjacent && p->dims[j] == p->dims[j - 1] + 1;
  g->pos = adjacent ? p->dims[0] : 0;
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  int nv = 0;
  for (int k = 0; k < cur->ndim; k++) {
    if (k == g->pos && adjacent) { sizes[nv] = maxo + 1; strides[nv++] = 1; }
    bool indexed = false;
    for (int j = 0; j < p->nadv; j++) indexed = indexed || p->dims[j] == k;
    if (!indexed) { sizes[nv] = cur->sizes[k]; strides[nv++] = cur->strides[k]; }
  }
  if (!adjacent) {
    memmove(sizes + 1, sizes, sizeof(int64_t) * (size_t)nv);
    memmove(strides + 1, strides, sizeof(int64_t) * (size_t)nv);
    sizes[0] = maxo + 1;
    strides[0] = 1;
    nv++;
  }
  if (nv - 1 + g->nb > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_SHAPE, "%s: the result would have %d dimensions (at most %d supported)", op,
                       nv - 1 + g->nb, WICK_MAX_DIMS);
  return wick_tensor_as_strided(cur, nv, sizes, strides, cur->offset, &g->v);
}

/* The indexing result's shape: V's with the pseudo-dim replaced by B. */
static int result_shape(const adv_geom *g, int64_t *shape) {
  int n = 0;
  for (int k = 0; k < g->v->ndim; k++) {
    if (k != g->pos) { shape[n++] = g->v->sizes[k]; continue; }
    for (int b = 0; b < g->nb; b++) shape[n++] = g->bshape[b];
  }
  return n;
}

wick_status wick_index(const wick_tensor *t, int n, const wick_index_item *items, wick_tensor **out) {
  const char *op = "index";
  plan p;
  wick_status s = plan_build(op, t, n, items, &p);
  if (!s && p.nadv == 0) {
    /* always a new view object, even for t[...] */
    wick_tensor *c = p.cur;
    s = wick_tensor_as_strided(c, c->ndim, c->sizes, c->strides, c->offset, out);
  } else if (!s) {
    adv_geom g;
    wick_tensor *r = NULL;
    int64_t shape[WICK_MAX_DIMS];
    if (!(s = adv_build(op, &p, &g)) && !(s = wick_index_select(g.v, g.pos, g.offsets, &r)))
      s = wick_view(r, result_shape(&g, shape), shape, out);
    wick_tensor_release(r);
    adv_free(&g);
  }
  plan_free(&p);
  return s;
}

static wick_status check_value_shape(const char *op, const wick_tensor *v, int nd, const int64_t *shape) {
  bool ok = v->ndim <= nd;
  for (int k = 0; ok && k < v->ndim; k++) {
    int64_t a = v->sizes[v->ndim - 1 - k], b = shape[nd - 1 - k];
    ok = a == b || a == 1;
  }
  if (ok) return WICK_OK;
  char b1[128], b2[128];
  return wick_errorf(WICK_ERR_SHAPE, "%s: shape mismatch: value tensor of shape %s cannot be broadcast to "
                     "indexing result of shape %s", op, wick_shape_str(v->ndim, v->sizes, b1, sizeof b1),
                     wick_shape_str(nd, shape, b2, sizeof b2));
}

wick_status wick_index_put_(wick_tensor *t, int n, const wick_index_item *items, const wick_tensor *value) {
  const char *op = "index_put_";
  for (int k = 0; k < t->ndim; k++)
    if (t->strides[k] == 0 && t->sizes[k] > 1)
      return wick_errorf(WICK_ERR_ARG,
                         "%s: unsupported operation: more than one element of the written-to tensor "
                         "refers to a single memory location; clone() the tensor first", op);
  plan p;
  wick_status s = plan_build(op, t, n, items, &p);
  if (!s && p.nadv == 0) {
    if (!(s = check_value_shape(op, value, p.cur->ndim, p.cur->sizes))) s = wick_copy_(p.cur, value);
  } else if (!s && !value->wrapped_number && value->dtype != t->dtype &&
             !(value->ndim == 0 && n == 1 && items[0].kind == WICK_INDEX_TENSOR &&
               items[0].tensor->dtype == WICK_DTYPE_BOOL)) {
    /* PyTorch converts only numbers, and a 0-d value written through one bool mask */
    s = wick_errorf(WICK_ERR_DTYPE, "%s: index put requires the source and destination dtypes match, "
                    "got %s for the destination and %s for the source", op, wick_dtype_name(t->dtype),
                    wick_dtype_name(value->dtype));
  } else if (!s) {
    adv_geom g;
    wick_tensor *vc = NULL, *ve = NULL, *vr = NULL;
    int64_t shape[WICK_MAX_DIMS], vshape[WICK_MAX_DIMS];
    if (!(s = adv_build(op, &p, &g))) {
      int nd = result_shape(&g, shape);
      memcpy(vshape, g.v->sizes, sizeof vshape);
      vshape[g.pos] = wick_tensor_numel(g.offsets);
      if (!(s = check_value_shape(op, value, nd, shape)) &&
          !(s = wick_to(value, t->dtype, t->device, false, &vc)) && !(s = wick_expand(vc, nd, shape, &ve)) &&
          !(s = wick_reshape(ve, g.v->ndim, vshape, &vr)))
        s = wick_index_copy_(g.v, g.pos, g.offsets, vr);
    }
    wick_tensor_release(vc);
    wick_tensor_release(ve);
    wick_tensor_release(vr);
    adv_free(&g);
  }
  plan_free(&p);
  return s;
}
