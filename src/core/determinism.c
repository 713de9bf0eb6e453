/* The deterministic-algorithms flag (determinism.h). */
#include "determinism.h"

#include <stdatomic.h>

static atomic_bool deterministic;

void wick_set_deterministic(bool on) { atomic_store(&deterministic, on); }
bool wick_deterministic(void) { return atomic_load(&deterministic); }
