/* The tensor operations of wick's C API. Each checks its arguments, reports misuse as a
 * wick_status with a message naming the op and the values, and hands back a NEW reference
 * in *out. Device work goes through the backend table (backend.h). */
#ifndef WICK_OPS_H
#define WICK_OPS_H

#include "backend.h"
#include "tensor.h"

/* ---- views (view.c): share storage, never copy ---- */
/* sizes may hold one -1 to infer. Fails if the strides do not allow a view. */
wick_status wick_view(const wick_tensor *t, int ndim, const int64_t *sizes, wick_tensor **out);
/* A view when possible, a copy otherwise. */
wick_status wick_reshape(const wick_tensor *t, int ndim, const int64_t *sizes, wick_tensor **out);
wick_status wick_permute(const wick_tensor *t, int ndim, const int64_t *dims, wick_tensor **out);
wick_status wick_transpose(const wick_tensor *t, int64_t d0, int64_t d1, wick_tensor **out);
wick_status wick_unsqueeze(const wick_tensor *t, int64_t dim, wick_tensor **out);
/* all == true squeezes every size-1 dim; else only `dim` (a no-op if its size is not 1). */
wick_status wick_squeeze(const wick_tensor *t, bool all, int64_t dim, wick_tensor **out);
/* -1 keeps a size; new leading dims may be added. */
wick_status wick_expand(const wick_tensor *t, int ndim, const int64_t *sizes, wick_tensor **out);
wick_status wick_flatten(const wick_tensor *t, int64_t start, int64_t end, wick_tensor **out);
wick_status wick_narrow(const wick_tensor *t, int64_t dim, int64_t start, int64_t length,
                        wick_tensor **out);
/* Python-style slice t[start:stop:step] along dim (clamped like Python; step > 0). */
wick_status wick_slice(const wick_tensor *t, int64_t dim, int64_t start, int64_t stop,
                       int64_t step, wick_tensor **out);
wick_status wick_select(const wick_tensor *t, int64_t dim, int64_t index, wick_tensor **out);
wick_status wick_diagonal(const wick_tensor *t, wick_tensor **out);
/* Returns t itself (retained) when already contiguous. */
wick_status wick_contiguous(const wick_tensor *t, wick_tensor **out);
wick_status wick_broadcast_shapes(const char *op, int na, const int64_t *a, int nb,
                                  const int64_t *b, int *nout, int64_t *out);

/* ---- elementwise (ops.c) ---- */
/* The dtype of `a op b` under PyTorch's rules (wrapped numbers are weak). */
wick_dtype wick_result_type(const wick_tensor *a, const wick_tensor *b);
wick_status wick_binary(wick_binop op, const wick_tensor *a, const wick_tensor *b, wick_tensor **out);
/* a op= b; b broadcasts to a; the result must be castable to a's dtype. */
wick_status wick_binary_(wick_binop op, wick_tensor *a, const wick_tensor *b);
wick_status wick_unary(wick_unop op, const wick_tensor *a, double p0, double p1, wick_tensor **out);
wick_status wick_unary_(wick_unop op, wick_tensor *a, double p0, double p1);
wick_status wick_where(const wick_tensor *cond, const wick_tensor *a, const wick_tensor *b,
                       wick_tensor **out);
/* dst[...] = src, with src broadcast to dst and converted to dst's dtype. */
wick_status wick_copy_(wick_tensor *dst, const wick_tensor *src);
wick_status wick_fill_(wick_tensor *t, double v, int64_t iv);
wick_status wick_clone(const wick_tensor *t, wick_tensor **out);
/* A tensor of the given dtype/device; returns t retained when nothing changes and !copy. */
wick_status wick_to(const wick_tensor *t, wick_dtype dtype, wick_device dev, bool copy,
                    wick_tensor **out);
/* torch.matmul semantics (1-D, 2-D, batched with broadcasting). */
wick_status wick_matmul(const wick_tensor *a, const wick_tensor *b, wick_tensor **out);
wick_status wick_mm(const wick_tensor *a, const wick_tensor *b, wick_tensor **out);
wick_status wick_bmm(const wick_tensor *a, const wick_tensor *b, wick_tensor **out);
/* Reads element 0 of a one-element tensor. */
wick_status wick_item(const wick_tensor *t, double *v, int64_t *iv);

/* ---- reductions (reduce.c) ---- */
/* Reduces over the dims listed (ndims == 0 means all dims). */
wick_status wick_reduce(wick_redop op, const wick_tensor *a, int ndims, const int64_t *dims,
                        bool keepdim, wick_tensor **out);
wick_status wick_mean(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                      wick_tensor **out);
/* correction: 1 = unbiased (PyTorch's default), 0 = population. */
wick_status wick_var(const wick_tensor *a, int ndims, const int64_t *dims, double correction,
                     bool keepdim, bool take_sqrt, wick_tensor **out);
/* argmax/argmin over one dim, or over the flattened tensor when has_dim is false. */
wick_status wick_argreduce(wick_redop op, const wick_tensor *a, bool has_dim, int64_t dim,
                           bool keepdim, wick_tensor **out);
/* max/min along a dim: values and indices. */
wick_status wick_reduce_with_indices(wick_redop op, const wick_tensor *a, int64_t dim, bool keepdim,
                                     wick_tensor **values, wick_tensor **indices);
wick_status wick_cumsum(const wick_tensor *a, int64_t dim, wick_tensor **out);
wick_status wick_cumprod(const wick_tensor *a, int64_t dim, wick_tensor **out);
wick_status wick_softmax(const wick_tensor *a, int64_t dim, bool log, wick_tensor **out);

/* ---- indexing and joining (index.c) ---- */
wick_status wick_index_select(const wick_tensor *a, int64_t dim, const wick_tensor *idx,
                              wick_tensor **out);
wick_status wick_gather(const wick_tensor *a, int64_t dim, const wick_tensor *idx, wick_tensor **out);
/* Out-of-place: returns a copy of a with src scattered in; reduce 0 assign, 1 add. */
wick_status wick_scatter(const wick_tensor *a, int64_t dim, const wick_tensor *idx,
                         const wick_tensor *src, int reduce, wick_tensor **out);
wick_status wick_scatter_(wick_tensor *a, int64_t dim, const wick_tensor *idx,
                          const wick_tensor *src, int reduce);
wick_status wick_masked_fill(const wick_tensor *a, const wick_tensor *mask, const wick_tensor *value,
                             wick_tensor **out);
wick_status wick_masked_fill_(wick_tensor *a, const wick_tensor *mask, const wick_tensor *value);
/* Elements of a where mask is true, as a 1-d tensor. */
wick_status wick_masked_select(const wick_tensor *a, const wick_tensor *mask, wick_tensor **out);
wick_status wick_nonzero(const wick_tensor *a, wick_tensor **out);
wick_status wick_cat(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out);
wick_status wick_stack(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out);

#endif
