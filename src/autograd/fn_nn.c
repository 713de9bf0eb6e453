/* Differentiable conv2d, pooling, batch/layer norm, embedding and dropout: the core op
 * (src/core/nn.h), then a node whose backward calls the op's dedicated backward. Options and
 * input shapes a backward needs travel in the node's `extra` block. */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fn_nn.h"

/* The node's `extra` state, or the error of a second backward through a freed graph (every
 * node made by node_with has extra until it is released). */
static wick_status extra_of(wick_node *n, void **e) {
  WICK_TRY(wick_node_check_live(n));
  *e = n->extra;
  return WICK_OK;
}

/* A node for `nin` inputs with a copy of `size` bytes of extra state. */
static wick_status node_with(const char *name, wick_backward_fn fn, int nin, const wick_tensor *const *ins,
                             const void *extra, size_t size, wick_node **out) {
  WICK_TRY(wick_node_new(name, fn, nin, ins, 1, out));
  if (size) {
    void *e = malloc(size);
    if (!e) {
      wick_node_release(*out);
      return wick_errorf(WICK_ERR_OOM, "out of memory recording %s", name);
    }
    memcpy(e, extra, size);
    (*out)->extra = e;
    (*out)->free_extra = free;
  }
  return WICK_OK;
}

/* Saves the non-NULL tensors in order; slot[i] = their index in n->saved (-1 when NULL). */
static wick_status save_all(wick_node *n, int k, const wick_tensor *const *ts, int *slot) {
  for (int i = 0; i < k; i++) {
    slot[i] = -1;
    if (!ts[i]) continue;
    slot[i] = n->nsaved;
    WICK_TRY(wick_node_save(n, ts[i]));
  }
  return WICK_OK;
}

static bool need(wick_node *n, int i) { return n->next[i].node != NULL; }

/* ---- conv2d: saved input, weight ---- */

static wick_status conv2d_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *x, *w;
  void *e = NULL;
  WICK_TRY(wick_node_saved(n, 0, &x));
  WICK_TRY(wick_node_saved(n, 1, &w));
  WICK_TRY(extra_of(n, &e));
  return wick_conv2d_backward(gout[0], x, w, e, need(n, 0), need(n, 1), need(n, 2), &gin[0], &gin[1], &gin[2]);
}

wick_status wick_ag_conv2d(const wick_tensor *input, const wick_tensor *weight,
                           const wick_tensor *bias, const wick_conv2d_opts *o, wick_tensor **out) {
  WICK_TRY(wick_conv2d(input, weight, bias, o, out));
  const wick_tensor *ins[3] = {input, weight, bias};
  if (!wick_ag_needed(3, ins)) return WICK_OK;
  wick_node *n;
  wick_status s = node_with("ConvolutionBackward0", conv2d_backward, 3, ins, o, sizeof *o, &n);
  if (s) return wick_ag_done(s, out);
  if (!(s = wick_node_save(n, input))) s = wick_node_save(n, weight);
  return wick_node_finish(s, n, out);
}

/* ---- pooling: options and the input's shape in extra ---- */

typedef struct {
  wick_pool2d_opts o;
  int ndim;
  int64_t sizes[4];
  int64_t oh, ow; /* adaptive */
} pool_state;

static wick_status max_pool_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *ix;
  pool_state *p = NULL;
  WICK_TRY(wick_node_saved(n, 0, &ix));
  WICK_TRY(extra_of(n, (void **)&p));
  return wick_max_pool2d_backward(gout[0], ix, p->ndim, p->sizes, &p->o, &gin[0]);
}

static wick_status avg_pool_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  pool_state *p = NULL;
  WICK_TRY(extra_of(n, (void **)&p));
  return wick_avg_pool2d_backward(gout[0], p->ndim, p->sizes, &p->o, &gin[0]);
}

static wick_status adaptive_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  pool_state *p = NULL;
  WICK_TRY(extra_of(n, (void **)&p));
  return wick_adaptive_avg_pool2d_backward(gout[0], p->ndim, p->sizes, &gin[0]);
}

static wick_status record_pool(const char *name, wick_backward_fn fn, const wick_tensor *input,
                               const wick_pool2d_opts *o, const wick_tensor *save, wick_tensor **out) {
  pool_state p;
  memset(&p, 0, sizeof p);
  if (o) p.o = *o;
  p.ndim = input->ndim;
  memcpy(p.sizes, input->sizes, sizeof(int64_t) * (size_t)input->ndim);
  wick_node *n;
  wick_status s = node_with(name, fn, 1, &input, &p, sizeof p, &n);
  if (s) return wick_ag_done(s, out);
  if (save) s = wick_node_save(n, save);
  return wick_node_finish(s, n, out);
}

wick_status wick_ag_max_pool2d(const wick_tensor *input, const wick_pool2d_opts *o,
                               wick_tensor **out, wick_tensor **indices) {
  wick_tensor *ix;
  WICK_TRY(wick_max_pool2d(input, o, out, &ix));
  wick_status s = WICK_OK;
  if (wick_ag_needed(1, &input))
    s = record_pool("MaxPool2DWithIndicesBackward0", max_pool_backward, input, o, ix, out);
  if (!s && indices) *indices = ix;
  else wick_tensor_release(ix);
  return s;
}

wick_status wick_ag_avg_pool2d(const wick_tensor *input, const wick_pool2d_opts *o, wick_tensor **out) {
  WICK_TRY(wick_avg_pool2d(input, o, out));
  if (!wick_ag_needed(1, &input)) return WICK_OK;
  return record_pool("AvgPool2DBackward0", avg_pool_backward, input, o, NULL, out);
}

wick_status wick_ag_adaptive_avg_pool2d(const wick_tensor *input, int64_t oh, int64_t ow,
                                        wick_tensor **out) {
  WICK_TRY(wick_adaptive_avg_pool2d(input, oh, ow, out));
  if (!wick_ag_needed(1, &input)) return WICK_OK;
  return record_pool("AdaptiveAvgPool2DBackward0", adaptive_backward, input, NULL, NULL, out);
}

/* The node of batch_norm / layer_norm over ins = {input, weight, bias}: saves input, mean,
 * rstd[, weight]; ints[0] = i0, ints[1] the weight's slot. */
static wick_status record_norm(const char *name, wick_backward_fn fn, const wick_tensor *const *ins,
                               const wick_tensor *mean, const wick_tensor *rstd, int64_t i0, wick_tensor **out) {
  if (!wick_ag_needed(3, ins)) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new(name, fn, 3, ins, 1, &n);
  if (s) return wick_ag_done(s, out);
  const wick_tensor *sv[4] = {ins[0], mean, rstd, ins[1]};
  int slot[4] = {-1, -1, -1, -1};
  n->ints[0] = i0;
  s = save_all(n, 4, sv, slot);
  n->ints[1] = slot[3];
  return wick_node_finish(s, n, out);
}

/* ---- batch_norm: saved input, mean, invstd[, weight]; ints: training, weight slot ---- */

static wick_status batch_norm_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *x, *m, *is, *w;
  WICK_TRY(wick_node_saved(n, 0, &x));
  WICK_TRY(wick_node_saved(n, 1, &m));
  WICK_TRY(wick_node_saved(n, 2, &is));
  WICK_TRY(wick_node_saved_opt(n, n->ints[1], &w));
  return wick_batch_norm_backward(gout[0], x, w, m, is, n->ints[0] != 0, need(n, 0), need(n, 1), need(n, 2),
                                  &gin[0], &gin[1], &gin[2]);
}

wick_status wick_ag_batch_norm(const wick_tensor *input, wick_tensor *running_mean,
                               wick_tensor *running_var, const wick_tensor *weight,
                               const wick_tensor *bias, bool training, double momentum,
                               double eps, wick_tensor **out) {
  wick_tensor *m, *is;
  WICK_TRY(wick_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps, out, &m, &is));
  const wick_tensor *ins[3] = {input, weight, bias};
  wick_status s = record_norm("NativeBatchNormBackward0", batch_norm_backward, ins, m, is, training, out);
  wick_tensor_release(m);
  wick_tensor_release(is);
  return s;
}

/* ---- layer_norm: saved input, mean, rstd[, weight]; ints: nnorm, weight slot ---- */

static wick_status layer_norm_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *x, *m, *rs, *w;
  WICK_TRY(wick_node_saved(n, 0, &x));
  WICK_TRY(wick_node_saved(n, 1, &m));
  WICK_TRY(wick_node_saved(n, 2, &rs));
  WICK_TRY(wick_node_saved_opt(n, n->ints[1], &w));
  return wick_layer_norm_backward(gout[0], x, (int)n->ints[0], w, m, rs, need(n, 0), need(n, 1), need(n, 2),
                                  &gin[0], &gin[1], &gin[2]);
}

wick_status wick_ag_layer_norm(const wick_tensor *input, int nnorm, const int64_t *shape,
                               const wick_tensor *weight, const wick_tensor *bias, double eps,
                               wick_tensor **out) {
  wick_tensor *m, *rs;
  WICK_TRY(wick_layer_norm(input, nnorm, shape, weight, bias, eps, out, &m, &rs));
  const wick_tensor *ins[3] = {input, weight, bias};
  wick_status s = record_norm("NativeLayerNormBackward0", layer_norm_backward, ins, m, rs, nnorm, out);
  wick_tensor_release(m);
  wick_tensor_release(rs);
  return s;
}

/* ---- embedding: saved indices; ints: V, has_padding, padding_idx ---- */

static wick_status embedding_backward(wick_node *n, wick_tensor *const *gout, wick_tensor **gin) {
  wick_tensor *ix;
  WICK_TRY(wick_node_saved(n, 0, &ix));
  return wick_embedding_backward(gout[0], ix, n->ints[0], n->ints[1] != 0, n->ints[2], &gin[0]);
}

wick_status wick_ag_embedding(const wick_tensor *indices, const wick_tensor *weight,
                              bool has_padding, int64_t padding_idx, wick_tensor **out) {
  if (weight->ndim == 2 && has_padding) {
    int64_t V = weight->sizes[0];
    if (padding_idx < -V || padding_idx >= V)
      return wick_errorf(WICK_ERR_INDEX, "embedding: padding_idx must be within num_embeddings (got %lld for %lld embeddings)",
                         (long long)padding_idx, (long long)V);
    if (padding_idx < 0) padding_idx += V;
  }
  WICK_TRY(wick_embedding(indices, weight, out));
  if (!wick_ag_needed(1, &weight) || !wick_dtype_is_float(weight->dtype)) return WICK_OK;
  wick_node *n;
  wick_status s = wick_node_new("EmbeddingBackward0", embedding_backward, 1, &weight, 1, &n);
  if (s) return wick_ag_done(s, out);
  n->ints[0] = weight->sizes[0];
  n->ints[1] = has_padding;
  n->ints[2] = padding_idx;
  return wick_node_finish(wick_node_save(n, indices), n, out);
}

/* ---- dropout: input * noise, recorded as the product it is (noise needs no grad) ---- */

wick_status wick_ag_dropout(const wick_tensor *input, double p, bool training,
                            wick_generator *gen, wick_tensor **out) {
  WICK_TRY(wick_dropout_check(p));
  if (!training || p == 0) {
    *out = wick_tensor_retain((wick_tensor *)input);
    return WICK_OK;
  }
  if (!wick_dtype_is_float(input->dtype))
    return wick_errorf(WICK_ERR_DTYPE, "dropout: expected a floating point input, but got %s",
                       wick_dtype_name(input->dtype));
  wick_tensor *noise, *k = NULL;
  wick_status s;
  if (p == 1) {
    s = wick_tensor_zeros(input->dtype, input->device, input->ndim, input->sizes, &noise);
  } else {
    /* PyTorch's _dropout_impl: noise = empty_like(input).bernoulli_(1 - p).div_(1 - p) */
    s = wick_tensor_new(input->dtype, input->device, input->ndim, input->sizes, &noise);
    if (s) return s;
    s = wick_bernoulli_(noise, 1 - p, gen);
    if (!s) s = wick_tensor_scalar(WICK_DTYPE_F64, 1 - p, 0, &k);
    if (!s) {
      k->wrapped_number = true;
      s = wick_binary_(WICK_BIN_DIV, noise, k);
    }
    wick_tensor_release(k);
    if (s) { wick_tensor_release(noise); return s; }
  }
  if (s) return s;
  s = wick_ag_binary(WICK_BIN_MUL, input, noise, out);
  wick_tensor_release(noise);
  return s;
}
