/* shm_reduce.h: per-dtype reduction loops over blocks of BLOCK elements. Each block folds every
 * source into a local accumulator, so a source is read once and dst written once per element. */
#include "dist/shm_reduce.h"

#include <string.h>

#include "core/dtype.h"

#define BLOCK 1024

static inline float bf16_f32(uint16_t h) {
  uint32_t b = (uint32_t)h << 16;
  float f;
  memcpy(&f, &b, 4);
  return f;
}

static inline uint16_t f32_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* NaN stays NaN */
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

/* One loop per (type, op): acc = fold over the sources. OP(a, b) combines two values. */
#define FOLD(T, OP)                                                              \
  for (size_t base = 0; base < count; base += BLOCK) {                           \
    size_t m = count - base < BLOCK ? count - base : BLOCK;                      \
    T acc[BLOCK];                                                                \
    const T *s0 = (const T *)src[0] + base;                                      \
    for (size_t i = 0; i < m; i++) acc[i] = s0[i];                               \
    for (int k = 1; k < n; k++) {                                                \
      const T *restrict s = (const T *)src[k] + base;                            \
      for (size_t i = 0; i < m; i++) acc[i] = OP(acc[i], s[i]);                  \
    }                                                                            \
    memcpy((T *)dst + base, acc, m * sizeof(T));                                 \
    if (dst2) memcpy((T *)dst2 + base, acc, m * sizeof(T));                      \
  }

#define ADD(a, b) ((a) + (b))
#define MUL(a, b) ((a) * (b))
#define MIN(a, b) ((b) < (a) ? (b) : (a))
#define MAX(a, b) ((b) > (a) ? (b) : (a))
/* NaN propagates as in PyTorch's min/max: once acc is NaN it stays, a NaN source replaces. */
#define FMIN(a, b) ((b) < (a) || (b) != (b) ? (b) : (a))
#define FMAX(a, b) ((b) > (a) || (b) != (b) ? (b) : (a))

#define INT_CASES(T, U)                                  \
  switch (r) {                                           \
    case WICK_PG_SUM: FOLD(U, ADD) break;                \
    case WICK_PG_PRODUCT: FOLD(U, MUL) break;            \
    case WICK_PG_MIN: FOLD(T, MIN) break;                \
    case WICK_PG_MAX: FOLD(T, MAX) break;                \
    default: break;                                      \
  }

#define FLOAT_CASES(T)                                                         \
  switch (r) {                                                                 \
    case WICK_PG_SUM: FOLD(T, ADD) break;                                      \
    case WICK_PG_AVG: {                                                        \
      T *d = (T *)dst;                                                         \
      void *keep = dst2;                                                       \
      dst2 = NULL;                                                             \
      FOLD(T, ADD)                                                             \
      for (size_t i = 0; i < count; i++) d[i] = d[i] / (T)n;                   \
      if (keep) memcpy(keep, d, count * sizeof(T));                            \
      break;                                                                   \
    }                                                                          \
    case WICK_PG_PRODUCT: FOLD(T, MUL) break;                                  \
    case WICK_PG_MIN: FOLD(T, FMIN) break;                                     \
    case WICK_PG_MAX: FOLD(T, FMAX) break;                                     \
  }

/* f16/bf16: widen each block to f32, fold, divide (avg), round once. */
static void reduce_half(bool bf, wick_pg_reduce r, uint16_t *dst, uint16_t *dst2, const void *const *src,
                        int n, size_t count) {
  for (size_t base = 0; base < count; base += BLOCK) {
    size_t m = count - base < BLOCK ? count - base : BLOCK;
    float acc[BLOCK], x[BLOCK];
    for (int k = 0; k < n; k++) {
      const uint16_t *s = (const uint16_t *)src[k] + base;
      float *t = k == 0 ? acc : x;
      if (bf)
        for (size_t i = 0; i < m; i++) t[i] = bf16_f32(s[i]);
      else
        for (size_t i = 0; i < m; i++) t[i] = wick_f16_to_f32(s[i]);
      if (k == 0) continue;
      switch (r) {
        case WICK_PG_SUM: case WICK_PG_AVG: for (size_t i = 0; i < m; i++) acc[i] += x[i]; break;
        case WICK_PG_PRODUCT: for (size_t i = 0; i < m; i++) acc[i] *= x[i]; break;
        case WICK_PG_MIN: for (size_t i = 0; i < m; i++) acc[i] = FMIN(acc[i], x[i]); break;
        case WICK_PG_MAX: for (size_t i = 0; i < m; i++) acc[i] = FMAX(acc[i], x[i]); break;
      }
    }
    if (r == WICK_PG_AVG)
      for (size_t i = 0; i < m; i++) acc[i] /= (float)n;
    uint16_t *d = dst + base;
    if (bf)
      for (size_t i = 0; i < m; i++) d[i] = f32_bf16(acc[i]);
    else
      for (size_t i = 0; i < m; i++) d[i] = wick_f32_to_f16(acc[i]);
    if (dst2) memcpy(dst2 + base, d, m * sizeof *d);
  }
}

bool wick_shm_reduce_supported(wick_dtype d, wick_pg_reduce r) {
  switch (d) {
    case WICK_DTYPE_F32: case WICK_DTYPE_F64: case WICK_DTYPE_F16: case WICK_DTYPE_BF16: return true;
    case WICK_DTYPE_U8: case WICK_DTYPE_I32: case WICK_DTYPE_I64: return r != WICK_PG_AVG;
    default: return false;
  }
}

void wick_shm_reduce(wick_dtype d, wick_pg_reduce r, void *dst, void *dst2, const void *const *src, int n,
                     size_t count) {
  switch (d) {
    case WICK_DTYPE_F32: FLOAT_CASES(float) break;
    case WICK_DTYPE_F64: FLOAT_CASES(double) break;
    case WICK_DTYPE_F16: reduce_half(false, r, dst, dst2, src, n, count); break;
    case WICK_DTYPE_BF16: reduce_half(true, r, dst, dst2, src, n, count); break;
    case WICK_DTYPE_U8: INT_CASES(uint8_t, uint8_t) break;
    case WICK_DTYPE_I32: INT_CASES(int32_t, uint32_t) break;
    case WICK_DTYPE_I64: INT_CASES(int64_t, uint64_t) break;
    default: break;
  }
}
