/* The geometry and argument structs that core's nn ops (nn.c, nn_norm.c, nn_loss.c) hand the
 * nn slots of the device table (backend.h) and that every backend's nn kernels read. */
#ifndef WICK_NN_GEOM_H
#define WICK_NN_GEOM_H

#include <stdbool.h>
#include <stdint.h>

#include "tensor.h"

/* conv2d: input [N, C, H, W], weight [O, C/G, KH, KW], output [N, O, OH, OW].
 * PH/PW are the padding before the first row/column; OH/OW already account for any extra
 * padding after the last (padding="same" with an even kernel). */
typedef struct {
  int64_t N, C, H, W, O, G, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
} wick_conv_geom;

/* Pooling: P planes of H x W in, P planes of OH x OW out. */
typedef struct {
  int64_t P, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW;
  bool count_include_pad;
  int64_t divisor; /* avg_pool2d's divisor_override; 0 = none */
} wick_pool_geom;

/* Cross entropy / nll over x [N, C, S] (class dim in the middle) with class targets (i64
 * [N, S], already range-checked; ignore_index positions give 0) or probability targets
 * (prob [N, C, S], already smoothed by core). All tensors on the kernel's device. */
typedef struct {
  int64_t N, C, S;
  const wick_tensor *target;  /* class targets, or NULL */
  const wick_tensor *prob;    /* probability targets, or NULL */
  const wick_tensor *weight;  /* [C] or NULL */
  int64_t ignore_index;
} wick_ce_args;

#endif
