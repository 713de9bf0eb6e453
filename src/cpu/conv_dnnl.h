/* Convolution through oneDNN when the build has it (WICK_HAVE_DNNL): f32 only, primitives
 * cached by shape, activations and weights reordered to oneDNN's blocked layouts and back at
 * the call's boundary. Each function returns true when it did the work, false when the caller
 * should run its own im2col path (no oneDNN, f64, a shape oneDNN refused, or WICK_CONV=im2col). */
#ifndef WICK_CPU_CONV_DNNL_H
#define WICK_CPU_CONV_DNNL_H

#include <stdbool.h>

#include "../core/nn_geom.h"

bool wick_dnnl_conv2d(wick_tensor *out, const wick_tensor *in, const wick_tensor *w,
                      const wick_tensor *bias, const wick_conv_geom *g);
/* gin, gw, gb as wick_cpu_conv2d_backward (any may be NULL) */
bool wick_dnnl_conv2d_backward(const wick_tensor *gout, const wick_tensor *in, const wick_tensor *w,
                               const wick_conv_geom *g, wick_tensor *gin, wick_tensor *gw,
                               wick_tensor *gb);
/* "oneDNN <version>" when built with it and enabled, else NULL */
const char *wick_dnnl_version(void);

#endif
