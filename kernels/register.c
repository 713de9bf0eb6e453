/* The CUDA row's kernel slots: each turns its wick_tensor operands into plain views
 * (kview.h) and calls a launcher in the kernels/ .cu files on the device's current stream. */
#include <string.h>

#include "core/rng.h"
#include "kernels.h"
#include "kview.h"

_Static_assert(WICK_KMAX_DIMS == WICK_MAX_DIMS, "kview.h: WICK_KMAX_DIMS != WICK_MAX_DIMS");

static wick_kview kv(const wick_tensor *t) {
  wick_kview v;
  memset(&v, 0, sizeof v);
  v.data = wick_tensor_data(t);
  v.dtype = t->dtype;
  v.ndim = t->ndim;
  v.device = t->device.index;
  memcpy(v.sizes, t->sizes, sizeof(int64_t) * (size_t)t->ndim);
  memcpy(v.strides, t->strides, sizeof(int64_t) * (size_t)t->ndim);
  return v;
}

static cudaStream_t stream_of(const wick_tensor *t) { return wick_cuda_current_stream(t->device.index); }

static wick_status k_binary(wick_binop op, wick_tensor *out, const wick_tensor *a, const wick_tensor *b) {
  wick_kview o = kv(out), x = kv(a), y = kv(b);
  return wick_k_binary((int)op, &o, &x, &y, stream_of(out));
}

static wick_status k_unary(wick_unop op, wick_tensor *out, const wick_tensor *a, double p0, double p1) {
  wick_kview o = kv(out), x = kv(a);
  return wick_k_unary((int)op, &o, &x, p0, p1, stream_of(out));
}

static wick_status k_unary_backward(wick_unop op, wick_tensor *gin, const wick_tensor *g,
                                    const wick_tensor *a, const wick_tensor *y, double p0, double p1) {
  wick_kview o = kv(gin), gv = kv(g), x = kv(a), yv = kv(y);
  return wick_k_unary_backward((int)op, &o, &gv, &x, &yv, p0, p1, stream_of(gin));
}

static wick_status k_where(wick_tensor *out, const wick_tensor *cond, const wick_tensor *a,
                           const wick_tensor *b) {
  wick_kview o = kv(out), c = kv(cond), x = kv(a), y = kv(b);
  return wick_k_where(&o, &c, &x, &y, stream_of(out));
}

static wick_status k_reduce(wick_redop op, wick_tensor *out, const wick_tensor *a, int nred) {
  wick_kview o = kv(out), x = kv(a);
  return wick_k_reduce((int)op, &o, &x, nred, stream_of(a));
}

/* a seen with out's sizes and stride 0 at dim (the index supplies that coordinate). */
static wick_kview take_source(const wick_tensor *out, const wick_tensor *a, int dim) {
  wick_kview v = kv(a);
  v.ndim = out->ndim;
  memcpy(v.sizes, out->sizes, sizeof(int64_t) * (size_t)out->ndim);
  for (int d = 0; d < out->ndim; d++) v.strides[d] = d < a->ndim ? a->strides[d] : 0;
  if (dim < out->ndim) v.strides[dim] = 0;
  return v;
}

static wick_status k_index_select(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx) {
  wick_kview o = kv(out), x = take_source(out, a, dim), ir = kv(idx);
  /* idx seen with out's shape: stride 0 everywhere but dim */
  ir.ndim = out->ndim;
  memcpy(ir.sizes, out->sizes, sizeof(int64_t) * (size_t)out->ndim);
  for (int d = 0; d < out->ndim; d++) ir.strides[d] = d == dim && idx->ndim ? idx->strides[0] : 0;
  int64_t sd = dim < a->ndim ? a->strides[dim] : 0;
  return wick_k_take(&o, &x, &ir, sd, stream_of(out));
}

static wick_status k_gather(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx) {
  wick_kview o = kv(out), x = take_source(out, a, dim), ir = kv(idx);
  int64_t sd = dim < a->ndim ? a->strides[dim] : 0;
  return wick_k_take(&o, &x, &ir, sd, stream_of(out));
}

static wick_status k_scatter(wick_tensor *dst, int dim, const wick_tensor *idx, const wick_tensor *src,
                             int reduce) {
  wick_kview d = kv(dst), i = kv(idx), s = kv(src);
  return wick_k_scatter(&d, dim, &i, &s, reduce, stream_of(dst));
}

/* Each call keys Philox with 64 bits drawn from the CPU generator (core holds its lock): the
 * generator's state then decides every CUDA stream, so manual_seed, get_rng_state and
 * set_rng_state work for CUDA fills too, while the values differ from CPU fills (PyTorch's
 * CUDA generator is a separate Philox as well). */
static wick_status k_random(wick_tensor *dst, wick_generator *gen, int kind, double p0, double p1) {
  if (wick_tensor_numel(dst) == 0) return WICK_OK;
  uint64_t key = wick_generator_random64(gen);
  wick_kview d = kv(dst);
  return wick_k_random(&d, key, kind, p0, p1, stream_of(dst));
}

static wick_status k_cumulative(wick_tensor *out, const wick_tensor *a, int dim, int prod) {
  wick_kview o = kv(out), x = kv(a);
  return wick_k_cumulative(&o, &x, dim, prod, stream_of(out));
}

void wick_cuda_kernels_register(wick_backend *row) {
  row->binary = k_binary;
  row->unary = k_unary;
  row->unary_backward = k_unary_backward;
  row->where = k_where;
  row->reduce = k_reduce;
  row->index_select = k_index_select;
  row->gather = k_gather;
  row->scatter = k_scatter;
  row->random = k_random;
  row->cumulative = k_cumulative;
}
