/* The CPU thread count: OpenMP's (elementwise kernels) and OpenBLAS's, set together and
 * bounded (wick.set_num_threads). */
#ifndef WICK_CPU_THREADS_H
#define WICK_CPU_THREADS_H

#include <stdint.h>

#include "core/status.h"

/* The most threads set_num_threads accepts. */
#define WICK_MAX_THREADS 1024

/* The CPUs this process may run on (its affinity mask), at least 1. */
int wick_cpu_count(void);

/* OpenMP gets n threads; OpenBLAS gets n but at most wick_cpu_count(): it gives each thread a
 * large buffer, and under an address-space limit (ulimit -v) a thread it cannot start hangs it
 * at exit, while BLAS threads beyond the CPUs never help. n outside 1..WICK_MAX_THREADS is an
 * error and changes nothing. */
wick_status wick_set_num_threads(int64_t n);

#endif
