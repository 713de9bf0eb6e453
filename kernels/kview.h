/* The plain-C boundary between the CUDA backend row (kernels/register.c, which sees
 * wick_tensor) and the .cu launchers (which see only this POD view: tensor.h uses C11 _Atomic,
 * which C++ does not parse). Every launcher checks its launch and returns a status naming op. */
#ifndef WICK_KVIEW_H
#define WICK_KVIEW_H

#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/dtype.h"
#include "core/status.h"

#define WICK_KMAX_DIMS 8 /* == WICK_MAX_DIMS (register.c checks) */

/* One operand: device pointer to element [0, ..., 0], dtype, shape and element strides. */
typedef struct {
  void *data;
  int dtype; /* wick_dtype */
  int ndim;
  int device;
  int64_t sizes[WICK_KMAX_DIMS];
  int64_t strides[WICK_KMAX_DIMS];
} wick_kview;

/* From the runtime contract (src/cuda/cuda_rt.h), declared here so that .cu files need not
 * include tensor.h; the signatures must stay identical. */
wick_status wick_cuda_launch_check(const char *op);
wick_status wick_cuda_status(cudaError_t e, const char *op);
void *wick_cuda_alloc(size_t nbytes, int device);
void wick_cuda_free(void *p, size_t nbytes, int device);
cudaStream_t wick_cuda_current_stream(int device);

/* Launchers: operands share one shape unless said otherwise; all on the current device. */
/* out = a op b (wick_binop); out has a's dtype, or bool for comparisons and logical ops. */
wick_status wick_k_binary(int op, const wick_kview *out, const wick_kview *a, const wick_kview *b,
                          cudaStream_t s);
/* out = op(a) (wick_unop); out has a's dtype, or bool for logical_not and the is* tests. */
wick_status wick_k_unary(int op, const wick_kview *out, const wick_kview *a, double p0, double p1,
                         cudaStream_t s);
/* gin = g * d op(a)/da with y = op(a); all one dtype. */
wick_status wick_k_unary_backward(int op, const wick_kview *gin, const wick_kview *g,
                                  const wick_kview *a, const wick_kview *y, double p0, double p1,
                                  cudaStream_t s);
/* out = cond ? a : b (cond bool). */
wick_status wick_k_where(const wick_kview *out, const wick_kview *cond, const wick_kview *a,
                         const wick_kview *b, cudaStream_t s);
/* Reduces the last nred dims of a into out (out's shape: a's leading dims). */
wick_status wick_k_reduce(int op, const wick_kview *out, const wick_kview *a, int nred,
                          cudaStream_t s);
/* out[i] = a[i + idx[i] * sd]: a and idx seen with out's shape (a's indexed dim has stride 0,
 * sd is its real element stride); index_select and gather. */
wick_status wick_k_take(const wick_kview *out, const wick_kview *a, const wick_kview *idx,
                        int64_t sd, cudaStream_t s);
/* dst.scatter_(dim, idx, src) (reduce 0 assign, 1 add); src has idx's shape. */
wick_status wick_k_scatter(const wick_kview *dst, int dim, const wick_kview *idx,
                           const wick_kview *src, int reduce, cudaStream_t s);
/* Random fill (WICK_RANDOM_* kinds) from Philox4x32-10 with the 64-bit key `key`. */
wick_status wick_k_random(const wick_kview *dst, uint64_t key, int kind, double p0, double p1,
                          cudaStream_t s);
/* Prefix sum (prod 0) or product along dim. */
wick_status wick_k_cumulative(const wick_kview *out, const wick_kview *a, int dim, int prod,
                              cudaStream_t s);

#ifdef __cplusplus
}
#endif

#endif
