/* DDP's reducer (PyTorch's reducer.cpp, simplified): gradients are copied, divided by the world
 * size, into flat per-bucket buffers from each parameter's post-accumulate hook; a full bucket
 * is all-reduced (sum) on the group's communication thread while backward goes on; a callback
 * at the end of backward waits for every bucket and copies the means back into .grad. */
#include "dist/reducer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  wick_tensor *flat;   /* [numel] of the bucket's dtype */
  int *params;         /* indices into the reducer's params */
  int nparams, pending;
  int64_t bytes;
  wick_pg_work *work;  /* the all-reduce in flight, or NULL */
} bucket;

typedef struct {
  struct wick_reducer *r;
  int index;
} slot; /* the ctx of one parameter's hook */

struct wick_reducer {
  int n;
  wick_tensor **params;
  slot *slots;
  int *bucket_of;
  int64_t *offset;     /* element offset of each parameter in its bucket */
  bool *ready, *unused, *used; /* used: a hook fired since the last reduction (no_sync too) */
  bucket *buckets;
  int nbuckets, next_launch;
  wick_pg *pg;
  int world_size;
  bool find_unused, expect_hooks, require_finalize, queued, marked_unused;
  wick_status err;     /* an error inside a hook, reported by the end-of-backward callback */
  char errmsg[256];
  wick_reducer_stats stats;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- bucket assignment ---- */

static wick_status assign_buckets(wick_reducer *r, int64_t first_cap, int64_t cap) {
  /* one open bucket per dtype: f32 and f64 */
  int open[2] = {-1, -1}, closed_count[2] = {0, 0};
  r->buckets = calloc((size_t)r->n, sizeof *r->buckets);
  if (!r->buckets) return wick_errorf(WICK_ERR_OOM, "DistributedDataParallel: out of memory");
  for (int i = 0; i < r->n; i++) {
    wick_tensor *p = r->params[i];
    int k = p->dtype == WICK_DTYPE_F64;
    if (open[k] < 0) {
      open[k] = r->nbuckets++;
      r->buckets[open[k]].params = calloc((size_t)r->n, sizeof(int));
      if (!r->buckets[open[k]].params) return wick_errorf(WICK_ERR_OOM, "DistributedDataParallel: out of memory");
    }
    bucket *b = &r->buckets[open[k]];
    r->bucket_of[i] = open[k];
    r->offset[i] = b->bytes / (int64_t)wick_dtype_size(p->dtype);
    b->params[b->nparams++] = i;
    b->bytes += wick_tensor_numel(p) * (int64_t)wick_dtype_size(p->dtype);
    /* ">=": the parameter that crosses the limit stays in (PyTorch) */
    if (b->bytes >= (closed_count[k] == 0 ? first_cap : cap)) {
      open[k] = -1;
      closed_count[k]++;
    }
  }
  for (int j = 0; j < r->nbuckets; j++) {
    bucket *b = &r->buckets[j];
    wick_dtype dt = r->params[b->params[0]]->dtype;
    int64_t numel = b->bytes / (int64_t)wick_dtype_size(dt);
    WICK_TRY(wick_tensor_zeros(dt, r->params[b->params[0]]->device, 1, &numel, &b->flat));
  }
  return WICK_OK;
}

/* ---- copies between .grad and the buckets ---- */

/* Parameter i's slot of its bucket as a view of the parameter's shape (*out: new reference). */
static wick_status slot_view(wick_reducer *r, int i, wick_tensor **out) {
  wick_tensor *p = r->params[i], *flat;
  WICK_TRY(wick_narrow(r->buckets[r->bucket_of[i]].flat, 0, r->offset[i], wick_tensor_numel(p), &flat));
  wick_status s = wick_view(flat, p->ndim, p->sizes, out);
  wick_tensor_release(flat);
  return s;
}

/* copy_in on a device other than the CPU: the same through tensor ops, queued on the device. */
static wick_status copy_in_device(wick_reducer *r, int i) {
  wick_tensor *g = wick_grad(r->params[i]), *slot, *k = NULL;
  WICK_TRY(slot_view(r, i, &slot));
  wick_status s;
  if (!g) {
    s = wick_fill_(slot, 0.0, 0);
  } else {
    s = wick_copy_(slot, g);
    if (!s && r->world_size > 1) s = wick_tensor_scalar(slot->dtype, 1.0 / r->world_size, 0, &k);
    if (!s && k) s = wick_binary_(WICK_BIN_MUL, slot, k);
  }
  wick_tensor_release(k);
  wick_tensor_release(slot);
  return s;
}

/* slot of parameter i = grad * (1 / world_size), or zeros when there is no grad. The scale is
 * taken in the parameter's dtype, as PyTorch's kernel does. */
static wick_status copy_in(wick_reducer *r, int i) {
  wick_tensor *p = r->params[i], *g = wick_grad(p);
  bucket *b = &r->buckets[r->bucket_of[i]];
  int64_t n = wick_tensor_numel(p);
  if (p->device.type != WICK_DEVICE_CPU) return copy_in_device(r, i);
  if (!g) {
    memset((char *)wick_tensor_data(b->flat) + r->offset[i] * (int64_t)wick_dtype_size(p->dtype), 0,
           (size_t)n * wick_dtype_size(p->dtype));
    return WICK_OK;
  }
  wick_tensor *c = NULL;
  if (!wick_tensor_is_contiguous(g) || g->dtype != p->dtype) {
    wick_tensor *t;
    WICK_TRY(wick_to(g, p->dtype, p->device, false, &t));
    wick_status s = wick_contiguous(t, &c);
    wick_tensor_release(t);
    WICK_TRY(s);
    g = c;
  }
  if (p->dtype == WICK_DTYPE_F32) {
    float k = (float)(1.0 / r->world_size), *dst = (float *)wick_tensor_data(b->flat) + r->offset[i];
    const float *src = wick_tensor_data(g);
    for (int64_t j = 0; j < n; j++) dst[j] = src[j] * k;
  } else {
    double k = 1.0 / r->world_size, *dst = (double *)wick_tensor_data(b->flat) + r->offset[i];
    const double *src = wick_tensor_data(g);
    for (int64_t j = 0; j < n; j++) dst[j] = src[j] * k;
  }
  wick_tensor_release(c);
  return WICK_OK;
}

/* .grad of parameter i = its reduced slot (in place when .grad is a plain contiguous tensor). */
static wick_status copy_out(wick_reducer *r, int i) {
  wick_tensor *p = r->params[i], *g = wick_grad(p);
  bucket *b = &r->buckets[r->bucket_of[i]];
  if (p->device.type != WICK_DEVICE_CPU) {
    wick_tensor *slot, *t;
    WICK_TRY(slot_view(r, i, &slot));
    wick_status s;
    if (g && g->dtype == p->dtype) {
      s = wick_copy_(g, slot);
      if (!s) wick_tensor_bump_version(g);
    } else {
      s = wick_clone(slot, &t); /* its own memory, not the bucket's */
      if (!s) s = wick_set_grad(p, t);
      if (!s) wick_tensor_release(t);
    }
    wick_tensor_release(slot);
    return s;
  }
  size_t bytes = (size_t)wick_tensor_numel(p) * wick_dtype_size(p->dtype);
  const char *src = (const char *)wick_tensor_data(b->flat) + r->offset[i] * (int64_t)wick_dtype_size(p->dtype);
  if (g && wick_tensor_is_contiguous(g) && g->dtype == p->dtype) {
    memcpy(wick_tensor_data(g), src, bytes);
    wick_tensor_bump_version(g);
    return WICK_OK;
  }
  wick_tensor *t;
  WICK_TRY(wick_tensor_new(p->dtype, p->device, p->ndim, p->sizes, &t));
  memcpy(wick_tensor_data(t), src, bytes);
  wick_status s = wick_set_grad(p, t);
  wick_tensor_release(t);
  return s;
}

/* ---- the iteration ---- */

static void fail(wick_reducer *r, wick_status s) {
  if (r->err) return;
  r->err = s;
  snprintf(r->errmsg, sizeof r->errmsg, "%s", wick_last_error());
}

/* Launches the ready buckets in index order: every rank must submit them in the same order. */
static void launch_ready(wick_reducer *r) {
  while (r->next_launch < r->nbuckets && r->buckets[r->next_launch].pending == 0) {
    bucket *b = &r->buckets[r->next_launch++];
    if (r->stats.first_launch_s == 0) r->stats.first_launch_s = now_s();
    if (!r->pg) continue; /* a world of 1: the sum is the bucket itself */
    wick_pg_op op;
    memset(&op, 0, sizeof op);
    op.kind = WICK_PG_ALL_REDUCE;
    op.name = "DistributedDataParallel: bucket all_reduce";
    op.dtype = b->flat->dtype;
    op.data = wick_tensor_data(b->flat);
    op.count = (size_t)wick_tensor_numel(b->flat);
    op.reduce = WICK_PG_SUM;
    wick_status s = wick_pg_submit(r->pg, &op, &b->work);
    if (s) { fail(r, s); continue; }
    r->stats.bytes_sent += b->bytes;
    r->stats.buckets_sent++;
  }
}

static wick_status mark_ready(wick_reducer *r, int i) {
  if (r->ready[i])
    return wick_errorf(WICK_ERR_ARG, "DistributedDataParallel: Expected to mark a variable ready only once. "
                       "Parameter index %d got its gradient twice in one backward", i);
  WICK_TRY(copy_in(r, i));
  r->ready[i] = true;
  r->buckets[r->bucket_of[i]].pending--;
  launch_ready(r);
  return WICK_OK;
}

/* clear_used: after a reduction; a prepare keeps what no_sync backwards used (PyTorch counts
 * a parameter used in any micro-batch as used). */
static void reset_iteration(wick_reducer *r, bool clear_used) {
  for (int i = 0; i < r->n; i++) {
    r->ready[i] = r->unused[i] = false;
    if (clear_used) r->used[i] = false;
  }
  for (int j = 0; j < r->nbuckets; j++) r->buckets[j].pending = r->buckets[j].nparams;
  r->next_launch = 0;
  r->expect_hooks = r->require_finalize = r->queued = r->marked_unused = false;
}

static wick_status wait_all(wick_reducer *r) {
  wick_status s = WICK_OK;
  for (int j = 0; j < r->nbuckets; j++) {
    bucket *b = &r->buckets[j];
    if (!b->work) continue;
    wick_status w = wick_pg_work_wait(b->work);
    if (!s) s = w;
    wick_pg_work_free(b->work);
    b->work = NULL;
  }
  return s;
}

/* *out (i32 [n], CPU) = how many ranks used each parameter in this reduction. The all-reduce
 * runs on the parameters' device (a buffer there for NCCL). */
static wick_status used_map(wick_reducer *r, wick_tensor **out) {
  int64_t n = r->n;
  wick_tensor *host, *buf = NULL;
  WICK_TRY(wick_tensor_new(WICK_DTYPE_I32, wick_cpu(), 1, &n, &host));
  for (int i = 0; i < r->n; i++) ((int32_t *)wick_tensor_data(host))[i] = r->used[i];
  wick_status s = WICK_OK;
  if (r->pg) {
    s = wick_to(host, WICK_DTYPE_I32, r->params[0]->device, false, &buf);
    wick_pg_op op;
    memset(&op, 0, sizeof op);
    op.kind = WICK_PG_ALL_REDUCE;
    op.name = "DistributedDataParallel: used-parameter all_reduce";
    op.dtype = WICK_DTYPE_I32;
    op.count = (size_t)n;
    op.reduce = WICK_PG_SUM;
    wick_pg_work *w = NULL;
    if (!s) op.data = wick_tensor_data(buf), s = wick_pg_submit(r->pg, &op, &w);
    if (!s) s = wick_pg_work_wait(w);
    wick_pg_work_free(w);
    if (!s && buf != host) s = wick_copy_(host, buf);
  }
  wick_tensor_release(buf);
  if (s) wick_tensor_release(host);
  else *out = host;
  return s;
}

/* End of backward: wait for the buckets and write the means into .grad. */
static wick_status finalize(void *ctx) {
  wick_reducer *r = ctx;
  r->queued = false;
  r->stats.backward_end_s = now_s();
  if (r->err) {
    wick_status s = r->err;
    r->err = WICK_OK;
    (void)wait_all(r);
    return wick_errorf(s, "%s", r->errmsg);
  }
  /* a bucket that never filled: no all-reduce ran for it; the next forward raises */
  if (r->next_launch < r->nbuckets) return WICK_OK;
  int done = r->nbuckets;
  for (int j = 0; j < r->nbuckets; j++) done -= r->buckets[j].work && !wick_pg_work_done(r->buckets[j].work);
  r->stats.done_at_backward_end = done;
  wick_tensor *used = NULL; /* i32 [n] on the CPU */
  if (r->find_unused) {
    /* a parameter that no rank used keeps its .grad as it is (PyTorch's local_used_map) */
    wick_status s = used_map(r, &used);
    if (s) { (void)wait_all(r); return s; }
  }
  wick_status s = wait_all(r);
  for (int i = 0; i < r->n && !s; i++)
    if (!used || ((const int32_t *)wick_tensor_data(used))[i]) s = copy_out(r, i);
  wick_tensor_release(used);
  if (s) return s;
  r->stats.iterations++;
  reset_iteration(r, true);
  return WICK_OK;
}

static void hook(void *ctx, wick_tensor *leaf) {
  slot *sl = ctx;
  wick_reducer *r = sl->r;
  (void)leaf;
  r->used[sl->index] = true;
  if (!r->expect_hooks || r->err) return; /* no_sync, or no prepare_for_backward: stay local */
  double t = now_s();
  if (!r->queued) {
    wick_status s = wick_queue_backward_callback(finalize, r);
    if (s) { fail(r, s); return; }
    r->queued = true;
    r->stats.first_hook_s = t;
    r->stats.first_launch_s = 0;
  }
  r->stats.last_hook_s = t;
  if (!r->marked_unused) {
    r->marked_unused = true;
    for (int i = 0; i < r->n; i++) {
      if (!r->unused[i]) continue;
      wick_status s = mark_ready(r, i);
      if (s) { fail(r, s); return; }
    }
  }
  wick_status s = mark_ready(r, sl->index);
  if (s) fail(r, s);
}

/* ---- find_unused_parameters: which parameters the outputs' graph reaches ---- */

typedef struct {
  wick_node **keys;
  int cap, count;
} node_set;

static int set_add(node_set *s, wick_node *k) { /* 1 added, 0 present, -1 out of memory */
  if ((s->count + 1) * 2 > s->cap) {
    int cap = s->cap ? s->cap * 2 : 256;
    wick_node **keys = calloc((size_t)cap, sizeof *keys);
    if (!keys) return -1;
    for (int i = 0; i < s->cap; i++) {
      if (!s->keys[i]) continue;
      unsigned j = (unsigned)(((uintptr_t)s->keys[i] >> 4) * 2654435761u) & (unsigned)(cap - 1);
      while (keys[j]) j = (j + 1) & (unsigned)(cap - 1);
      keys[j] = s->keys[i];
    }
    free(s->keys);
    s->keys = keys;
    s->cap = cap;
  }
  unsigned j = (unsigned)(((uintptr_t)k >> 4) * 2654435761u) & (unsigned)(s->cap - 1);
  for (; s->keys[j]; j = (j + 1) & (unsigned)(s->cap - 1))
    if (s->keys[j] == k) return 0;
  s->keys[j] = k;
  s->count++;
  return 1;
}

static wick_status find_unused(wick_reducer *r, int n, wick_tensor *const *outputs) {
  node_set seen = {0};
  int sp = 0, cap = 64;
  wick_node **stack = malloc(sizeof *stack * (size_t)cap);
  wick_status s = WICK_OK;
  if (!stack) return wick_errorf(WICK_ERR_OOM, "DistributedDataParallel: out of memory");
  for (int i = 0; i < r->n; i++) r->unused[i] = true;
  for (int i = 0; i < n + 1 && !s; i++) {
    wick_node *start = NULL;
    if (i < n) {
      if (!outputs[i]->autograd) continue;
      start = outputs[i]->autograd->grad_fn ? outputs[i]->autograd->grad_fn : outputs[i]->autograd->accumulator;
      if (!start) continue;
      int added = set_add(&seen, start);
      if (added < 0) { s = wick_errorf(WICK_ERR_OOM, "DistributedDataParallel: out of memory"); break; }
      if (added) stack[sp++] = start;
    }
    while (sp > 0 && !s) {
      wick_node *nd = stack[--sp];
      if (nd->leaf && nd->leaf->autograd && nd->leaf->autograd->post_fn == hook) {
        slot *sl = nd->leaf->autograd->post_ctx;
        if (sl->r == r) r->unused[sl->index] = false;
      }
      for (int e = 0; e < nd->num_inputs; e++) {
        wick_node *c = nd->next[e].node;
        if (!c) continue;
        int added = set_add(&seen, c);
        if (added < 0) { s = wick_errorf(WICK_ERR_OOM, "DistributedDataParallel: out of memory"); break; }
        if (!added) continue;
        if (sp == cap) {
          wick_node **ns = realloc(stack, sizeof *stack * (size_t)(cap *= 2));
          if (!ns) { s = wick_errorf(WICK_ERR_OOM, "DistributedDataParallel: out of memory"); break; }
          stack = ns;
        }
        stack[sp++] = c;
      }
    }
  }
  free(stack);
  free(seen.keys);
  return s;
}

wick_status wick_reducer_prepare_for_backward(wick_reducer *r, int n, wick_tensor *const *outputs) {
  if (r->require_finalize)
    return wick_errorf(WICK_ERR_ARG, "DistributedDataParallel: the prior reduction has not finished");
  reset_iteration(r, false);
  if (r->find_unused) WICK_TRY(find_unused(r, n, outputs));
  r->expect_hooks = r->require_finalize = true;
  return WICK_OK;
}

int wick_reducer_unfinished(const wick_reducer *r, int *indices, int cap) {
  if (!r->require_finalize) return 0;
  int k = 0;
  for (int i = 0; i < r->n; i++) {
    if (r->ready[i]) continue;
    if (k < cap) indices[k] = i;
    k++;
  }
  return k;
}

/* ---- construction ---- */

wick_status wick_reducer_new(int n, wick_tensor *const *params, int64_t first_cap_bytes,
                             int64_t cap_bytes, wick_pg *pg, int world_size, bool find_unused_params,
                             wick_reducer **out) {
  *out = NULL;
  if (n < 1) return wick_errorf(WICK_ERR_ARG, "DistributedDataParallel: no parameter requires a gradient");
  if (world_size < 1) return wick_errorf(WICK_ERR_ARG, "DistributedDataParallel: world size %d", world_size);
  for (int i = 0; i < n; i++) {
    wick_tensor *p = params[i];
    if (p->dtype != WICK_DTYPE_F32 && p->dtype != WICK_DTYPE_F64)
      return wick_errorf(WICK_ERR_DTYPE, "DistributedDataParallel: parameter %d has dtype %s (f32 or f64 supported)",
                         i, wick_dtype_name(p->dtype));
    if (!wick_device_eq(p->device, params[0]->device)) {
      char a[32], b[32];
      wick_device_format(params[0]->device, a, sizeof a);
      wick_device_format(p->device, b, sizeof b);
      return wick_errorf(WICK_ERR_DEVICE, "DistributedDataParallel: parameters on %s and %s (one device per process)", a, b);
    }
    if (!wick_requires_grad(p) || !wick_is_leaf(p))
      return wick_errorf(WICK_ERR_ARG, "DistributedDataParallel: parameter %d is not a leaf that requires grad", i);
  }
  wick_reducer *r = calloc(1, sizeof *r);
  if (!r) return wick_errorf(WICK_ERR_OOM, "DistributedDataParallel: out of memory");
  r->n = n;
  r->pg = pg;
  r->world_size = world_size;
  r->find_unused = find_unused_params;
  r->params = calloc((size_t)n, sizeof *r->params);
  r->slots = calloc((size_t)n, sizeof *r->slots);
  r->bucket_of = calloc((size_t)n, sizeof *r->bucket_of);
  r->offset = calloc((size_t)n, sizeof *r->offset);
  r->ready = calloc((size_t)n, sizeof *r->ready);
  r->unused = calloc((size_t)n, sizeof *r->unused);
  r->used = calloc((size_t)n, sizeof *r->used);
  if (!r->params || !r->slots || !r->bucket_of || !r->offset || !r->ready || !r->unused || !r->used) {
    wick_reducer_free(r);
    return wick_errorf(WICK_ERR_OOM, "DistributedDataParallel: out of memory");
  }
  for (int i = 0; i < n; i++) {
    r->params[i] = wick_tensor_retain(params[i]);
    r->slots[i].r = r;
    r->slots[i].index = i;
  }
  wick_status s = assign_buckets(r, first_cap_bytes, cap_bytes);
  if (s) { wick_reducer_free(r); return s; }
  reset_iteration(r, true);
  /* a newer wrapper of the same module takes the hooks over (the older one then never sees its
   * gradients, and its next forward raises) */
  for (int i = 0; i < n; i++) wick_set_post_accumulate_hook(r->params[i], hook, &r->slots[i]);
  *out = r;
  return WICK_OK;
}

void wick_reducer_free(wick_reducer *r) {
  if (!r) return;
  if (r->buckets) (void)wait_all(r);
  for (int i = 0; i < r->n && r->params; i++) {
    wick_tensor *p = r->params[i];
    if (!p) continue;
    if (p->autograd && p->autograd->post_fn == hook && p->autograd->post_ctx == &r->slots[i])
      wick_set_post_accumulate_hook(p, NULL, NULL);
    wick_tensor_release(p);
  }
  for (int j = 0; j < r->nbuckets; j++) {
    wick_tensor_release(r->buckets[j].flat);
    free(r->buckets[j].params);
  }
  free(r->buckets);
  free(r->params); free(r->slots); free(r->bucket_of); free(r->offset);
  free(r->ready); free(r->unused); free(r->used);
  free(r);
}

int wick_reducer_num_buckets(const wick_reducer *r) { return r->nbuckets; }

int64_t wick_reducer_bucket(const wick_reducer *r, int b, const int **indices, int *count) {
  *indices = r->buckets[b].params;
  *count = r->buckets[b].nparams;
  return r->buckets[b].bytes;
}

wick_reducer_stats wick_reducer_get_stats(const wick_reducer *r) { return r->stats; }
