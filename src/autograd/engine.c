/* The backward engine: finds the nodes reachable from the roots, counts dependencies, and runs
 * each node once all gradients flowing into it are summed, latest-created node first. */
#include <stdlib.h>
#include <string.h>

#include "autograd.h"

typedef struct {
  wick_node *node;
  int deps;
  wick_tensor **buf; /* [num_outputs] summed incoming gradients */
} task;

typedef struct {
  task *items;
  int n, cap;
} task_table;

/* Open-addressing map node -> task index. */
typedef struct {
  wick_node **keys;
  int *vals;
  int cap;
} node_map;

static unsigned hash_ptr(const void *p) {
  uintptr_t x = (uintptr_t)p;
  x ^= x >> 17; x *= 0xed5ad4bbu; x ^= x >> 11;
  return (unsigned)x;
}

static int map_get(const node_map *m, const wick_node *k) {
  if (m->cap == 0) return -1;
  for (unsigned i = hash_ptr(k) & (unsigned)(m->cap - 1);; i = (i + 1) & (unsigned)(m->cap - 1)) {
    if (!m->keys[i]) return -1;
    if (m->keys[i] == k) return m->vals[i];
  }
}

static bool map_grow(node_map *m) {
  int cap = m->cap ? m->cap * 2 : 64;
  wick_node **keys = calloc((size_t)cap, sizeof *keys);
  int *vals = calloc((size_t)cap, sizeof *vals);
  if (!keys || !vals) { free(keys); free(vals); return false; }
  for (int i = 0; i < m->cap; i++) {
    if (!m->keys[i]) continue;
    unsigned j = hash_ptr(m->keys[i]) & (unsigned)(cap - 1);
    while (keys[j]) j = (j + 1) & (unsigned)(cap - 1);
    keys[j] = m->keys[i];
    vals[j] = m->vals[i];
  }
  free(m->keys); free(m->vals);
  m->keys = keys; m->vals = vals; m->cap = cap;
  return true;
}

static bool map_put(node_map *m, wick_node *k, int v, int count) {
  if ((count + 1) * 2 > m->cap && !map_grow(m)) return false;
  unsigned i = hash_ptr(k) & (unsigned)(m->cap - 1);
  while (m->keys[i]) i = (i + 1) & (unsigned)(m->cap - 1);
  m->keys[i] = k;
  m->vals[i] = v;
  return true;
}

static int add_task(task_table *t, node_map *m, wick_node *n) {
  int idx = map_get(m, n);
  if (idx >= 0) return idx;
  if (t->n == t->cap) {
    int cap = t->cap ? t->cap * 2 : 64;
    task *items = realloc(t->items, sizeof *items * (size_t)cap);
    if (!items) return -1;
    t->items = items;
    t->cap = cap;
  }
  task *k = &t->items[t->n];
  k->node = n;
  k->deps = 0;
  k->buf = calloc((size_t)(n->num_outputs ? n->num_outputs : 1), sizeof *k->buf);
  if (!k->buf || !map_put(m, n, t->n, t->n)) { free(k->buf); return -1; }
  return t->n++;
}

/* buf += g (both may be broadcast or differently typed: sum into a fresh tensor). */
static wick_status accumulate(wick_tensor **buf, wick_tensor *g) {
  if (!*buf) { *buf = wick_tensor_retain(g); return WICK_OK; }
  wick_tensor *sum;
  WICK_TRY(wick_binary(WICK_BIN_ADD, *buf, g, &sum));
  wick_tensor_release(*buf);
  *buf = sum;
  return WICK_OK;
}

/* Shapes a gradient for input meta `im`: sums broadcast dims and casts the dtype. */
static wick_status fit_grad(wick_tensor *g, const wick_input_meta *im, wick_tensor **out) {
  wick_tensor *s = NULL;
  bool same_shape = g->ndim == im->ndim && !memcmp(g->sizes, im->sizes, sizeof(int64_t) * (size_t)im->ndim);
  if (same_shape) s = wick_tensor_retain(g);
  else WICK_TRY(wick_sum_to(g, im->ndim, im->sizes, &s));
  if (s->dtype == im->dtype) { *out = s; return WICK_OK; }
  wick_status st = wick_to(s, im->dtype, s->device, false, out);
  wick_tensor_release(s);
  return st;
}

static wick_status run_pre_hooks(wick_node *n, wick_tensor **buf) {
  for (wick_hook *h = n->pre_hooks; h; h = h->next) {
    wick_tensor *g = buf[h->output_nr];
    if (!g) continue;
    wick_tensor *rep = NULL;
    WICK_TRY(h->fn(h->ctx, g, &rep));
    if (rep) { wick_tensor_release(buf[h->output_nr]); buf[h->output_nr] = rep; }
  }
  return WICK_OK;
}

static wick_status ones_like(const wick_tensor *t, wick_tensor **out) {
  WICK_TRY(wick_tensor_new(t->dtype, t->device, t->ndim, t->sizes, out));
  return wick_fill_(*out, 1.0, 1);
}

/* End-of-backward callbacks of this thread; depth > 0 while a backward runs. */
#define MAX_CALLBACKS 16
static _Thread_local struct {
  wick_backward_callback_fn fn;
  void *ctx;
} callbacks[MAX_CALLBACKS];
static _Thread_local int ncallbacks, backward_depth;

wick_status wick_queue_backward_callback(wick_backward_callback_fn fn, void *ctx) {
  if (backward_depth == 0) return wick_errorf(WICK_ERR_ARG, "queue_callback: no backward is running");
  if (ncallbacks == MAX_CALLBACKS)
    return wick_errorf(WICK_ERR_ARG, "queue_callback: more than %d callbacks queued", MAX_CALLBACKS);
  callbacks[ncallbacks].fn = fn;
  callbacks[ncallbacks].ctx = ctx;
  ncallbacks++;
  return WICK_OK;
}

/* Runs (or, after a failure, drops) the queued callbacks once the outermost backward ends. */
static wick_status end_backward(wick_status s) {
  if (backward_depth > 1) { backward_depth--; return s; }
  /* still "in backward" here, so a callback may queue another: ncallbacks is re-read */
  for (int i = 0; i < ncallbacks && !s; i++) s = callbacks[i].fn(callbacks[i].ctx);
  ncallbacks = 0;
  backward_depth = 0;
  return s;
}

static wick_status run_backward(int nroots, wick_tensor *const *roots, wick_tensor *const *grads,
                                bool retain_graph);

wick_status wick_backward(int nroots, wick_tensor *const *roots, wick_tensor *const *grads,
                          bool retain_graph) {
  backward_depth++;
  return end_backward(run_backward(nroots, roots, grads, retain_graph));
}

static wick_status run_backward(int nroots, wick_tensor *const *roots, wick_tensor *const *grads,
                                bool retain_graph) {
  task_table tt = {0};
  node_map map = {0};
  wick_status s = WICK_OK;
  int *stack = NULL, *ready = NULL;
  int nready = 0, nown = 0;
  wick_node **own = calloc((size_t)nroots + 1, sizeof *own); /* accumulators of leaf roots */
  if (!own) return wick_errorf(WICK_ERR_OOM, "out of memory");

  /* seed gradients */
  for (int r = 0; r < nroots; r++) {
    const wick_tensor *root = roots[r];
    if (!wick_requires_grad(root)) {
      s = wick_errorf(WICK_ERR_ARG, "backward: element %d of tensors does not require grad and does not have a grad_fn", r);
      goto done;
    }
    wick_tensor *g = grads ? grads[r] : NULL, *seed = NULL;
    if (!g) {
      if (wick_tensor_numel(root) != 1) {
        s = wick_errorf(WICK_ERR_SHAPE, "backward: grad can be implicitly created only for scalar outputs "
                        "(the output has %lld elements)", (long long)wick_tensor_numel(root));
        goto done;
      }
      if ((s = ones_like(root, &seed))) goto done;
    } else {
      if (!wick_shape_eq(g, root)) {
        char b1[128], b2[128];
        s = wick_errorf(WICK_ERR_SHAPE, "backward: mismatch in shape: grad_output has shape %s and output has shape %s",
                        wick_shape_str(g->ndim, g->sizes, b1, sizeof b1), wick_shape_str(root->ndim, root->sizes, b2, sizeof b2));
        goto done;
      }
      seed = wick_tensor_retain(g);
    }
    wick_node *n = root->autograd->grad_fn;
    int nr = root->autograd->output_nr;
    if (!n) { /* a leaf root: its gradient goes straight into .grad */
      n = wick_grad_accumulator(root);
      nr = 0;
      if (n) own[nown++] = n;
    }
    int idx = n ? add_task(&tt, &map, n) : -1;
    if (idx < 0) { wick_tensor_release(seed); s = wick_errorf(WICK_ERR_OOM, "out of memory"); goto done; }
    s = accumulate(&tt.items[idx].buf[nr], seed);
    wick_tensor_release(seed);
    if (s) goto done;
  }

  /* discover the graph and count dependencies */
  stack = malloc(sizeof *stack * (size_t)(tt.n + 16));
  int sp = 0, stack_cap = tt.n + 16;
  if (!stack) { s = wick_errorf(WICK_ERR_OOM, "out of memory"); goto done; }
  int roots_n = tt.n;
  for (int i = 0; i < roots_n; i++) stack[sp++] = i;
  /* visited == present in the map; each node is pushed once */
  while (sp > 0) {
    wick_node *n = tt.items[stack[--sp]].node;
    for (int i = 0; i < n->num_inputs; i++) {
      wick_node *c = n->next[i].node;
      if (!c) continue;
      int before = tt.n, idx = add_task(&tt, &map, c);
      if (idx < 0) { s = wick_errorf(WICK_ERR_OOM, "out of memory"); goto done; }
      tt.items[idx].deps++;
      if (idx == before) {
        if (sp == stack_cap) {
          stack_cap *= 2;
          int *ns = realloc(stack, sizeof *stack * (size_t)stack_cap);
          if (!ns) { s = wick_errorf(WICK_ERR_OOM, "out of memory"); goto done; }
          stack = ns;
        }
        stack[sp++] = idx;
      }
    }
  }

  /* run: a ready list ordered by sequence number (latest first) */
  ready = malloc(sizeof *ready * (size_t)(tt.n + 1));
  if (!ready) { s = wick_errorf(WICK_ERR_OOM, "out of memory"); goto done; }
  for (int i = 0; i < tt.n; i++)
    if (tt.items[i].deps == 0) ready[nready++] = i;
  wick_tensor *gin_small[8];
  while (nready > 0) {
    /* pick the ready node created last */
    int best = 0;
    for (int i = 1; i < nready; i++)
      if (tt.items[ready[i]].node->seq > tt.items[ready[best]].node->seq) best = i;
    int idx = ready[best];
    ready[best] = ready[--nready];
    task *k = &tt.items[idx];
    wick_node *n = k->node;
    if ((s = run_pre_hooks(n, k->buf))) goto done;
    wick_tensor **gin = n->num_inputs <= 8 ? gin_small : calloc((size_t)n->num_inputs, sizeof *gin);
    if (!gin) { s = wick_errorf(WICK_ERR_OOM, "out of memory"); goto done; }
    memset(gin, 0, sizeof *gin * (size_t)n->num_inputs);
    bool any = false;
    for (int i = 0; i < n->num_outputs; i++) any |= k->buf[i] != NULL;
    if (any && n->backward) {
      s = n->backward(n, k->buf, gin);
      if (s) wick_error_prefix(n->name);
    }
    for (int i = 0; i < n->num_outputs; i++) { wick_tensor_release(k->buf[i]); k->buf[i] = NULL; }
    if (!retain_graph && !n->leaf) wick_node_release_saved(n);
    for (int i = 0; i < n->num_inputs && !s; i++) {
      wick_node *c = n->next[i].node;
      if (!c) { wick_tensor_release(gin[i]); gin[i] = NULL; continue; }
      int ci = map_get(&map, c);
      if (gin[i]) {
        wick_tensor *fitted;
        s = fit_grad(gin[i], &n->in_meta[i], &fitted);
        if (!s) {
          s = accumulate(&tt.items[ci].buf[n->next[i].input_nr], fitted);
          wick_tensor_release(fitted);
        }
      }
      if (--tt.items[ci].deps == 0) ready[nready++] = ci;
    }
    for (int i = 0; i < n->num_inputs; i++) wick_tensor_release(gin[i]);
    if (gin != gin_small) free(gin);
    if (s) goto done;
  }

done:
  for (int i = 0; i < tt.n; i++) {
    task *k = &tt.items[i];
    for (int j = 0; j < k->node->num_outputs; j++) wick_tensor_release(k->buf[j]);
    free(k->buf);
  }
  free(tt.items);
  free(map.keys);
  free(map.vals);
  free(stack);
  free(ready);
  for (int i = 0; i < nown; i++) wick_node_release(own[i]);
  free(own);
  return s;
}
