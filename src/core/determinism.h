/* wick.use_deterministic_algorithms: a process-wide flag that device code consults to pick
 * run-to-run reproducible algorithms. The CPU backend is reproducible without it (static
 * OpenMP partitions, partial results combined in a fixed order, one instruction set per
 * process, BLAS and oneDNN with fixed thread partitions); see docs/perf.md. */
#ifndef WICK_DETERMINISM_H
#define WICK_DETERMINISM_H

#include <stdbool.h>

void wick_set_deterministic(bool on);
bool wick_deterministic(void);

#endif
