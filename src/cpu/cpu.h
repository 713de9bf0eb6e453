/* The CPU backend's kernels (one file per family); collected into wick_cpu_backend. */
#ifndef WICK_CPU_H
#define WICK_CPU_H

#include "../core/backend.h"

wick_status wick_cpu_copy(wick_tensor *dst, const wick_tensor *src);
wick_status wick_cpu_fill(wick_tensor *dst, double v, int64_t iv);
wick_status wick_cpu_binary(wick_binop op, wick_tensor *out, const wick_tensor *a, const wick_tensor *b);
wick_status wick_cpu_unary(wick_unop op, wick_tensor *out, const wick_tensor *a, double p0, double p1);
wick_status wick_cpu_where(wick_tensor *out, const wick_tensor *cond, const wick_tensor *a,
                           const wick_tensor *b);
wick_status wick_cpu_matmul(wick_tensor *out, const wick_tensor *a, const wick_tensor *b);

#endif
