/* Thread-local execution modes (exec_mode.h): each Lua state runs on one thread, and
 * PyTorch keeps autocast state and the current device per thread too. */
#include "exec_mode.h"

static _Thread_local wick_dtype autocast_dtype = WICK_DTYPE_COUNT;
static _Thread_local bool non_blocking;
static _Thread_local int cuda_index;

wick_dtype wick_autocast_set(wick_dtype dt) {
  wick_dtype prev = autocast_dtype;
  autocast_dtype = dt;
  return prev;
}

wick_dtype wick_autocast_get(void) { return autocast_dtype; }

wick_dtype wick_autocast_dtype_for(wick_dtype a) {
  /* f64 is not eligible (as in PyTorch): it asked for precision, not speed */
  if (autocast_dtype == WICK_DTYPE_COUNT || !wick_dtype_is_float(a) || a == WICK_DTYPE_F64) return a;
  return autocast_dtype;
}

bool wick_copy_set_non_blocking(bool on) {
  bool prev = non_blocking;
  non_blocking = on;
  return prev;
}

bool wick_copy_non_blocking(void) { return non_blocking; }

void wick_cuda_set_default_index(int index) { cuda_index = index; }
int wick_cuda_default_index(void) { return cuda_index; }
