/* The CPU backend's kernels (one file per family); collected into wick_cpu_backend. */
#ifndef WICK_CPU_H
#define WICK_CPU_H

#include "../core/backend.h"

wick_status wick_cpu_copy(wick_tensor *dst, const wick_tensor *src);
wick_status wick_cpu_fill(wick_tensor *dst, double v, int64_t iv);
wick_status wick_cpu_binary(wick_binop op, wick_tensor *out, const wick_tensor *a, const wick_tensor *b);
wick_status wick_cpu_unary(wick_unop op, wick_tensor *out, const wick_tensor *a, double p0, double p1);
wick_status wick_cpu_unary_backward(wick_unop op, wick_tensor *gin, const wick_tensor *g,
                                   const wick_tensor *a, const wick_tensor *y, double p0, double p1);
wick_status wick_cpu_where(wick_tensor *out, const wick_tensor *cond, const wick_tensor *a,
                           const wick_tensor *b);
wick_status wick_cpu_matmul(wick_tensor *out, const wick_tensor *a, const wick_tensor *b);
wick_status wick_cpu_random(wick_tensor *dst, wick_generator *gen, int kind, double p0, double p1);
/* softmax.c: the fused softmax slots */
wick_status wick_cpu_softmax(wick_tensor *out, const wick_tensor *a, int dim, bool log);
wick_status wick_cpu_softmax_backward(wick_tensor *gin, const wick_tensor *g, const wick_tensor *y,
                                      int dim, bool log);
/* reduce.c */
wick_status wick_cpu_reduce(wick_redop op, wick_tensor *out, const wick_tensor *a, int nred);
wick_status wick_cpu_cumulative(wick_tensor *out, const wick_tensor *a, int dim, int prod);
/* index.c: the index_select/gather/scatter slots (src of scatter has idx's shape), and the
 * host-side halves of nonzero that core runs on a CPU copy (count, then fill [n, ndim] i64). */
wick_status wick_cpu_index_select(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx);
wick_status wick_cpu_gather(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx);
wick_status wick_cpu_scatter(wick_tensor *dst, int dim, const wick_tensor *idx, const wick_tensor *src,
                             int reduce);
int64_t wick_cpu_count_nonzero(const wick_tensor *a);
void wick_cpu_nonzero_fill(const wick_tensor *a, wick_tensor *out);

#endif
