/* Helpers shared by the CPU reductions and scans (reduce.c, cumulative.c): strided geometry
 * (coalescing dims, offsets of a flat index) and conversion of strided runs of any dtype to
 * and from double / int64 buffers, in which the kernels then compute. */
#ifndef WICK_CPU_RUNS_H
#define WICK_CPU_RUNS_H

#include <stdint.h>

#include "../core/dtype.h"

static inline int64_t wick_iabs(int64_t x) { return x < 0 ? -x : x; }

/* Drops size-1 dims and merges neighbours that are contiguous for both stride arrays (s2 may
 * be NULL). Returns the new dim count. */
static inline int wick_coalesce(int nd, int64_t *sizes, int64_t *s1, int64_t *s2) {
  int n = 0;
  for (int d = 0; d < nd; d++) {
    if (sizes[d] == 1) continue;
    if (n > 0 && s1[n - 1] == s1[d] * sizes[d] && (!s2 || s2[n - 1] == s2[d] * sizes[d])) {
      sizes[n - 1] *= sizes[d];
      s1[n - 1] = s1[d];
      if (s2) s2[n - 1] = s2[d];
      continue;
    }
    sizes[n] = sizes[d];
    s1[n] = s1[d];
    if (s2) s2[n] = s2[d];
    n++;
  }
  return n;
}

/* Offset (in elements) of the row-major index `flat` over nd dims. */
static inline int64_t wick_offset_of(int nd, const int64_t *sizes, const int64_t *strides,
                                     int64_t flat) {
  if (nd <= 1) return nd ? flat * strides[0] : 0; /* flat < sizes[0] */
  int64_t off = 0;
  for (int d = nd - 1; d >= 0; d--) {
    off += (flat % sizes[d]) * strides[d];
    flat /= sizes[d];
  }
  return off;
}

/* d[i] = element i of the run at p (byte stride st), for float dtypes. */
static inline void wick_load_run_f(double *d, const char *p, int64_t st, int64_t n, wick_dtype dt) {
  switch (dt) {
    case WICK_DTYPE_F32:
      if (st == 4) { const float *x = (const float *)p; for (int64_t i = 0; i < n; i++) d[i] = x[i]; }
      else for (int64_t i = 0; i < n; i++) d[i] = *(const float *)(p + i * st);
      break;
    case WICK_DTYPE_F64: for (int64_t i = 0; i < n; i++) d[i] = *(const double *)(p + i * st); break;
    case WICK_DTYPE_F16:
      for (int64_t i = 0; i < n; i++) d[i] = wick_f16_to_f32(*(const uint16_t *)(p + i * st));
      break;
    case WICK_DTYPE_BF16:
      for (int64_t i = 0; i < n; i++) d[i] = wick_bf16_to_f32(*(const uint16_t *)(p + i * st));
      break;
    default: for (int64_t i = 0; i < n; i++) d[i] = wick_load_f64(p + i * st, dt);
  }
}

/* The same for integer and bool dtypes. */
static inline void wick_load_run_i(int64_t *d, const char *p, int64_t st, int64_t n, wick_dtype dt) {
  switch (dt) {
    case WICK_DTYPE_BOOL: for (int64_t i = 0; i < n; i++) d[i] = *(const uint8_t *)(p + i * st) != 0; break;
    case WICK_DTYPE_U8: for (int64_t i = 0; i < n; i++) d[i] = *(const uint8_t *)(p + i * st); break;
    case WICK_DTYPE_I32: for (int64_t i = 0; i < n; i++) d[i] = *(const int32_t *)(p + i * st); break;
    case WICK_DTYPE_I64: for (int64_t i = 0; i < n; i++) d[i] = *(const int64_t *)(p + i * st); break;
    default: for (int64_t i = 0; i < n; i++) d[i] = wick_load_i64(p + i * st, dt);
  }
}

/* Element i of the run at p (byte stride st, dtype dt) = x[i]. */
static inline void wick_store_run_f(char *p, int64_t st, wick_dtype dt, const double *x, int64_t n) {
  if (dt == WICK_DTYPE_F32) for (int64_t i = 0; i < n; i++) *(float *)(p + i * st) = (float)x[i];
  else if (dt == WICK_DTYPE_F64) for (int64_t i = 0; i < n; i++) *(double *)(p + i * st) = x[i];
  else for (int64_t i = 0; i < n; i++) wick_store_f64(p + i * st, dt, x[i]);
}

static inline void wick_store_run_i(char *p, int64_t st, wick_dtype dt, const int64_t *x, int64_t n) {
  if (dt == WICK_DTYPE_I64) for (int64_t i = 0; i < n; i++) *(int64_t *)(p + i * st) = x[i];
  else for (int64_t i = 0; i < n; i++) wick_store_i64(p + i * st, dt, x[i]);
}

#endif
