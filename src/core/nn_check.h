/* Helpers shared by the nn op files (nn.c, nn_norm.c, nn_loss.c): argument checks and
 * contiguous copies. Internal to src/core. */
#ifndef WICK_NN_CHECK_H
#define WICK_NN_CHECK_H

#include "backend.h"
#include "tensor.h"

/* t is f32/f64 (and on like's device, of like's dtype when like is given); `what` names t.
 * Whether the device implements the op is the slot's business (wick_nn_backend + WICK_NEED_SLOT). */
wick_status wick_nn_check_float(const char *op, const char *what, const wick_tensor *t,
                                const wick_tensor *like);
/* The device row for t's device (an error naming op when it is not built in). */
wick_status wick_nn_backend(const char *op, const wick_tensor *t, const wick_backend **b);
/* "[2, 3]" of t into buf. */
const char *wick_nn_shape(const wick_tensor *t, char *buf, int n);
/* out[i] = contiguous in[i] (NULL stays NULL); on failure nothing is left to release. */
wick_status wick_nn_contig(int n, const wick_tensor *const *in, wick_tensor **out);
/* Releases and clears ts[0..n). */
void wick_nn_release(int n, wick_tensor **ts);

#endif
