/* Define-by-run autograd: graph nodes recorded by the wick_ag_* ops, and the engine that
 * runs them backwards. Lua-free. Ownership: a tensor's autograd meta owns its grad and grad_fn;
 * a node owns its saved tensors and its next edges; a leaf's AccumulateGrad node is owned by
 * the graph (the leaf only points at it weakly) and owns a reference to the leaf. */
#ifndef WICK_AUTOGRAD_H
#define WICK_AUTOGRAD_H

#include "core/ops.h"

typedef struct wick_node wick_node;

typedef struct {
  wick_node *node; /* NULL: this input needs no gradient */
  int input_nr;    /* which output of `node` the gradient flows into */
} wick_edge;

/* What the engine needs to know about each forward input of a node, to shape its gradient:
 * a gradient broadcast beyond the input's shape is summed back, and cast to its dtype. */
typedef struct {
  wick_dtype dtype;
  int ndim;
  int64_t sizes[WICK_MAX_DIMS];
} wick_input_meta;

/* grads_out[i]: gradient w.r.t. forward output i (may be NULL = zero). The function stores a
 * NEW reference (or NULL) in grads_in[j] for each forward input j with a next edge. */
typedef wick_status (*wick_backward_fn)(wick_node *n, wick_tensor *const *grads_out,
                                        wick_tensor **grads_in);

/* Tensor hooks: called with the gradient; may replace it by storing a new reference in *out
 * (leave *out NULL to keep it). */
typedef wick_status (*wick_grad_hook_fn)(void *ctx, const wick_tensor *grad, wick_tensor **out);
typedef void (*wick_ctx_free_fn)(void *ctx);
/* Called after a leaf's .grad was updated (DDP's reducer uses it). */
typedef void (*wick_post_accumulate_fn)(void *ctx, wick_tensor *leaf);

#define WICK_NODE_MAX_SAVED 6

typedef struct wick_hook {
  wick_grad_hook_fn fn;
  wick_ctx_free_fn free_ctx;
  void *ctx;
  int output_nr;
  int id;
  struct wick_hook *next;
} wick_hook;

struct wick_node {
  _Atomic int refcount;
  const char *name;         /* "MulBackward0" */
  wick_backward_fn backward;
  uint64_t seq;             /* creation order: later nodes run first */
  int num_inputs;           /* edges (forward inputs) */
  int num_outputs;          /* forward outputs */
  wick_edge *next;          /* [num_inputs] */
  wick_input_meta *in_meta; /* [num_inputs] */
  /* saved state */
  wick_tensor *saved[WICK_NODE_MAX_SAVED];
  uint32_t saved_version[WICK_NODE_MAX_SAVED];
  int nsaved;
  bool released;            /* saved state freed after a backward without retain_graph */
  double scalars[4];
  int64_t ints[WICK_MAX_DIMS + 4];
  void *extra;              /* op-specific heap data, freed with free_extra */
  void (*free_extra)(void *);
  wick_hook *pre_hooks;     /* tensor hooks on this node's outputs */
  /* AccumulateGrad nodes only */
  wick_tensor *leaf;
};

/* Per-tensor state; NULL for tensors that never took part in autograd. */
typedef struct wick_autograd_meta {
  bool requires_grad;
  wick_tensor *grad;
  wick_node *grad_fn;      /* NULL for leaves */
  int output_nr;
  wick_node *accumulator;  /* leaves: weak pointer to the live AccumulateGrad node */
  wick_hook *hooks;        /* leaves: tensor hooks, run before accumulation */
  wick_post_accumulate_fn post_fn;
  void *post_ctx;
  bool retains_grad;       /* non-leaves: keep .grad (set by retain_grad) */
} wick_autograd_meta;

/* ---- grad mode (thread-local) ---- */
bool wick_grad_enabled(void);
void wick_set_grad_enabled(bool on);

/* ---- tensor state ---- */
bool wick_requires_grad(const wick_tensor *t);
/* Leaves only; only floating dtypes may require grad. */
wick_status wick_set_requires_grad(wick_tensor *t, bool on);
bool wick_is_leaf(const wick_tensor *t);
/* Borrowed; NULL when none. */
wick_tensor *wick_grad(const wick_tensor *t);
wick_node *wick_grad_fn(const wick_tensor *t);
/* Replaces .grad (NULL clears it); shape and dtype must match. */
wick_status wick_set_grad(wick_tensor *t, wick_tensor *grad);
wick_status wick_register_hook(wick_tensor *t, wick_grad_hook_fn fn, void *ctx,
                               wick_ctx_free_fn free_ctx, int *id);
void wick_remove_hook(wick_tensor *t, int id);
wick_status wick_retain_grad(wick_tensor *t);
void wick_set_post_accumulate_hook(wick_tensor *t, wick_post_accumulate_fn fn, void *ctx);

/* ---- recording (used by the op wrappers) ---- */
/* True when grad mode is on and any of the inputs requires grad. */
bool wick_ag_needed(int n, const wick_tensor *const *inputs);
/* A new node whose edges point at the inputs' grad_fn / accumulators. */
wick_status wick_node_new(const char *name, wick_backward_fn fn, int n,
                          const wick_tensor *const *inputs, int num_outputs, wick_node **out);
wick_node *wick_node_retain(wick_node *n);
/* The AccumulateGrad node of a leaf that requires grad (new reference). */
wick_node *wick_grad_accumulator(const wick_tensor *leaf);
void wick_node_release(wick_node *n);
/* Saves t (a wrapped Lua number is copied, since it lives on the C stack). */
wick_status wick_node_save(wick_node *n, const wick_tensor *t);
/* Frees n's saved tensors and extra state and marks it released (after a backward without
 * retain_graph, and when n dies). */
void wick_node_release_saved(wick_node *n);
/* The error of a second backward through a freed graph when n was released, else WICK_OK. */
wick_status wick_node_check_live(const wick_node *n);
/* Reads saved tensor i, checking it was not modified in place since it was saved. */
wick_status wick_node_saved(wick_node *n, int i, wick_tensor **t);
/* Makes `out` the output_nr-th output of n: out requires grad, its grad_fn is n. */
void wick_set_history(wick_tensor *out, wick_node *n, int output_nr);
/* n->saved[slot] (checked), or NULL for slot -1: an optional saved tensor. */
wick_status wick_node_saved_opt(wick_node *n, int64_t slot, wick_tensor **t);
/* Finishes recording a one-output op: on success *out becomes n's output 0, on failure *out
 * is released and cleared. Drops the caller's reference to n either way; returns s. */
wick_status wick_node_finish(wick_status s, wick_node *n, wick_tensor **out);
/* The end of every wick_ag_* op: when s is an error, releases the output the core op made and
 * clears *out; returns s. */
wick_status wick_ag_done(wick_status s, wick_tensor **out);

/* ---- the engine ---- */
/* Runs backward from roots with the given output gradients (NULL = ones for a 1-element
 * root). Frees the graph's saved state unless retain_graph. */
wick_status wick_backward(int n, wick_tensor *const *roots, wick_tensor *const *grads,
                          bool retain_graph);
/* Queues fn(ctx) to run when the outermost backward running on this thread has run all its
 * nodes, before wick_backward returns (PyTorch's queue_callback: DDP's reducer waits for its
 * bucket all-reduces there). Its error becomes backward's. Dropped when backward fails.
 * Outside a backward it is an error. */
typedef wick_status (*wick_backward_callback_fn)(void *ctx);
wick_status wick_queue_backward_callback(wick_backward_callback_fn fn, void *ctx);

/* ---- differentiable ops: the core op, plus a graph node when needed ---- */
wick_status wick_ag_binary(wick_binop op, const wick_tensor *a, const wick_tensor *b, wick_tensor **out);
wick_status wick_ag_unary(wick_unop op, const wick_tensor *a, double p0, double p1, wick_tensor **out);
wick_status wick_ag_where(const wick_tensor *c, const wick_tensor *a, const wick_tensor *b, wick_tensor **out);
wick_status wick_ag_matmul(const wick_tensor *a, const wick_tensor *b, wick_tensor **out);
wick_status wick_ag_to(const wick_tensor *t, wick_dtype dtype, wick_device dev, bool copy, wick_tensor **out);
wick_status wick_ag_clone(const wick_tensor *t, wick_tensor **out);
/* In-place: refuses leaves that require grad, records history on non-leaves. */
wick_status wick_ag_binary_(wick_binop op, wick_tensor *a, const wick_tensor *b);
wick_status wick_ag_unary_(wick_unop op, wick_tensor *a, double p0, double p1);
wick_status wick_ag_check_inplace(const char *op, const wick_tensor *t);

/* views (fn_view.c) */
typedef enum {
  WICK_VIEW_VIEW, WICK_VIEW_RESHAPE, WICK_VIEW_PERMUTE, WICK_VIEW_TRANSPOSE, WICK_VIEW_UNSQUEEZE,
  WICK_VIEW_SQUEEZE, WICK_VIEW_EXPAND, WICK_VIEW_FLATTEN, WICK_VIEW_NARROW, WICK_VIEW_SLICE,
  WICK_VIEW_SELECT, WICK_VIEW_DIAGONAL, WICK_VIEW_ALIAS,
} wick_view_kind;
/* The view op `kind` of base with integer params (see fn_view.c for each kind's params),
 * recording how to send the gradient back to base's shape. */
wick_status wick_ag_view(wick_view_kind kind, const wick_tensor *base, int nparams,
                         const int64_t *params, wick_tensor **out);

/* reductions (fn_reduce.c): dtype WICK_DTYPE_NONE for the default */
wick_status wick_ag_reduce(const char *name, wick_redop op, const wick_tensor *a, int ndims,
                           const int64_t *dims, bool keepdim, wick_dtype dtype, wick_tensor **out);
wick_status wick_ag_mean(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                         wick_dtype dtype, wick_tensor **out);
wick_status wick_ag_var(const wick_tensor *a, int ndims, const int64_t *dims, double correction,
                        bool keepdim, bool take_sqrt, wick_tensor **out);
wick_status wick_ag_logsumexp(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                              wick_tensor **out);
wick_status wick_ag_norm(const wick_tensor *a, double p, int ndims, const int64_t *dims, bool keepdim,
                         wick_tensor **out);
wick_status wick_ag_reduce_with_indices(wick_redop op, const wick_tensor *a, int64_t dim, bool keepdim,
                                        wick_tensor **values, wick_tensor **indices);
wick_status wick_ag_softmax(const wick_tensor *a, int64_t dim, bool log, wick_tensor **out);
wick_status wick_ag_cumsum(const wick_tensor *a, int64_t dim, wick_dtype dtype, wick_tensor **out);

/* indexing and joining (fn_index.c) */
wick_status wick_ag_index_select(const wick_tensor *a, int64_t dim, const wick_tensor *idx, wick_tensor **out);
wick_status wick_ag_gather(const wick_tensor *a, int64_t dim, const wick_tensor *idx, wick_tensor **out);
wick_status wick_ag_scatter(const wick_tensor *a, int64_t dim, const wick_tensor *idx, const wick_tensor *src,
                            int reduce, wick_tensor **out);
wick_status wick_ag_masked_fill(const wick_tensor *a, const wick_tensor *mask, const wick_tensor *value,
                                wick_tensor **out);
wick_status wick_ag_cat(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out);
wick_status wick_ag_stack(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out);
wick_status wick_ag_index(const wick_tensor *t, int nitems, const wick_index_item *items, wick_tensor **out);

/* Sums g over broadcast dims so that it has the given shape (new reference). */
wick_status wick_sum_to(const wick_tensor *g, int ndim, const int64_t *sizes, wick_tensor **out);

#endif
