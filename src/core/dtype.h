/* Element types: one X-macro list, and conversions between them. */
#ifndef WICK_DTYPE_H
#define WICK_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(ENUM, name, C storage type, size) in promotion order within each kind. */
#define WICK_DTYPE_LIST(X)            \
  X(BOOL, "bool", uint8_t, 1)         \
  X(U8, "u8", uint8_t, 1)             \
  X(I32, "i32", int32_t, 4)           \
  X(I64, "i64", int64_t, 8)           \
  X(F16, "f16", uint16_t, 2)          \
  X(BF16, "bf16", uint16_t, 2)        \
  X(F32, "f32", float, 4)             \
  X(F64, "f64", double, 8)

typedef enum {
#define X(E, n, T, s) WICK_DTYPE_##E,
  WICK_DTYPE_LIST(X)
#undef X
  WICK_DTYPE_COUNT
} wick_dtype;

size_t wick_dtype_size(wick_dtype d);
const char *wick_dtype_name(wick_dtype d);
/* Accepts "f32", "float32", "float", "i64", "int64", "long", ... ; returns false if unknown. */
bool wick_dtype_parse(const char *name, wick_dtype *out);
bool wick_dtype_is_float(wick_dtype d);
/* PyTorch's promote_types for two tensors. */
wick_dtype wick_dtype_promote(wick_dtype a, wick_dtype b);

float wick_f16_to_f32(uint16_t h);
uint16_t wick_f32_to_f16(float f);
float wick_bf16_to_f32(uint16_t h);
uint16_t wick_f32_to_bf16(float f);

/* Reads/writes one element as double or int64 (generic, slow paths). */
double wick_load_f64(const void *p, wick_dtype d);
int64_t wick_load_i64(const void *p, wick_dtype d);
void wick_store_f64(void *p, wick_dtype d, double v);
void wick_store_i64(void *p, wick_dtype d, int64_t v);

#endif
