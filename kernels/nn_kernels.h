/* The CUDA row's nn and optimizer slots (kernels/nn_register.c, kernels/nn_conv.c and the
 * kernels in kernels/nn_*.cu): src/cuda's backend row calls wick_cuda_nn_register once while
 * it fills the row. Plain C. */
#ifndef WICK_CUDA_NN_KERNELS_H
#define WICK_CUDA_NN_KERNELS_H

#include "core/backend.h"

/* Sets conv2d, the pooling, norm, loss and optimizer slots of `row` (backend.h's nn slots). */
void wick_cuda_nn_register(wick_backend *row);

/* conv2d through cuDNN (nn_conv.c): the conv2d / conv2d_backward slots. */
wick_status wick_cuda_conv2d(wick_tensor *out, const wick_tensor *in, const wick_tensor *w,
                             const wick_tensor *bias, const wick_conv_geom *g);
wick_status wick_cuda_conv2d_backward(const wick_tensor *gout, const wick_tensor *in,
                                      const wick_tensor *w, const wick_conv_geom *g,
                                      wick_tensor *gin, wick_tensor *gw, wick_tensor *gb);

#endif
