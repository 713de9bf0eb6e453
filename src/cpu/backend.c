/* The CPU row of the device table. */
#include "../core/alloc.h"
#include "cpu.h"
#include "nn_kernels.h"

static void *cpu_alloc(size_t nbytes, int index) { (void)index; return wick_host_alloc(nbytes); }
static void cpu_free(void *p, size_t nbytes, int index) { (void)index; wick_host_free(p, nbytes); }

const wick_backend wick_cpu_backend = {
  .name = "cpu",
  .alloc = cpu_alloc,
  .free = cpu_free,
  .copy = wick_cpu_copy,
  .fill = wick_cpu_fill,
  .binary = wick_cpu_binary,
  .unary = wick_cpu_unary,
  .where = wick_cpu_where,
  .unary_backward = wick_cpu_unary_backward,
  .matmul = wick_cpu_matmul,
  .reduce = wick_cpu_reduce,
  .index_select = wick_cpu_index_select,
  .gather = wick_cpu_gather,
  .scatter = wick_cpu_scatter,
  .random = wick_cpu_random,
  .cumulative = wick_cpu_cumulative,
  .conv2d = wick_cpu_conv2d,
  .conv2d_backward = wick_cpu_conv2d_backward,
  .max_pool2d = wick_cpu_max_pool2d,
  .max_pool2d_backward = wick_cpu_max_pool2d_backward,
  .avg_pool2d = wick_cpu_avg_pool2d,
  .avg_pool2d_backward = wick_cpu_avg_pool2d_backward,
  .adaptive_avg_pool2d = wick_cpu_adaptive_avg_pool2d,
  .adaptive_avg_pool2d_backward = wick_cpu_adaptive_avg_pool2d_backward,
  .batch_norm = wick_cpu_batch_norm,
  .batch_norm_backward = wick_cpu_batch_norm_backward,
  .layer_norm = wick_cpu_layer_norm,
  .layer_norm_backward = wick_cpu_layer_norm_backward,
  .cross_entropy = wick_cpu_cross_entropy,
  .cross_entropy_backward = wick_cpu_cross_entropy_backward,
  .nll_loss = wick_cpu_nll_loss,
  .nll_loss_backward = wick_cpu_nll_loss_backward,
  .elem_loss = wick_cpu_elem_loss,
  .elem_loss_backward = wick_cpu_elem_loss_backward,
  .sgd_step = wick_cpu_sgd_step,
  .adam_step = wick_cpu_adam_step,
  .softmax = wick_cpu_softmax,
  .softmax_backward = wick_cpu_softmax_backward,
};
