/* The vectorised f32 kernels of vec.h, written once with GCC vector extensions over W lanes and
 * compiled per instruction set: the including file defines W and VEC_SUFFIX, and CMake gives
 * it the ISA's flags. exp/log follow the classic range reduction (Cody-Waite ln2 split, a degree
 * 6 polynomial; mantissa in [sqrt(1/2), sqrt(2)), a degree 9 polynomial); tails run the same
 * vector code on a padded copy, so every element gets the same arithmetic. */
#include <math.h>
#include <string.h>

#include "vec.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, VEC_SUFFIX)

typedef float vf __attribute__((vector_size(W * 4)));
typedef int32_t vi __attribute__((vector_size(W * 4)));

static inline vf splat(float x) { vf v; for (int i = 0; i < W; i++) v[i] = x; return v; }
static inline vi splati(int32_t x) { vi v; for (int i = 0; i < W; i++) v[i] = x; return v; }
static inline vf load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void store(float *p, vf v) { memcpy(p, &v, sizeof v); }
/* m ? a : b for a lane mask m (all ones or zero) */
static inline vf sel(vi m, vf a, vf b) { return (vf)((m & (vi)a) | (~m & (vi)b)); }
static inline vf vmax(vf a, vf b) { return sel(a > b, a, b); }
static inline vf vmin(vf a, vf b) { return sel(a < b, a, b); }
static inline vf vabs(vf a) { return (vf)((vi)a & splati(0x7fffffff)); }

static inline vf vexp(vf x) {
  const vf magic = splat(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
  vf xc = vmin(vmax(x, splat(-104.0f)), splat(88.8f));
  vi nan = x != x;
  vf t = xc * splat(1.44269504088896341f) + magic;
  vi n = (vi)t - (vi)magic;
  vf fn = t - magic;
  vf r = xc - fn * splat(0.693359375f);
  r = r - fn * splat(-2.12194440e-4f);
  vf p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  p = p * (r * r) + r + splat(1.0f);
  /* p * 2^n as two factors, so that n in [-150, 128] stays in the normal range */
  vi n1 = n >> 1, n2 = n - n1;
  vf s1 = (vf)((n1 + 127) << 23), s2 = (vf)((n2 + 127) << 23);
  vf y = p * s1 * s2;
  y = sel(x > splat(88.72283172607421875f), splat(INFINITY), y);
  return sel(nan, x, y);
}

static inline vf vlog(vf x) {
  vi neg = x < splat(0.0f), zero = x == splat(0.0f), nan = x != x;
  vi inf = x == splat(INFINITY);
  /* subnormals: scale into the normal range first */
  vi sub = x < splat(1.17549435e-38f);
  vf xs = sel(sub, x * splat(8388608.0f), x);
  vi bits = (vi)xs;
  vi e = ((bits >> 23) & splati(0xff)) - splati(126) - (sub & splati(23));
  vf m = (vf)((bits & splati(0x007fffff)) | splati(0x3f000000)); /* [0.5, 1) */
  vi small = m < splat(0.707106781186547524f);
  e = e + small; /* small is -1 where true */
  vf f = m - splat(1.0f) + (vf)(small & (vi)m);
  vf fe = __builtin_convertvector(e, vf);
  vf z = f * f;
  vf p = splat(7.0376836292e-2f);
  p = p * f + splat(-1.1514610310e-1f);
  p = p * f + splat(1.1676998740e-1f);
  p = p * f + splat(-1.2420140846e-1f);
  p = p * f + splat(1.4249322787e-1f);
  p = p * f + splat(-1.6668057665e-1f);
  p = p * f + splat(2.0000714765e-1f);
  p = p * f + splat(-2.4999993993e-1f);
  p = p * f + splat(3.3333331174e-1f);
  vf y = f * z * p;
  y = y + fe * splat(-2.12194440e-4f);
  y = y - splat(0.5f) * z;
  y = f + y + fe * splat(0.693359375f);
  y = sel(inf, x, y);
  y = sel(zero, splat(-INFINITY), y);
  y = sel(neg | nan, splat(NAN), y);
  return sel(nan, x, y);
}

static inline vf vtanh(vf x) {
  vf ax = vabs(x);
  vf z = x * x;
  vf p = splat(-5.70498872745e-3f);
  p = p * z + splat(2.06390887954e-2f);
  p = p * z + splat(-5.37397155531e-2f);
  p = p * z + splat(1.33314422036e-1f);
  p = p * z + splat(-3.33332819422e-1f);
  vf small = x + x * z * p;
  vf big = splat(1.0f) - splat(2.0f) / (vexp(ax + ax) + splat(1.0f));
  big = (vf)((vi)big | ((vi)x & splati((int32_t)0x80000000u))); /* x's sign */
  return sel(ax < splat(0.625f), small, big);
}

static inline vf vsigmoid(vf x) { return splat(1.0f) / (splat(1.0f) + vexp(-x)); }

/* erfc(z) for z >= 0 as t exp(-z^2 + P(t)), t = 1 / (1 + z/2) (relative error ~1.2e-7) */
static inline vf verfc_pos(vf z) {
  vf t = splat(1.0f) / (splat(1.0f) + splat(0.5f) * z);
  vf p = splat(0.17087277f);
  p = p * t + splat(-0.82215223f);
  p = p * t + splat(1.48851587f);
  p = p * t + splat(-1.13520398f);
  p = p * t + splat(0.27886807f);
  p = p * t + splat(-0.18628806f);
  p = p * t + splat(0.09678418f);
  p = p * t + splat(0.37409196f);
  p = p * t + splat(1.00002368f);
  p = p * t + splat(-1.26551223f);
  return t * vexp(p - z * z);
}

/* x Phi(x) = x erfc(-x / sqrt 2) / 2: for x < 0 directly, else x (1 - erfc(x / sqrt 2) / 2) */
static inline vf vgelu(vf x) {
  vf c = verfc_pos(vabs(x) * splat(0.70710678118654752f)) * splat(0.5f);
  vf y = x * sel(x < splat(0.0f), c, splat(1.0f) - c);
  return sel(x != x, x, y);
}

#define MAP(NAME, F)                                                        \
  static void FN(NAME)(float *o, const float *a, int64_t n) {              \
    int64_t i = 0;                                                          \
    for (; i + W <= n; i += W) store(o + i, F(load(a + i)));                \
    if (i < n) {                                                            \
      float buf[W] = {0};                                                   \
      memcpy(buf, a + i, (size_t)(n - i) * 4);                              \
      store(buf, F(load(buf)));                                             \
      memcpy(o + i, buf, (size_t)(n - i) * 4);                              \
    }                                                                       \
  }

MAP(exp_, vexp)
MAP(log_, vlog)
MAP(tanh_, vtanh)
MAP(sigmoid_, vsigmoid)
MAP(gelu_, vgelu)

static float FN(max_)(const float *a, int64_t n) {
  vf m = splat(a[0]);
  vi nan = splati(0);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    vf v = load(a + i);
    nan |= v != v;
    m = vmax(m, v);
  }
  float r = m[0];
  for (int k = 1; k < W; k++) r = m[k] > r ? m[k] : r;
  int any = 0;
  for (int k = 0; k < W; k++) any |= nan[k];
  for (; i < n; i++) { any |= a[i] != a[i]; r = a[i] > r ? a[i] : r; }
  return any ? NAN : r;
}

static float FN(exp_sum_)(float *o, const float *a, int64_t n, float shift) {
  vf s0 = splat(0.0f), s1 = splat(0.0f), sh = splat(shift);
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    vf e0 = vexp(load(a + i) - sh), e1 = vexp(load(a + i + W) - sh);
    if (o) { store(o + i, e0); store(o + i + W, e1); }
    s0 += e0;
    s1 += e1;
  }
  for (; i < n; i += W) {
    float buf[W];
    int64_t k = n - i < W ? n - i : W;
    for (int j = 0; j < W; j++) buf[j] = j < k ? a[i + j] : -INFINITY;
    vf e = vexp(load(buf) - sh);
    if (o) { store(buf, e); memcpy(o + i, buf, (size_t)k * 4); }
    s0 += e;
  }
  s0 += s1;
  /* pairwise across lanes */
  for (int w = W / 2; w >= 1; w /= 2)
    for (int k = 0; k < w; k++) s0[k] += s0[k + w];
  return s0[0];
}

static void FN(affine_)(float *o, const float *a, int64_t n, float s, float c) {
  vf vs = splat(s), vc = splat(c);
  int64_t i = 0;
  for (; i + W <= n; i += W) store(o + i, load(a + i) * vs + vc);
  if (i < n) {
    float buf[W] = {0};
    memcpy(buf, a + i, (size_t)(n - i) * 4);
    store(buf, load(buf) * vs + vc);
    memcpy(o + i, buf, (size_t)(n - i) * 4);
  }
}

const wick_cpu_vec FN(wick_cpu_vec_) = {
  .name = VEC_NAME,
  .exp = FN(exp_), .log = FN(log_), .tanh = FN(tanh_), .sigmoid = FN(sigmoid_), .gelu = FN(gelu_),
  .max = FN(max_), .exp_sum = FN(exp_sum_), .affine = FN(affine_),
};
