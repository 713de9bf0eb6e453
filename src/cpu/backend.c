/* The CPU row of the device table. */
#include "../core/alloc.h"
#include "cpu.h"

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
};
