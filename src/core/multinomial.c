/* torch.multinomial on CPU data, as PyTorch 1.13 samples: without replacement the exponential
 * trick (argmax or top n of p / Exp(1), one exponential per weight); with replacement a binary
 * search of the normalised cumulative distribution, one uniform double per sample (1.13 has no
 * one-sample shortcut there; later versions send it down the exponential path). */
#include <math.h>
#include <stdlib.h>

#include "ops.h"
#include "rng.h"

typedef struct { double v; int64_t i; } ranked;

static int by_value_desc(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* p: contiguous CPU rows x k, f32 or f64. Every row is valid (checked). */
static wick_status without_replacement(const wick_tensor *p, int64_t rows, int64_t k, int64_t n,
                                       wick_generator *g, int64_t *out) {
  wick_tensor *q;
  WICK_TRY(wick_tensor_new(p->dtype, wick_cpu(), p->ndim, p->sizes, &q));
  wick_status s = wick_exponential_(q, 1, g);
  ranked *r = s == WICK_OK ? malloc(sizeof *r * (size_t)k) : NULL;
  if (s == WICK_OK && !r) s = wick_errorf(WICK_ERR_OOM, "multinomial: out of memory");
  bool f32 = p->dtype == WICK_DTYPE_F32;
  for (int64_t row = 0; s == WICK_OK && row < rows; row++) {
    for (int64_t j = 0; j < k; j++) {
      int64_t at = row * k + j;
      /* q = p / q in p's dtype */
      r[j].v = f32 ? (double)(((const float *)wick_tensor_data(p))[at] / ((const float *)wick_tensor_data(q))[at])
                   : ((const double *)wick_tensor_data(p))[at] / ((const double *)wick_tensor_data(q))[at];
      r[j].i = j;
    }
    if (n == 1) {
      int64_t best = 0;
      for (int64_t j = 1; j < k; j++)
        if (r[j].v > r[best].v || (r[j].v != r[j].v && r[best].v == r[best].v)) best = j;
      out[row] = best;
    } else {
      qsort(r, (size_t)k, sizeof *r, by_value_desc);
      for (int64_t j = 0; j < n; j++) out[row * n + j] = r[j].i;
    }
  }
  free(r);
  wick_tensor_release(q);
  return s;
}

/* multinomial_with_replacement: the cumulative sum and its normalisation in p's dtype. */
#define WITH_REPLACEMENT(T)                                                                    \
  static void with_replacement_##T(const T *p, int64_t rows, int64_t k, int64_t n,            \
                                   wick_generator *g, T *cum, int64_t *out) {                 \
    for (int64_t row = 0; row < rows; row++) {                                                 \
      T sum = 0;                                                                               \
      for (int64_t j = 0; j < k; j++) cum[j] = sum = sum + p[row * k + j];                     \
      for (int64_t j = 0; j < k; j++) cum[j] /= sum;                                           \
      cum[k - 1] = 1;                                                                          \
      for (int64_t j = 0; j < n; j++) {                                                        \
        double u = (double)(wick_generator_random64(g) & ((UINT64_C(1) << 53) - 1)) * 0x1p-53; \
        int64_t lo = 0, hi = k;                                                                \
        while (hi - lo > 0) {                                                                  \
          int64_t mid = lo + (hi - lo) / 2;                                                    \
          if (cum[mid] < u) lo = mid + 1;                                                      \
          else hi = mid;                                                                       \
        }                                                                                      \
        out[row * n + j] = lo;                                                                 \
      }                                                                                        \
    }                                                                                          \
  }
WITH_REPLACEMENT(float)
WITH_REPLACEMENT(double)

static wick_status check_rows(const wick_tensor *p, int64_t rows, int64_t k, bool replacement) {
  for (int64_t row = 0; row < rows; row++) {
    double sum = 0;
    for (int64_t j = 0; j < k; j++) {
      double v = wick_load_f64((const char *)wick_tensor_data(p) + (row * k + j) * (int64_t)wick_dtype_size(p->dtype),
                               p->dtype);
      if (!replacement && !(v >= 0 && v < INFINITY))
        return wick_errorf(WICK_ERR_ARG, "probability tensor contains either `inf`, `nan` or element < 0");
      if (v < 0) return wick_errorf(WICK_ERR_ARG, "invalid multinomial distribution (encountering probability entry < 0)");
      if (!isfinite(v))
        return wick_errorf(WICK_ERR_ARG, "invalid multinomial distribution (encountering probability entry = infinity or NaN)");
      sum += v;
    }
    if (!(sum > 0)) return wick_errorf(WICK_ERR_ARG, "invalid multinomial distribution (sum of probabilities <= 0)");
  }
  return WICK_OK;
}

wick_status wick_multinomial(const wick_tensor *p, int64_t n, bool replacement, wick_generator *g,
                             wick_tensor **out) {
  if (!wick_dtype_is_float(p->dtype))
    return wick_errorf(WICK_ERR_DTYPE, "multinomial only supports floating-point dtypes for input, got: %s",
                       wick_dtype_name(p->dtype));
  if (p->ndim != 1 && p->ndim != 2) return wick_errorf(WICK_ERR_SHAPE, "prob_dist must be 1 or 2 dim");
  int64_t k = p->sizes[p->ndim - 1], rows = p->ndim == 2 ? p->sizes[0] : 1;
  if (n <= 0) return wick_errorf(WICK_ERR_ARG, "cannot sample n_sample <= 0 samples");
  if (!replacement && n > k)
    return wick_errorf(WICK_ERR_ARG, "cannot sample n_sample > prob_dist.size(-1) samples without replacement");
  if (k > (1 << 24)) return wick_errorf(WICK_ERR_ARG, "number of categories cannot exceed 2^24");
  wick_dtype wdt = p->dtype == WICK_DTYPE_F64 ? WICK_DTYPE_F64 : WICK_DTYPE_F32;
  wick_tensor *pc = NULL, *res = NULL;
  WICK_TRY(wick_to(p, wdt, wick_cpu(), true, &pc)); /* a fresh contiguous copy */
  int64_t shape[2] = {rows, n};
  wick_status s = check_rows(pc, rows, k, replacement);
  if (s == WICK_OK) s = wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), p->ndim, p->ndim == 2 ? shape : &n, &res);
  if (s == WICK_OK) {
    g = wick_generator_or_default(g);
    if (!replacement) {
      s = without_replacement(pc, rows, k, n, g, wick_tensor_data(res));
    } else {
      void *cum = malloc((size_t)k * wick_dtype_size(wdt));
      if (!cum) s = wick_errorf(WICK_ERR_OOM, "multinomial: out of memory");
      pthread_mutex_lock(&g->lock);
      if (cum && wdt == WICK_DTYPE_F32) with_replacement_float(wick_tensor_data(pc), rows, k, n, g, cum, wick_tensor_data(res));
      else if (cum) with_replacement_double(wick_tensor_data(pc), rows, k, n, g, cum, wick_tensor_data(res));
      pthread_mutex_unlock(&g->lock);
      free(cum);
    }
  }
  wick_tensor_release(pc);
  if (s == WICK_OK && p->device.type != WICK_DEVICE_CPU) {
    wick_tensor *moved = NULL;
    s = wick_to(res, WICK_DTYPE_I64, p->device, false, &moved);
    wick_tensor_release(res);
    res = moved;
  }
  if (s != WICK_OK) {
    wick_tensor_release(res);
    return s;
  }
  *out = res;
  return WICK_OK;
}
