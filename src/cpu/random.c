/* CPU random fills (the backend's `random` slot): PyTorch's CPU distribution kernels draw for
 * draw, so a seeded wick fills the same values as a seeded torch (x86-64, AVX2 build).
 * Where PyTorch's compiled kernels fuse a multiply and an add, we call fma explicitly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/rng.h"
#include "cpu.h"

#define BLOCK 2048

/* ---- the element order: TensorIterator's for a nullary op ----
 * Contiguous tensors fill in storage order; others in the order TensorIterator picks (dims
 * sorted by stride, smallest innermost), so a transposed tensor fills as its storage lies. */
typedef struct {
  int nd;
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS]; /* bytes; [0] is innermost */
  int64_t idx[WICK_MAX_DIMS];
  char *ptr;
  size_t es;
  bool flat;
} sink;

static void sink_init(sink *s, const wick_tensor *t) {
  memset(s, 0, sizeof *s);
  s->es = wick_dtype_size(t->dtype);
  s->ptr = wick_tensor_data(t);
  s->flat = wick_tensor_is_contiguous(t);
  if (s->flat) return;
  int nd = t->ndim, perm[WICK_MAX_DIMS];
  for (int i = 0; i < nd; i++) perm[i] = nd - 1 - i;
  /* TensorIterator::reorder_dimensions: insertion sort; equal or zero strides are ambiguous
   * unless the sizes decide */
  for (int i = 1; i < nd; i++) {
    int d1 = i;
    for (int d0 = i - 1; d0 >= 0; d0--) {
      int64_t s0 = t->strides[perm[d0]], s1 = t->strides[perm[d1]];
      int cmp = 0;
      if (s0 != 0 && s1 != 0) {
        if (s0 < s1) cmp = -1;
        else if (s0 > s1) cmp = 1;
        else if (t->sizes[perm[d0]] > t->sizes[perm[d1]]) cmp = 1;
      }
      if (cmp > 0) {
        int tmp = perm[d0]; perm[d0] = perm[d1]; perm[d1] = tmp;
        d1 = d0;
      } else if (cmp < 0) {
        break;
      }
    }
  }
  for (int i = 0; i < nd; i++) {
    s->sizes[s->nd] = t->sizes[perm[i]];
    s->strides[s->nd] = t->strides[perm[i]] * (int64_t)s->es;
    s->nd++;
  }
}

/* Writes n values (already in the tensor's dtype) at the next n positions. */
static void sink_put(sink *s, const void *vals, int64_t n) {
  const char *v = vals;
  if (s->flat) {
    memcpy(s->ptr, v, (size_t)n * s->es);
    s->ptr += n * (int64_t)s->es;
    return;
  }
  for (int64_t i = 0; i < n; i++, v += s->es) {
    memcpy(s->ptr, v, s->es);
    for (int d = 0; d < s->nd; d++) {
      s->ptr += s->strides[d];
      if (++s->idx[d] < s->sizes[d]) break;
      s->ptr -= s->strides[d] * s->sizes[d];
      s->idx[d] = 0;
    }
  }
}

typedef union {
  float f[BLOCK];
  double d[BLOCK];
  int64_t i64[BLOCK];
  int32_t i32[BLOCK];
  uint16_t h[BLOCK];
  uint8_t b[BLOCK];
} block;

/* uniform_real_distribution<double>: 53 bits of random64(), the first draw the high word. */
static inline double u53(const uint32_t *raw) {
  uint64_t v = ((uint64_t)raw[0] << 32) | raw[1];
  return (double)(v & ((UINT64_C(1) << 53) - 1)) * 0x1p-53;
}
static inline double next_u53(wick_generator *g) {
  return (double)(wick_generator_random64(g) & ((UINT64_C(1) << 53) - 1)) * 0x1p-53;
}

/* Stores a double computed for a floating dtype. */
static inline void put_float(block *b, int64_t i, wick_dtype dt, double v) {
  switch (dt) {
    case WICK_DTYPE_F32: b->f[i] = (float)v; break;
    case WICK_DTYPE_F64: b->d[i] = v; break;
    case WICK_DTYPE_F16: b->h[i] = wick_f32_to_f16((float)v); break;
    case WICK_DTYPE_BF16: b->h[i] = wick_f32_to_bf16((float)v); break;
    default: wick_store_f64(&b->b[i * (int64_t)wick_dtype_size(dt)], dt, v); break;
  }
}

/* ---- uniform_: uniform_real_distribution<scalar_t>(from, to) ---- */

static void uniform_fill(sink *s, wick_generator *g, wick_dtype dt, int64_t n, double from, double to) {
  uint32_t raw[2 * BLOCK];
  block b;
  if (dt == WICK_DTYPE_F32) {
    /* 24 bits of random(), then x * (to - from) + from in float */
    float f = (float)from, r = (float)to - (float)from;
    bool unit = f == 0.0f && r == 1.0f;
    for (int64_t done = 0; done < n;) {
      int64_t k = n - done < BLOCK ? n - done : BLOCK;
      wick_generator_fill_u32(g, raw, k);
      if (unit) {
        for (int64_t i = 0; i < k; i++) b.f[i] = (float)(raw[i] & 0xffffffu) * 0x1p-24f;
      } else {
        for (int64_t i = 0; i < k; i++) b.f[i] = fmaf((float)(raw[i] & 0xffffffu) * 0x1p-24f, r, f);
      }
      sink_put(s, b.f, k);
      done += k;
    }
  } else if (dt == WICK_DTYPE_F64) {
    double r = to - from;
    bool unit = from == 0.0 && r == 1.0;
    for (int64_t done = 0; done < n;) {
      int64_t k = n - done < BLOCK ? n - done : BLOCK;
      wick_generator_fill_u32(g, raw, 2 * k);
      if (unit) {
        for (int64_t i = 0; i < k; i++) b.d[i] = u53(raw + 2 * i);
      } else {
        for (int64_t i = 0; i < k; i++) b.d[i] = fma(u53(raw + 2 * i), r, from);
      }
      sink_put(s, b.d, k);
      done += k;
    }
  } else {
    /* f16 (11 digits) and bf16 (8): from, to and to - from are rounded to the dtype, the
     * rest is float arithmetic */
    bool h = dt == WICK_DTYPE_F16;
    uint32_t mask = h ? 0x7ffu : 0xffu;
    float scale = h ? 0x1p-11f : 0x1p-8f;
    float f = h ? wick_f16_to_f32(wick_f32_to_f16((float)from)) : wick_bf16_to_f32(wick_f32_to_bf16((float)from));
    float t = h ? wick_f16_to_f32(wick_f32_to_f16((float)to)) : wick_bf16_to_f32(wick_f32_to_bf16((float)to));
    float r = h ? wick_f16_to_f32(wick_f32_to_f16(t - f)) : wick_bf16_to_f32(wick_f32_to_bf16(t - f));
    for (int64_t done = 0; done < n;) {
      int64_t k = n - done < BLOCK ? n - done : BLOCK;
      wick_generator_fill_u32(g, raw, k);
      for (int64_t i = 0; i < k; i++) put_float(&b, i, dt, fmaf((float)(raw[i] & mask) * scale, r, f));
      sink_put(s, b.h, k);
      done += k;
    }
  }
}

/* ---- normal_ ----
 * Contiguous tensors of 16 or more elements: normal_fill, which draws every uniform first and
 * then turns each run of 16 into 16 normals by Box-Muller (u1 from the first 8, u2 from the
 * next 8); a ragged tail redraws 16 uniforms for the last 16 places. f32 uses PyTorch's AVX2
 * kernel (Cephes-style logf and sincosf), f64 the C library's log/cos/sin.
 * Everything else: the scalar normal_distribution<double>, which caches its second value in
 * the generator. */

static const float LOG_P[9] = {7.0376836292E-2f, -1.1514610310E-1f, 1.1676998740E-1f,
                               -1.2420140846E-1f, 1.4249322787E-1f, -1.6668057665E-1f,
                               2.0000714765E-1f, -2.4999993993E-1f, 3.3333331174E-1f};
#define LOG_Q1 (-2.12194440e-4f)
#define LOG_Q2 0.693359375f
#define SQRTHF 0.707106781186547524f
#define FOPI 1.27323954473516f /* 4 / pi */
#define DP1 (-0.78515625f)
#define DP2 (-2.4187564849853515625e-4f)
#define DP3 (-3.77489497744594108e-8f)
#define COS_P0 2.443315711809948E-005f
#define COS_P1 (-1.388731625493765E-003f)
#define COS_P2 4.166664568298827E-002f
#define SIN_P0 (-1.9515295891E-4f)
#define SIN_P1 8.3321608736E-3f
#define SIN_P2 (-1.6666654611E-1f)
#define TWO_PI_F ((float)(2.0 * 3.14159265358979323846))

static inline uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* One lane of the AVX2 kernel, operation for operation (u1 in (0, 1]). */
static float log_lane(float x) {
  int32_t e_i = (int32_t)(fbits(x) >> 23) - 0x7f; /* x >= 2^-126 here: no denormals */
  x = bitsf((fbits(x) & ~0x7f800000u) | fbits(0.5f));
  float e = (float)e_i + 1.0f;
  bool m = x < SQRTHF;
  float tmp = m ? x : 0.0f;
  x = x - 1.0f;
  e = e - (m ? 1.0f : 0.0f);
  x = x + tmp;
  float z = x * x;
  float y = LOG_P[0];
  for (int i = 1; i < 9; i++) y = fmaf(y, x, LOG_P[i]);
  y = y * x;
  y = fmaf(y, z, e * LOG_Q1);
  y = fmaf(-z, 0.5f, y);
  x = x + y;
  return fmaf(e, LOG_Q2, x);
}

static void sincos_lane(float x, float *s, float *c) {
  uint32_t sign_sin = fbits(x) & 0x80000000u;
  x = fabsf(x);
  int32_t j = (int32_t)(x * FOPI);
  j = (j + 1) & ~1;
  float y = (float)j;
  uint32_t swap_sin = (uint32_t)(j & 4) << 29;
  bool poly = (j & 2) == 0;
  x = fmaf(y, DP1, x);
  x = fmaf(y, DP2, x);
  x = fmaf(y, DP3, x);
  uint32_t sign_cos = (uint32_t)(~(j - 2) & 4) << 29;
  sign_sin ^= swap_sin;
  float z = x * x;
  float yc = fmaf(fmaf(COS_P0, z, COS_P1), z, COS_P2);
  yc = yc * z;
  yc = fmaf(yc, z, -(z * 0.5f));
  yc = yc + 1.0f;
  float ys = fmaf(fmaf(SIN_P0, z, SIN_P1), z, SIN_P2);
  ys = ys * z;
  ys = fmaf(ys, x, x);
  float ysin2 = poly ? ys : 0.0f, ysin1 = poly ? 0.0f : yc;
  ys = ys - ysin2;
  yc = yc - ysin1;
  *s = bitsf(fbits(ysin1 + ysin2) ^ sign_sin);
  *c = bitsf(fbits(yc + ys) ^ sign_cos);
}

static void box_muller16_f32_scalar(float *d, float mean, float std) {
  for (int j = 0; j < 8; j++) {
    float radius = sqrtf(-2.0f * log_lane(1.0f - d[j]));
    float sn, cs;
    sincos_lane(TWO_PI_F * d[j + 8], &sn, &cs);
    d[j] = fmaf(radius * cs, std, mean);
    d[j + 8] = fmaf(radius * sn, std, mean);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WICK_RANDOM_AVX2 1

#define V8(x) _mm256_set1_ps(x)
#define VI8(x) _mm256_set1_epi32(x)

__attribute__((target("avx2,fma"))) static __m256 log_avx2(__m256 x) {
  __m256 one = V8(1.0f);
  x = _mm256_max_ps(x, _mm256_castsi256_ps(VI8(0x00800000)));
  __m256i e_i = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_castps_si256(x), 23), VI8(0x7f));
  x = _mm256_and_ps(x, _mm256_castsi256_ps(VI8(~0x7f800000)));
  x = _mm256_or_ps(x, V8(0.5f));
  __m256 e = _mm256_add_ps(_mm256_cvtepi32_ps(e_i), one);
  __m256 m = _mm256_cmp_ps(x, V8(SQRTHF), _CMP_LT_OS);
  __m256 tmp = _mm256_and_ps(x, m);
  x = _mm256_sub_ps(x, one);
  e = _mm256_sub_ps(e, _mm256_and_ps(one, m));
  x = _mm256_add_ps(x, tmp);
  __m256 z = _mm256_mul_ps(x, x);
  __m256 y = V8(LOG_P[0]);
  for (int i = 1; i < 9; i++) y = _mm256_fmadd_ps(y, x, V8(LOG_P[i]));
  y = _mm256_mul_ps(y, x);
  y = _mm256_fmadd_ps(y, z, _mm256_mul_ps(e, V8(LOG_Q1)));
  y = _mm256_fnmadd_ps(z, V8(0.5f), y);
  x = _mm256_add_ps(x, y);
  return _mm256_fmadd_ps(e, V8(LOG_Q2), x);
}

__attribute__((target("avx2,fma"))) static void sincos_avx2(__m256 x, __m256 *s, __m256 *c) {
  __m256 sign_mask = _mm256_castsi256_ps(VI8((int)0x80000000));
  __m256 sign_sin = _mm256_and_ps(x, sign_mask);
  x = _mm256_andnot_ps(sign_mask, x);
  __m256i j = _mm256_cvttps_epi32(_mm256_mul_ps(x, V8(FOPI)));
  j = _mm256_and_si256(_mm256_add_epi32(j, VI8(1)), VI8(~1));
  __m256 y = _mm256_cvtepi32_ps(j);
  __m256 swap_sin = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(j, VI8(4)), 29));
  __m256 poly = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(j, VI8(2)), VI8(0)));
  x = _mm256_fmadd_ps(y, V8(DP1), x);
  x = _mm256_fmadd_ps(y, V8(DP2), x);
  x = _mm256_fmadd_ps(y, V8(DP3), x);
  __m256 sign_cos = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_andnot_si256(_mm256_sub_epi32(j, VI8(2)), VI8(4)), 29));
  sign_sin = _mm256_xor_ps(sign_sin, swap_sin);
  __m256 z = _mm256_mul_ps(x, x);
  __m256 yc = _mm256_fmadd_ps(_mm256_fmadd_ps(V8(COS_P0), z, V8(COS_P1)), z, V8(COS_P2));
  yc = _mm256_mul_ps(yc, z);
  yc = _mm256_fmsub_ps(yc, z, _mm256_mul_ps(z, V8(0.5f)));
  yc = _mm256_add_ps(yc, V8(1.0f));
  __m256 ys = _mm256_fmadd_ps(_mm256_fmadd_ps(V8(SIN_P0), z, V8(SIN_P1)), z, V8(SIN_P2));
  ys = _mm256_mul_ps(ys, z);
  ys = _mm256_fmadd_ps(ys, x, x);
  __m256 ysin2 = _mm256_and_ps(poly, ys), ysin1 = _mm256_andnot_ps(poly, yc);
  ys = _mm256_sub_ps(ys, ysin2);
  yc = _mm256_sub_ps(yc, ysin1);
  *s = _mm256_xor_ps(_mm256_add_ps(ysin1, ysin2), sign_sin);
  *c = _mm256_xor_ps(_mm256_add_ps(yc, ys), sign_cos);
}

__attribute__((target("avx2,fma"))) static void box_muller_f32_avx2(float *d, int64_t nblocks,
                                                                  float mean, float std) {
  __m256 mean_v = V8(mean), std_v = V8(std);
  for (int64_t b = 0; b < nblocks; b++, d += 16) {
    __m256 u1 = _mm256_sub_ps(V8(1.0f), _mm256_loadu_ps(d));
    __m256 u2 = _mm256_loadu_ps(d + 8);
    __m256 radius = _mm256_sqrt_ps(_mm256_mul_ps(V8(-2.0f), log_avx2(u1)));
    __m256 sn, cs;
    sincos_avx2(_mm256_mul_ps(V8(TWO_PI_F), u2), &sn, &cs);
    _mm256_storeu_ps(d, _mm256_fmadd_ps(_mm256_mul_ps(radius, cs), std_v, mean_v));
    _mm256_storeu_ps(d + 8, _mm256_fmadd_ps(_mm256_mul_ps(radius, sn), std_v, mean_v));
  }
}

static bool have_avx2(void) {
  static int have = -1;
  if (have < 0) have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return have;
}
#endif

/* nblocks runs of 16 at d */
static void box_muller_f32(float *d, int64_t nblocks, float mean, float std) {
#ifdef WICK_RANDOM_AVX2
  if (have_avx2()) {
    box_muller_f32_avx2(d, nblocks, mean, std);
    return;
  }
#endif
  for (int64_t b = 0; b < nblocks; b++) box_muller16_f32_scalar(d + 16 * b, mean, std);
}

static void box_muller_f64(double *d, int64_t nblocks, double mean, double std) {
  for (int64_t b = 0; b < nblocks; b++, d += 16) {
    for (int j = 0; j < 8; j++) {
      double radius = sqrt(-2.0 * log(1.0 - d[j]));
      double theta = 2.0 * 3.14159265358979323846 * d[j + 8];
      d[j] = fma(radius * cos(theta), std, mean);
      d[j + 8] = fma(radius * sin(theta), std, mean);
    }
  }
}

/* normal_fill on contiguous data, n >= 16 */
static void normal_fill_f32(float *d, int64_t n, wick_generator *g, float mean, float std) {
  sink s = {.flat = true, .ptr = (char *)d, .es = 4};
  uniform_fill(&s, g, WICK_DTYPE_F32, n, 0.0, 1.0);
  box_muller_f32(d, n / 16, mean, std);
  if (n % 16) {
    s.ptr = (char *)(d + n - 16);
    uniform_fill(&s, g, WICK_DTYPE_F32, 16, 0.0, 1.0);
    box_muller_f32(d + n - 16, 1, mean, std);
  }
}

static void normal_fill_f64(double *d, int64_t n, wick_generator *g, double mean, double std) {
  sink s = {.flat = true, .ptr = (char *)d, .es = 8};
  uniform_fill(&s, g, WICK_DTYPE_F64, n, 0.0, 1.0);
  box_muller_f64(d, n / 16, mean, std);
  if (n % 16) {
    s.ptr = (char *)(d + n - 16);
    uniform_fill(&s, g, WICK_DTYPE_F64, 16, 0.0, 1.0);
    box_muller_f64(d + n - 16, 1, mean, std);
  }
}

/* at::normal_distribution<double>: two uniforms give two normals, the second kept for the
 * next call (also across calls and tensors, until the generator is reseeded). */
static inline double normal_scalar(wick_generator *g, double mean, double std) {
  double ret;
  if (g->has_next_double_normal) {
    ret = g->next_double_normal;
    g->has_next_double_normal = false;
  } else {
    double u1 = next_u53(g), u2 = next_u53(g);
    double r = sqrt(-2.0 * log(1.0 - u2));
    double theta = 2.0 * 3.14159265358979323846 * u1;
    g->next_double_normal = r * sin(theta);
    g->has_next_double_normal = true;
    ret = r * cos(theta);
  }
  return fma(ret, std, mean);
}

/* f16/bf16 normal_fill: the same draws (11 or 8 bits of random() per uniform), the arithmetic
 * in float (PyTorch rounds some intermediates to the dtype: equal to the dtype's precision,
 * not bit for bit). */
static wick_status normal_fill_half(wick_tensor *t, int64_t n, wick_generator *g, float mean, float std) {
  float *d = malloc((size_t)n * sizeof *d);
  if (!d) return wick_errorf(WICK_ERR_OOM, "normal_: out of memory (%lld elements)", (long long)n);
  bool h = t->dtype == WICK_DTYPE_F16;
  uint32_t mask = h ? 0x7ffu : 0xffu;
  float scale = h ? 0x1p-11f : 0x1p-8f;
  uint32_t raw[16];
  for (int64_t i = 0; i < n;) {
    int64_t k = n - i < 16 ? n - i : 16;
    wick_generator_fill_u32(g, raw, k);
    for (int64_t j = 0; j < k; j++, i++) d[i] = (float)(raw[j] & mask) * scale;
  }
  box_muller_f32(d, n / 16, mean, std);
  if (n % 16) {
    wick_generator_fill_u32(g, raw, 16);
    for (int j = 0; j < 16; j++) d[n - 16 + j] = (float)(raw[j] & mask) * scale;
    box_muller_f32(d + n - 16, 1, mean, std);
  }
  uint16_t *o = wick_tensor_data(t);
  for (int64_t i = 0; i < n; i++) o[i] = h ? wick_f32_to_f16(d[i]) : wick_f32_to_bf16(d[i]);
  free(d);
  return WICK_OK;
}

static wick_status normal_kernel(wick_tensor *t, wick_generator *g, double mean, double std) {
  int64_t n = wick_tensor_numel(t);
  wick_dtype dt = t->dtype;
  if (n >= 16 && wick_tensor_is_contiguous(t) && dt == WICK_DTYPE_F32) {
    normal_fill_f32(wick_tensor_data(t), n, g, (float)mean, (float)std);
    return WICK_OK;
  }
  if (n >= 16 && wick_tensor_is_contiguous(t) && dt == WICK_DTYPE_F64) {
    normal_fill_f64(wick_tensor_data(t), n, g, mean, std);
    return WICK_OK;
  }
  if (n >= 16 && wick_tensor_is_contiguous(t)) return normal_fill_half(t, n, g, (float)mean, (float)std);
  sink s;
  sink_init(&s, t);
  block b;
  for (int64_t done = 0; done < n;) {
    int64_t k = n - done < BLOCK ? n - done : BLOCK;
    for (int64_t i = 0; i < k; i++) put_float(&b, i, dt, normal_scalar(g, mean, std));
    sink_put(&s, b.b, k);
    done += k;
  }
  return WICK_OK;
}

/* ---- random_(from, to): uniform_int_from_to_distribution ----
 * (val % range) + from, with one random() per value, or one random64() for 64-bit-capable
 * dtypes when range >= 2^32. */

static inline void put_int(block *b, int64_t i, wick_dtype dt, int64_t v) {
  switch (dt) {
    case WICK_DTYPE_I64: b->i64[i] = v; break;
    case WICK_DTYPE_I32: b->i32[i] = (int32_t)v; break;
    case WICK_DTYPE_U8: b->b[i] = (uint8_t)v; break;
    case WICK_DTYPE_BOOL: b->b[i] = v != 0; break;
    case WICK_DTYPE_F32: b->f[i] = (float)v; break;
    case WICK_DTYPE_F64: b->d[i] = (double)v; break;
    case WICK_DTYPE_F16: b->h[i] = wick_f32_to_f16((float)v); break;
    case WICK_DTYPE_BF16: b->h[i] = wick_f32_to_bf16((float)v); break;
    default: break;
  }
}

static void integers_fill(sink *s, wick_generator *g, wick_dtype dt, int64_t n, int64_t from,
                          uint64_t range) {
  bool wide = range >= (UINT64_C(1) << 32) &&
              (dt == WICK_DTYPE_I64 || dt == WICK_DTYPE_F64 || dt == WICK_DTYPE_F32 || dt == WICK_DTYPE_BF16);
  uint32_t raw[2 * BLOCK];
  block b;
  for (int64_t done = 0; done < n;) {
    int64_t k = n - done < BLOCK ? n - done : BLOCK;
    wick_generator_fill_u32(g, raw, wide ? 2 * k : k);
    if (wide) {
      for (int64_t i = 0; i < k; i++) {
        uint64_t v = ((uint64_t)raw[2 * i] << 32) | raw[2 * i + 1];
        put_int(&b, i, dt, (int64_t)(v % range + (uint64_t)from));
      }
    } else if (dt == WICK_DTYPE_I64) {
      for (int64_t i = 0; i < k; i++) b.i64[i] = (int64_t)((uint64_t)raw[i] % range + (uint64_t)from);
    } else {
      for (int64_t i = 0; i < k; i++) put_int(&b, i, dt, (int64_t)((uint64_t)raw[i] % range + (uint64_t)from));
    }
    sink_put(s, b.b, k);
    done += k;
  }
}

/* ---- bernoulli_(p) and exponential_(lambda): one uniform double (random64) per value ---- */

static void bernoulli_fill(sink *s, wick_generator *g, wick_dtype dt, int64_t n, double p) {
  uint32_t raw[2 * BLOCK];
  block b;
  for (int64_t done = 0; done < n;) {
    int64_t k = n - done < BLOCK ? n - done : BLOCK;
    wick_generator_fill_u32(g, raw, 2 * k);
    for (int64_t i = 0; i < k; i++) put_int(&b, i, dt, u53(raw + 2 * i) < p);
    sink_put(s, b.b, k);
    done += k;
  }
}

static void exponential_fill(sink *s, wick_generator *g, wick_dtype dt, int64_t n, double lambd) {
  uint32_t raw[2 * BLOCK];
  block b;
  double scale = -1.0 / lambd;
  for (int64_t done = 0; done < n;) {
    int64_t k = n - done < BLOCK ? n - done : BLOCK;
    wick_generator_fill_u32(g, raw, 2 * k);
    for (int64_t i = 0; i < k; i++) put_float(&b, i, dt, scale * log(1.0 - u53(raw + 2 * i)));
    sink_put(s, b.b, k);
    done += k;
  }
}

wick_status wick_cpu_random(wick_tensor *dst, wick_generator *gen, int kind, double p0, double p1) {
  int64_t n = wick_tensor_numel(dst);
  if (n == 0) return WICK_OK;
  wick_dtype dt = dst->dtype;
  if (kind == WICK_RANDOM_NORMAL) return normal_kernel(dst, gen, p0, p1);
  sink s;
  sink_init(&s, dst);
  switch (kind) {
    case WICK_RANDOM_UNIFORM: uniform_fill(&s, gen, dt, n, p0, p1); break;
    case WICK_RANDOM_INTEGERS: {
      int64_t from = (int64_t)p0;
      uint64_t to = p1 >= 0x1p63 ? (uint64_t)p1 : (uint64_t)(int64_t)p1;
      integers_fill(&s, gen, dt, n, from, to - (uint64_t)from);
      break;
    }
    case WICK_RANDOM_BERNOULLI: bernoulli_fill(&s, gen, dt, n, p0); break;
    case WICK_RANDOM_EXPONENTIAL: exponential_fill(&s, gen, dt, n, p0); break;
    default: return wick_errorf(WICK_ERR_UNSUPPORTED, "random: unknown kind %d", kind);
  }
  return WICK_OK;
}
