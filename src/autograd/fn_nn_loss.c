/* Differentiable losses: cross entropy (with its fused softmax - onehot backward), nll, and
 * the elementwise losses. The class weight, pos_weight and BCE's weight are constants here
 * (no gradient), as in most uses of PyTorch's. */
#include "fn_nn.h"

/* Node state: saved[0] input, saved[1] target, then the optional tensors by slot in ints;
 * ints[0] reduction, ints[1] ignore_index, ints[2..] slots; scalars[0..1] the loss scale,
 * scalars[2] label smoothing. */
enum { I_RED, I_IGNORE, I_LSE, I_WEIGHT, I_POSW, I_KIND };

static wick_status save_opt(wick_node *n, const wick_tensor *t, int64_t *slot) {
  *slot = -1;
  if (!t) return WICK_OK;
  *slot = n->nsaved;
  return wick_node_save(n, t);
}

/* The ce options back from the node (weight borrowed from the saved tensors). */
static wick_status ce_opts_of(wick_node *n, wick_ce_opts *o, wick_tensor **x, wick_tensor **t) {
  WICK_TRY(wick_node_saved(n, 0, x));
  WICK_TRY(wick_node_saved(n, 1, t));
  wick_tensor *w;
  WICK_TRY(wick_node_saved_opt(n, n->ints[I_WEIGHT], &w));
  o->weight = w;
  o->reduction = (wick_reduction)n->ints[I_RED];
  o->ignore_index = n->ints[I_IGNORE];
  o->label_smoothing = n->scalars[2];
  return WICK_OK;
}

static wick_status record(const char *name, wick_backward_fn fn, const wick_tensor *x, const wick_tensor *t,
                          const wick_ce_opts *o, const wick_tensor *lse, wick_loss_scale sc, wick_tensor **out) {
  const wick_tensor *ins[2] = {x, t};
  wick_node *n;
  wick_status s = wick_node_new(name, fn, 2, ins, 1, &n);
  if (s) { wick_tensor_release(*out); *out = NULL; return s; }
  n->ints[I_RED] = o->reduction;
  n->ints[I_IGNORE] = o->ignore_index;
  n->scalars[0] = sc.a;
  n->scalars[1] = sc.b;
  n->scalars[2] = o->label_smoothing;
  if (!(s = wick_node_save(n, x)) && !(s = wick_node_save(n, t)) && !(s = save_opt(n, lse, &n->ints[I_LSE])))
    s = save_opt(n, o->weight, &n->ints[I_WEIGHT]);
  return wick_node_finish(s, n, out);
}

static wick_status ce_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_ce_opts o;
  wick_tensor *x, *t, *lse;
  WICK_TRY(ce_opts_of(n, &o, &x, &t));
  WICK_TRY(wick_node_saved(n, (int)n->ints[I_LSE], &lse));
  wick_loss_scale sc = {n->scalars[0], n->scalars[1]};
  return wick_cross_entropy_backward(gout[0], x, t, &o, lse, sc, n->next[0].node != NULL,
                                     n->next[1].node != NULL, &gin[0], &gin[1]);
}

wick_status wick_ag_cross_entropy(const wick_tensor *logits, const wick_tensor *target,
                                  const wick_ce_opts *o, wick_tensor **out) {
  wick_tensor *lse;
  wick_loss_scale sc;
  WICK_TRY(wick_cross_entropy(logits, target, o, out, &lse, &sc));
  const wick_tensor *ins[2] = {logits, target};
  wick_status s = WICK_OK;
  if (wick_ag_needed(2, ins)) s = record("CrossEntropyLossBackward0", ce_backward, logits, target, o, lse, sc, out);
  wick_tensor_release(lse);
  return s;
}

static wick_status nll_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_ce_opts o;
  wick_tensor *x, *t;
  WICK_TRY(ce_opts_of(n, &o, &x, &t));
  wick_loss_scale sc = {n->scalars[0], n->scalars[1]};
  if (!n->next[0].node) return WICK_OK;
  return wick_nll_loss_backward(gout[0], x, t, &o, sc, &gin[0]);
}

wick_status wick_ag_nll_loss(const wick_tensor *log_probs, const wick_tensor *target,
                             const wick_ce_opts *o, wick_tensor **out) {
  wick_loss_scale sc;
  WICK_TRY(wick_nll_loss(log_probs, target, o, out, &sc));
  if (!wick_ag_needed(1, &log_probs)) return WICK_OK;
  return record("NllLossBackward0", nll_backward, log_probs, target, o, NULL, sc, out);
}

static wick_status elem_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *x, *t, *w, *pw;
  WICK_TRY(wick_node_saved(n, 0, &x));
  WICK_TRY(wick_node_saved(n, 1, &t));
  WICK_TRY(wick_node_saved_opt(n, n->ints[I_WEIGHT], &w));
  WICK_TRY(wick_node_saved_opt(n, n->ints[I_POSW], &pw));
  return wick_elem_loss_backward((wick_loss_kind)n->ints[I_KIND], gout[0], x, t, w, pw,
                                 (wick_reduction)n->ints[I_RED], n->next[0].node != NULL,
                                 n->next[1].node != NULL, &gin[0], &gin[1]);
}

wick_status wick_ag_elem_loss(wick_loss_kind kind, const wick_tensor *input,
                              const wick_tensor *target, const wick_tensor *weight,
                              const wick_tensor *pos_weight, wick_reduction r, wick_tensor **out) {
  WICK_TRY(wick_elem_loss(kind, input, target, weight, pos_weight, r, out));
  const wick_tensor *ins[2] = {input, target};
  if (!wick_ag_needed(2, ins)) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new(wick_loss_node(kind), elem_backward, 2, ins, 1, &n);
  if (s) { wick_tensor_release(*out); *out = NULL; return s; }
  n->ints[I_KIND] = kind;
  n->ints[I_RED] = r;
  if (!(s = wick_node_save(n, input)) && !(s = wick_node_save(n, target)) &&
      !(s = save_opt(n, weight, &n->ints[I_WEIGHT])))
    s = save_opt(n, pos_weight, &n->ints[I_POSW]);
  return wick_node_finish(s, n, out);
}
