/* Autograd bookkeeping: grad mode, per-tensor meta, graph nodes, edges, hooks, and the
 * AccumulateGrad node that writes a leaf's .grad. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"

static _Thread_local bool grad_off; /* grad mode is on unless switched off */
static _Atomic uint64_t next_seq;
static int next_hook_id = 1;

bool wick_grad_enabled(void) { return !grad_off; }
void wick_set_grad_enabled(bool on) { grad_off = !on; }

static void free_hooks(wick_hook *h) {
  while (h) {
    wick_hook *next = h->next;
    if (h->free_ctx) h->free_ctx(h->ctx);
    free(h);
    h = next;
  }
}

void wick_autograd_unhook_meta(wick_autograd_meta *m);

static void meta_free(wick_autograd_meta *m) {
  wick_autograd_unhook_meta(m);
  wick_tensor_release(m->grad);
  wick_node_release(m->grad_fn);
  free_hooks(m->hooks);
  free(m);
}

__attribute__((constructor)) static void install_free_hook(void) {
  wick_autograd_free_hook = meta_free;
}

static wick_autograd_meta *meta_of(wick_tensor *t) {
  if (!t->autograd) t->autograd = calloc(1, sizeof(wick_autograd_meta));
  return t->autograd;
}

bool wick_requires_grad(const wick_tensor *t) { return t->autograd && t->autograd->requires_grad; }
bool wick_is_leaf(const wick_tensor *t) { return !t->autograd || !t->autograd->grad_fn; }
wick_tensor *wick_grad(const wick_tensor *t) { return t->autograd ? t->autograd->grad : NULL; }
wick_node *wick_grad_fn(const wick_tensor *t) { return t->autograd ? t->autograd->grad_fn : NULL; }

wick_status wick_set_requires_grad(wick_tensor *t, bool on) {
  if (!wick_is_leaf(t))
    return wick_errorf(WICK_ERR_ARG,
                       "requires_grad_: you can only change requires_grad flags of leaf variables; "
                       "use detach() to get a leaf");
  if (on && !wick_dtype_is_float(t->dtype))
    return wick_errorf(WICK_ERR_DTYPE,
                       "requires_grad_: only tensors of floating point dtype can require gradients (got %s)",
                       wick_dtype_name(t->dtype));
  if (!on && !t->autograd) return WICK_OK;
  wick_autograd_meta *m = meta_of(t);
  if (!m) return wick_errorf(WICK_ERR_OOM, "out of memory");
  m->requires_grad = on;
  return WICK_OK;
}

wick_status wick_set_grad(wick_tensor *t, wick_tensor *grad) {
  if (grad) {
    if (!wick_shape_eq(grad, t)) {
      char b1[128], b2[128];
      return wick_errorf(WICK_ERR_SHAPE, "grad: assigned grad has shape %s but the tensor has shape %s",
                         wick_shape_str(grad->ndim, grad->sizes, b1, sizeof b1),
                         wick_shape_str(t->ndim, t->sizes, b2, sizeof b2));
    }
    if (grad->dtype != t->dtype)
      return wick_errorf(WICK_ERR_DTYPE, "grad: assigned grad has dtype %s but the tensor has dtype %s",
                         wick_dtype_name(grad->dtype), wick_dtype_name(t->dtype));
  }
  if (!grad && !t->autograd) return WICK_OK;
  wick_autograd_meta *m = meta_of(t);
  if (!m) return wick_errorf(WICK_ERR_OOM, "out of memory");
  wick_tensor *old = m->grad;
  m->grad = grad ? wick_tensor_retain(grad) : NULL;
  wick_tensor_release(old);
  return WICK_OK;
}

/* ---- nodes ---- */

wick_node *wick_node_retain(wick_node *n) {
  if (n) atomic_fetch_add(&n->refcount, 1);
  return n;
}

void wick_node_release_saved(wick_node *n) {
  for (int i = 0; i < n->nsaved; i++) {
    wick_tensor_release(n->saved[i]);
    n->saved[i] = NULL;
  }
  if (n->extra && n->free_extra) n->free_extra(n->extra);
  n->extra = NULL;
  n->released = true;
}

void wick_node_release(wick_node *n) {
  /* iterative: long chains (an RNN unrolled 10k steps) must not overflow the C stack */
  while (n && atomic_fetch_sub(&n->refcount, 1) == 1) {
    wick_node_release_saved(n);
    free_hooks(n->pre_hooks);
    if (n->leaf) {
      if (n->leaf->autograd && n->leaf->autograd->accumulator == n) n->leaf->autograd->accumulator = NULL;
      wick_tensor_release(n->leaf);
    }
    wick_node *tail = NULL;
    for (int i = 0; i < n->num_inputs; i++) {
      wick_node *c = n->next[i].node;
      if (!c) continue;
      if (!tail) tail = c;  /* released by the loop */
      else wick_node_release(c);
    }
    free(n->next);
    free(n->in_meta);
    free(n);
    n = tail;
  }
}

static wick_node *node_alloc(const char *name, wick_backward_fn fn, int num_inputs, int num_outputs) {
  wick_node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->next = calloc((size_t)(num_inputs ? num_inputs : 1), sizeof *n->next);
  n->in_meta = calloc((size_t)(num_inputs ? num_inputs : 1), sizeof *n->in_meta);
  if (!n->next || !n->in_meta) {
    free(n->next); free(n->in_meta); free(n);
    return NULL;
  }
  atomic_init(&n->refcount, 1);
  n->name = name;
  n->backward = fn;
  n->num_inputs = num_inputs;
  n->num_outputs = num_outputs;
  n->seq = atomic_fetch_add(&next_seq, 1);
  return n;
}

/* Runs a leaf's hooks, then adds the gradient into leaf.grad. */
static wick_status accumulate_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  (void)gin;
  wick_tensor *leaf = n->leaf, *g = gout[0];
  if (!g) return WICK_OK;
  wick_autograd_meta *m = leaf->autograd;
  wick_tensor *owned = wick_tensor_retain(g);
  for (wick_hook *h = m->hooks; h; h = h->next) {
    wick_tensor *rep = NULL;
    wick_status s = h->fn(h->ctx, owned, &rep);
    if (s) { wick_tensor_release(owned); return s; }
    if (rep) { wick_tensor_release(owned); owned = rep; }
  }
  wick_status s = WICK_OK;
  if (!m->grad) {
    /* take the incoming buffer when nobody else can see it, else copy it */
    if (atomic_load(&owned->refcount) == 1 && owned->storage->refcount == 1 &&
        wick_tensor_is_contiguous(owned) && owned->dtype == leaf->dtype && wick_shape_eq(owned, leaf)) {
      m->grad = owned;
      owned = NULL;
    } else {
      wick_tensor *c;
      s = wick_to(owned, leaf->dtype, leaf->device, true, &c);
      if (!s) {
        wick_tensor *cc;
        s = wick_contiguous(c, &cc);
        wick_tensor_release(c);
        if (!s) m->grad = cc;
      }
    }
  } else {
    s = wick_binary_(WICK_BIN_ADD, m->grad, owned);
  }
  wick_tensor_release(owned);
  if (!s && m->post_fn) m->post_fn(m->post_ctx, leaf);
  return s;
}

wick_node *wick_grad_accumulator(const wick_tensor *leaf) {
  wick_autograd_meta *m = leaf->autograd;
  if (m->accumulator) return wick_node_retain(m->accumulator);
  wick_node *n = node_alloc("AccumulateGrad", accumulate_backward, 0, 1);
  if (!n) return NULL;
  n->leaf = wick_tensor_retain((wick_tensor *)leaf);
  m->accumulator = n;
  return n;
}

bool wick_ag_needed(int n, const wick_tensor *const *inputs) {
  if (grad_off) return false;
  for (int i = 0; i < n; i++)
    if (inputs[i] && wick_requires_grad(inputs[i])) return true;
  return false;
}

wick_status wick_node_new(const char *name, wick_backward_fn fn, int n,
                          const wick_tensor *const *inputs, int num_outputs, wick_node **out) {
  wick_node *node = node_alloc(name, fn, n, num_outputs);
  if (!node) return wick_errorf(WICK_ERR_OOM, "out of memory recording %s", name);
  for (int i = 0; i < n; i++) {
    const wick_tensor *t = inputs[i];
    if (!t) continue;
    node->in_meta[i].dtype = t->dtype;
    node->in_meta[i].ndim = t->ndim;
    memcpy(node->in_meta[i].sizes, t->sizes, sizeof(int64_t) * (size_t)t->ndim);
    if (!wick_requires_grad(t)) continue;
    wick_autograd_meta *m = t->autograd;
    if (m->grad_fn) {
      node->next[i].node = wick_node_retain(m->grad_fn);
      node->next[i].input_nr = m->output_nr;
    } else {
      node->next[i].node = wick_grad_accumulator(t);
      if (!node->next[i].node) { wick_node_release(node); return wick_errorf(WICK_ERR_OOM, "out of memory"); }
    }
  }
  *out = node;
  return WICK_OK;
}

wick_status wick_node_save(wick_node *n, const wick_tensor *t) {
  if (n->nsaved >= WICK_NODE_MAX_SAVED) return wick_errorf(WICK_ERR_ARG, "%s: too many saved tensors", n->name);
  wick_tensor *s;
  if (t->wrapped_number) {
    WICK_TRY(wick_clone(t, &s));
    s->wrapped_number = true;
  } else {
    /* A plain alias (same storage, no autograd meta), not t itself: a node that saved its
     * own output would otherwise own that output, whose grad_fn owns the node (a cycle that
     * leaks every forward not followed by backward). */
    WICK_TRY(wick_tensor_as_strided(t, t->ndim, t->sizes, t->strides, t->offset, &s));
  }
  n->saved_version[n->nsaved] = atomic_load(&s->storage->version);
  n->saved[n->nsaved++] = s;
  return WICK_OK;
}

wick_status wick_node_check_live(const wick_node *n) {
  if (n->released)
    return wick_errorf(WICK_ERR_ARG,
                       "backward: trying to backward through the graph a second time (or directly access "
                       "saved tensors after they have already been freed); specify retain_graph = true "
                       "on the first backward");
  return WICK_OK;
}

wick_status wick_node_saved(wick_node *n, int i, wick_tensor **t) {
  WICK_TRY(wick_node_check_live(n));
  wick_tensor *s = n->saved[i];
  uint32_t v = atomic_load(&s->storage->version);
  if (v != n->saved_version[i]) {
    char b[128];
    return wick_errorf(WICK_ERR_ARG,
                       "backward: one of the variables needed for gradient computation has been modified "
                       "by an inplace operation: [%s %s], which is input %d of %s, is at version %u; "
                       "expected version %u instead",
                       wick_dtype_name(s->dtype), wick_shape_str(s->ndim, s->sizes, b, sizeof b), i,
                       n->name, v, n->saved_version[i]);
  }
  *t = s;
  return WICK_OK;
}

void wick_set_history(wick_tensor *out, wick_node *n, int output_nr) {
  wick_autograd_meta *m = meta_of(out);
  if (!m) return;
  wick_node *old = m->grad_fn;
  m->requires_grad = true;
  m->grad_fn = wick_node_retain(n);
  m->output_nr = output_nr;
  wick_node_release(old);
}

wick_status wick_node_saved_opt(wick_node *n, int64_t slot, wick_tensor **t) {
  *t = NULL;
  return slot < 0 ? WICK_OK : wick_node_saved(n, (int)slot, t);
}

wick_status wick_ag_done(wick_status s, wick_tensor **out) {
  if (s) {
    wick_tensor_release(*out);
    *out = NULL;
  }
  return s;
}

wick_status wick_node_finish(wick_status s, wick_node *n, wick_tensor **out) {
  if (!s) wick_set_history(*out, n, 0);
  wick_node_release(n);
  return wick_ag_done(s, out);
}

/* ---- hooks ---- */

wick_status wick_register_hook(wick_tensor *t, wick_grad_hook_fn fn, void *ctx,
                               wick_ctx_free_fn free_ctx, int *id) {
  if (!wick_requires_grad(t))
    return wick_errorf(WICK_ERR_ARG, "register_hook: cannot register a hook on a tensor that doesn't require gradient");
  wick_hook *h = calloc(1, sizeof *h);
  if (!h) return wick_errorf(WICK_ERR_OOM, "out of memory");
  h->fn = fn;
  h->ctx = ctx;
  h->free_ctx = free_ctx;
  h->id = next_hook_id++;
  wick_autograd_meta *m = t->autograd;
  wick_hook **list = m->grad_fn ? &m->grad_fn->pre_hooks : &m->hooks;
  h->output_nr = m->grad_fn ? m->output_nr : 0;
  /* append: hooks run in registration order */
  while (*list) list = &(*list)->next;
  *list = h;
  *id = h->id;
  return WICK_OK;
}

void wick_remove_hook(wick_tensor *t, int id) {
  if (!t->autograd) return;
  wick_autograd_meta *m = t->autograd;
  wick_hook **list = m->grad_fn ? &m->grad_fn->pre_hooks : &m->hooks;
  for (; *list; list = &(*list)->next) {
    if ((*list)->id == id) {
      wick_hook *h = *list;
      *list = h->next;
      h->next = NULL;
      free_hooks(h);
      return;
    }
  }
}

void wick_set_post_accumulate_hook(wick_tensor *t, wick_post_accumulate_fn fn, void *ctx) {
  wick_autograd_meta *m = meta_of(t);
  if (!m) return;
  m->post_fn = fn;
  m->post_ctx = ctx;
}

/* retain_grad: a hook on the tensor's grad_fn that stores the gradient in the tensor's meta.
 * The hook points at the meta without owning it; meta_free unhooks it (see below). */
static wick_status retain_hook(void *ctx, const wick_tensor *grad, wick_tensor **out) {
  (void)out;
  wick_autograd_meta *m = ctx;
  if (!m->grad) return wick_clone(grad, &m->grad);
  return wick_binary_(WICK_BIN_ADD, m->grad, grad);
}

wick_status wick_retain_grad(wick_tensor *t) {
  if (!wick_requires_grad(t))
    return wick_errorf(WICK_ERR_ARG, "retain_grad: can't retain_grad on a tensor that has requires_grad = false");
  wick_autograd_meta *m = t->autograd;
  if (!m->grad_fn || m->retains_grad) return WICK_OK; /* leaves keep their grad anyway */
  int id;
  WICK_TRY(wick_register_hook(t, retain_hook, m, NULL, &id));
  m->retains_grad = true;
  return WICK_OK;
}

void wick_autograd_unhook_meta(wick_autograd_meta *m) {
  if (!m->retains_grad || !m->grad_fn) return;
  for (wick_hook **list = &m->grad_fn->pre_hooks; *list;) {
    if ((*list)->ctx == m && (*list)->fn == retain_hook) {
      wick_hook *h = *list;
      *list = h->next;
      free(h);
    } else {
      list = &(*list)->next;
    }
  }
}
