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
/* The gradient of a unary op: g * op'(a), given a and y = op(a). */
wick_status wick_unary_backward(wick_unop op, const wick_tensor *g, const wick_tensor *a,
                                const wick_tensor *y, double p0, double p1, wick_tensor **out);
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
/* Reads element 0 of a one-element tensor. */
wick_status wick_item(const wick_tensor *t, double *v, int64_t *iv);

/* ---- PyTorch's per-op dtype rules (dtype_rules.c) ---- */
/* "Long", "Int", "Byte", "Bool", ...: the name in PyTorch's "not implemented for" errors. */
const char *wick_dtype_torch_name(wick_dtype d);
/* Refuses dtypes op is not defined for; may change *ct, the result dtype. */
wick_status wick_unary_check(wick_unop op, const char *name, const wick_tensor *a, double p0,
                             double p1, wick_dtype *ct);
wick_status wick_binary_check(wick_binop op, const char *name, const wick_tensor *a,
                              const wick_tensor *b, wick_dtype ct);

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
wick_status wick_softmax(const wick_tensor *a, int64_t dim, bool log, wick_tensor **out);
/* "No dtype given" for the *_ex forms below: the op's default result dtype. */
#define WICK_DTYPE_NONE WICK_DTYPE_COUNT
/* The general reduction: `name` is the op named in errors (NULL: "sum", "prod", "amax", ...),
 * dtype is PyTorch's dtype= for sum/prod (a is converted to it first; the result has it). */
wick_status wick_reduce_ex(const char *name, wick_redop op, const wick_tensor *a, int ndims,
                           const int64_t *dims, bool keepdim, wick_dtype dtype, wick_tensor **out);
/* mean with dtype= (which must be a float dtype; it also allows integer inputs). */
wick_status wick_mean_ex(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                         wick_dtype dtype, wick_tensor **out);
/* cumsum (prod false) / cumprod with dtype= (integer inputs default to i64). */
wick_status wick_cumulative(const wick_tensor *a, int64_t dim, bool prod, wick_dtype dtype,
                            wick_tensor **out);
/* log(sum(exp(a))) over dims, stable; integer inputs give f32. */
wick_status wick_logsumexp(const wick_tensor *a, int ndims, const int64_t *dims, bool keepdim,
                           wick_tensor **out);
/* p-norm over dims: p = 2, 1, INFINITY (max |x|), -INFINITY (min |x|), 0 (non-zero count), any p. */
wick_status wick_norm(const wick_tensor *a, double p, int ndims, const int64_t *dims, bool keepdim,
                      wick_tensor **out);
/* Number of non-zero elements over dims (i64). */
wick_status wick_count_nonzero(const wick_tensor *a, int ndims, const int64_t *dims,
                               wick_tensor **out);

/* ---- indexing and joining (index.c; cat/stack in join.c; t[...] in subscript.c) ----
 * Index tensors are i64 (index_select and index_fill_/copy_/add_ also take i32); every index
 * is range-checked before memory is touched; negative indices are errors here, as in
 * PyTorch (only wick_index wraps them). */
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
/* a[..., idx[i], ...] = value (0-d) / src[..., i, ...] along dim; idx 0-d or 1-d. src has a's
 * shape except numel(idx) at dim. Duplicate indices: the last write wins (copy), all add. */
wick_status wick_index_fill_(wick_tensor *a, int64_t dim, const wick_tensor *idx,
                             const wick_tensor *value);
wick_status wick_index_copy_(wick_tensor *a, int64_t dim, const wick_tensor *idx,
                             const wick_tensor *src);
wick_status wick_index_add_(wick_tensor *a, int64_t dim, const wick_tensor *idx,
                            const wick_tensor *src, double alpha);
wick_status wick_cat(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out);
wick_status wick_stack(int n, const wick_tensor *const *ts, int64_t dim, wick_tensor **out);

/* t[items...] as in PyTorch: ints select, slices narrow, NEWAXIS unsqueezes, ELLIPSIS spans
 * the dims not indexed, tensors (i64/i32, negative wrapped; bool masks) index by advanced
 * indexing. The result is a view unless a tensor item is present. */
typedef enum {
  WICK_INDEX_INT,      /* start = the index */
  WICK_INDEX_SLICE,    /* start, stop, step (clamped like Python; step > 0) */
  WICK_INDEX_ELLIPSIS,
  WICK_INDEX_NEWAXIS,
  WICK_INDEX_TENSOR,   /* tensor (borrowed) */
} wick_index_kind;
typedef struct {
  wick_index_kind kind;
  int64_t start, stop, step;
  const wick_tensor *tensor;
} wick_index_item;
wick_status wick_index(const wick_tensor *t, int n, const wick_index_item *items, wick_tensor **out);
/* t[items...] = value (broadcast to the indexed shape, converted to t's dtype). */
wick_status wick_index_put_(wick_tensor *t, int n, const wick_index_item *items,
                            const wick_tensor *value);

#endif
