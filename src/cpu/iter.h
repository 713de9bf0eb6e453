/* A strided N-operand iterator for CPU kernels. Operands share one shape; dims that are
 * contiguous for every operand are merged, and the loop calls an inner function on runs of
 * the last dim, in parallel (OpenMP) once the work is large enough. */
#ifndef WICK_CPU_ITER_H
#define WICK_CPU_ITER_H

#include <stdint.h>

#include "../core/tensor.h"

#define WICK_ITER_MAX_OPS 4
/* Below this many elements a loop runs on one thread. */
#define WICK_GRAIN 32768

typedef struct {
  int nops, ndim;
  int64_t numel;
  int64_t sizes[WICK_MAX_DIMS];
  int64_t strides[WICK_ITER_MAX_OPS][WICK_MAX_DIMS]; /* bytes */
  char *data[WICK_ITER_MAX_OPS];
} wick_iter;

/* data: operand pointers; strides: operand byte strides for the inner run of n elements. */
typedef void (*wick_inner_fn)(char **data, const int64_t *strides, int64_t n, void *ctx);

/* ts[0] is usually the output; every ts[i] has ts[0]'s shape. */
void wick_iter_init(wick_iter *it, int nops, const wick_tensor *const *ts);
/* Runs fn over every element; work_per_elem scales the parallel threshold (1 = cheap). */
void wick_iter_run(const wick_iter *it, wick_inner_fn fn, void *ctx, int work_per_elem);
/* True when every operand is contiguous in the same order (a single run). */
static inline int wick_iter_is_flat(const wick_iter *it) { return it->ndim <= 1; }

int wick_num_threads(void);

#endif
