/* Setting the CPU thread counts of OpenMP and OpenBLAS together, within bounds (threads.h). */
#define _GNU_SOURCE
#include "threads.h"

#include <cblas.h>
#include <sched.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int wick_cpu_count(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

wick_status wick_set_num_threads(int64_t n) {
  if (n < 1 || n > WICK_MAX_THREADS)
    return wick_errorf(WICK_ERR_ARG, "set_num_threads: expected 1 to %d threads (got %lld)", WICK_MAX_THREADS,
                       (long long)n);
#ifdef _OPENMP
  omp_set_num_threads((int)n);
#endif
  int cpus = wick_cpu_count();
  openblas_set_num_threads(n < cpus ? (int)n : cpus);
  return WICK_OK;
}
