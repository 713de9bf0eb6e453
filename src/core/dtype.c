/* dtype names, sizes, promotion and scalar conversions (f16/bf16 bit tricks included). */
#include "dtype.h"

#include <math.h>
#include <string.h>

size_t wick_dtype_size(wick_dtype d) {
  switch (d) {
#define X(E, n, T, s) case WICK_DTYPE_##E: return s;
    WICK_DTYPE_LIST(X)
#undef X
    default: return 0;
  }
}

const char *wick_dtype_name(wick_dtype d) {
  switch (d) {
#define X(E, n, T, s) case WICK_DTYPE_##E: return n;
    WICK_DTYPE_LIST(X)
#undef X
    default: return "?";
  }
}

static const struct { const char *alias; wick_dtype d; } aliases[] = {
  {"float32", WICK_DTYPE_F32}, {"float", WICK_DTYPE_F32},
  {"float64", WICK_DTYPE_F64}, {"double", WICK_DTYPE_F64},
  {"float16", WICK_DTYPE_F16}, {"half", WICK_DTYPE_F16},
  {"bfloat16", WICK_DTYPE_BF16},
  {"int64", WICK_DTYPE_I64}, {"long", WICK_DTYPE_I64},
  {"int32", WICK_DTYPE_I32}, {"int", WICK_DTYPE_I32},
  {"uint8", WICK_DTYPE_U8},
};

bool wick_dtype_parse(const char *name, wick_dtype *out) {
  for (int d = 0; d < WICK_DTYPE_COUNT; d++)
    if (strcmp(name, wick_dtype_name(d)) == 0) { *out = d; return true; }
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp(name, aliases[i].alias) == 0) { *out = aliases[i].d; return true; }
  return false;
}

bool wick_dtype_is_float(wick_dtype d) { return d >= WICK_DTYPE_F16; }

wick_dtype wick_dtype_promote(wick_dtype a, wick_dtype b) {
  if (a == b) return a;
  /* f16 with bf16 promotes to f32, as in PyTorch */
  if ((a == WICK_DTYPE_F16 && b == WICK_DTYPE_BF16) || (a == WICK_DTYPE_BF16 && b == WICK_DTYPE_F16))
    return WICK_DTYPE_F32;
  return a > b ? a : b;
}

float wick_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) bits = sign;
    else { /* subnormal: normalise */
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) { man <<= 1; exp--; }
      man &= 0x3ff;
      bits = sign | (exp << 23) | (man << 13);
    }
  } else if (exp == 0x1f) bits = sign | 0x7f800000 | (man << 13);
  else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t wick_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  uint32_t man = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
  if (exp >= 0x1f) return (uint16_t)(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return (uint16_t)sign;
    man |= 0x800000;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = sign | ((uint32_t)exp << 10) | (man >> 13);
  uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++; /* may carry into exp: correct */
  return (uint16_t)half;
}

float wick_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t wick_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if (isnan(f)) return 0x7fc0;
  x += 0x7fff + ((x >> 16) & 1); /* round to nearest even */
  return (uint16_t)(x >> 16);
}

double wick_load_f64(const void *p, wick_dtype d) {
  switch (d) {
    case WICK_DTYPE_BOOL: return *(const uint8_t *)p != 0;
    case WICK_DTYPE_U8: return *(const uint8_t *)p;
    case WICK_DTYPE_I32: return *(const int32_t *)p;
    case WICK_DTYPE_I64: return (double)*(const int64_t *)p;
    case WICK_DTYPE_F16: return wick_f16_to_f32(*(const uint16_t *)p);
    case WICK_DTYPE_BF16: return wick_bf16_to_f32(*(const uint16_t *)p);
    case WICK_DTYPE_F32: return *(const float *)p;
    case WICK_DTYPE_F64: return *(const double *)p;
    default: return 0;
  }
}

int64_t wick_load_i64(const void *p, wick_dtype d) {
  switch (d) {
    case WICK_DTYPE_BOOL: return *(const uint8_t *)p != 0;
    case WICK_DTYPE_U8: return *(const uint8_t *)p;
    case WICK_DTYPE_I32: return *(const int32_t *)p;
    case WICK_DTYPE_I64: return *(const int64_t *)p;
    default: {
      double v = wick_load_f64(p, d);
      if (isnan(v)) return 0;
      if (v >= 9.2233720368547758e18) return INT64_MAX;
      if (v <= -9.2233720368547758e18) return INT64_MIN;
      return (int64_t)v;
    }
  }
}

void wick_store_f64(void *p, wick_dtype d, double v) {
  switch (d) {
    case WICK_DTYPE_BOOL: *(uint8_t *)p = v != 0; break;
    case WICK_DTYPE_U8: *(uint8_t *)p = (uint8_t)(int64_t)v; break;
    case WICK_DTYPE_I32: *(int32_t *)p = (int32_t)(int64_t)v; break;
    case WICK_DTYPE_I64: *(int64_t *)p = isnan(v) ? 0 : (int64_t)v; break;
    case WICK_DTYPE_F16: *(uint16_t *)p = wick_f32_to_f16((float)v); break;
    case WICK_DTYPE_BF16: *(uint16_t *)p = wick_f32_to_bf16((float)v); break;
    case WICK_DTYPE_F32: *(float *)p = (float)v; break;
    case WICK_DTYPE_F64: *(double *)p = v; break;
    default: break;
  }
}

void wick_store_i64(void *p, wick_dtype d, int64_t v) {
  switch (d) {
    case WICK_DTYPE_BOOL: *(uint8_t *)p = v != 0; break;
    case WICK_DTYPE_U8: *(uint8_t *)p = (uint8_t)v; break;
    case WICK_DTYPE_I32: *(int32_t *)p = (int32_t)v; break;
    case WICK_DTYPE_I64: *(int64_t *)p = v; break;
    default: wick_store_f64(p, d, (double)v); break;
  }
}
