/* Vectorised f32 kernels built once per instruction set (vec_baseline.c: SSE2, vec_avx2.c:
 * AVX2+FMA, vec_avx512.c: AVX-512; the one source is vec_impl.h) and the table of the set in
 * use, chosen once by CPUID or forced with WICK_CPU_ISA=baseline|avx2|avx512. */
#ifndef WICK_CPU_VEC_H
#define WICK_CPU_VEC_H

#include <stdint.h>

#include "../core/status.h"

typedef struct {
  const char *name;
  /* o[i] = f(a[i]) over n contiguous floats (o may equal a) */
  void (*exp)(float *o, const float *a, int64_t n);
  void (*log)(float *o, const float *a, int64_t n);
  void (*tanh)(float *o, const float *a, int64_t n);
  void (*sigmoid)(float *o, const float *a, int64_t n);
  void (*gelu)(float *o, const float *a, int64_t n); /* the erf form */
  /* max of a[0..n) (NaN if any is NaN), n >= 1 */
  float (*max)(const float *a, int64_t n);
  /* o[i] = exp(a[i] - shift) (o may be NULL: not stored); returns the sum, blocked over lanes */
  float (*exp_sum)(float *o, const float *a, int64_t n, float shift);
  /* o[i] = a[i] * s + c */
  void (*affine)(float *o, const float *a, int64_t n, float s, float c);
} wick_cpu_vec;

/* The set in use (the first call picks it; see wick_cpu_isa_select). */
const wick_cpu_vec *wick_cpu_vec_get(void);
/* The set named name ("baseline", "avx2", "avx512") if this build has it and the CPU runs it,
 * else NULL. */
const wick_cpu_vec *wick_cpu_vec_named(const char *name);
/* Picks the set once: WICK_CPU_ISA when set (an error when it is unknown or the CPU lacks it),
 * else the widest the CPU runs. Later calls return the first call's status. */
wick_status wick_cpu_isa_select(void);
/* Every set's name, widest first, and whether this CPU runs it. */
int wick_cpu_isa_count(void);
const char *wick_cpu_isa_name(int i, int *supported);

#endif
