/* Which build of the vectorised kernels runs: the widest the CPU supports, or WICK_CPU_ISA. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

extern const wick_cpu_vec wick_cpu_vec_baseline;
#ifdef WICK_VEC_X86
extern const wick_cpu_vec wick_cpu_vec_avx2, wick_cpu_vec_avx512;
#endif

typedef struct {
  const char *name;
  const wick_cpu_vec *vec;
} isa_row;

static const isa_row isas[] = {
#ifdef WICK_VEC_X86
  {"avx512", &wick_cpu_vec_avx512},
  {"avx2", &wick_cpu_vec_avx2},
#endif
  {"baseline", &wick_cpu_vec_baseline},
};
#define NISA ((int)(sizeof isas / sizeof isas[0]))

static int supported(int i) {
#ifdef WICK_VEC_X86
  __builtin_cpu_init();
  if (strcmp(isas[i].name, "avx512") == 0)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (strcmp(isas[i].name, "avx2") == 0)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return 1;
}

int wick_cpu_isa_count(void) { return NISA; }

const char *wick_cpu_isa_name(int i, int *ok) {
  if (i < 0 || i >= NISA) return NULL;
  if (ok) *ok = supported(i);
  return isas[i].name;
}

const wick_cpu_vec *wick_cpu_vec_named(const char *name) {
  for (int i = 0; i < NISA; i++)
    if (strcmp(isas[i].name, name) == 0) return supported(i) ? isas[i].vec : NULL;
  return NULL;
}

static _Atomic(const wick_cpu_vec *) chosen;
static char chosen_err[256];

wick_status wick_cpu_isa_select(void) {
  if (atomic_load(&chosen)) return chosen_err[0] ? wick_errorf(WICK_ERR_ARG, "%s", chosen_err) : WICK_OK;
  const wick_cpu_vec *v = NULL;
  const char *want = getenv("WICK_CPU_ISA");
  wick_status s = WICK_OK;
  if (want && *want) {
    int known = 0;
    for (int i = 0; i < NISA; i++) known |= strcmp(isas[i].name, want) == 0;
    v = wick_cpu_vec_named(want);
    if (!v) {
      char have[128] = "";
      for (int i = 0; i < NISA; i++)
        if (supported(i)) {
          if (have[0]) strcat(have, ", ");
          strcat(have, isas[i].name);
        }
      s = known ? wick_errorf(WICK_ERR_ARG, "WICK_CPU_ISA=%s: this CPU lacks it (it runs: %s)", want, have)
                : wick_errorf(WICK_ERR_ARG, "WICK_CPU_ISA=%s: unknown instruction set (expected baseline, avx2 or avx512)", want);
      strncpy(chosen_err, wick_last_error(), sizeof chosen_err - 1);
    }
  }
  if (!v)
    for (int i = 0; i < NISA && !v; i++)
      if (supported(i)) v = isas[i].vec;
  atomic_store(&chosen, v);
  return s;
}

const wick_cpu_vec *wick_cpu_vec_get(void) {
  const wick_cpu_vec *v = atomic_load(&chosen);
  if (v) return v;
  (void)wick_cpu_isa_select();
  return atomic_load(&chosen);
}
