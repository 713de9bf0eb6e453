/* The CUDA kernels behind the existing backend slots (binary, unary, unary_backward, where,
 * reduce, index_select, gather, scatter, random, cumulative). Plain C. */
#ifndef WICK_KERNELS_H
#define WICK_KERNELS_H

#include "core/backend.h"

/* Fills those slots of the CUDA row (src/cuda/backend.c calls it before registering the row);
 * alloc/free/copy/fill/matmul/check_device are the runtime's. */
void wick_cuda_kernels_register(wick_backend *row);

#endif
