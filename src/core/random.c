/* Random tensor ops: PyTorch's argument checks (and messages), then the device's `random` slot
 * under the generator's lock; a device without one gets a CPU fill copied over. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "ops.h"
#include "rng.h"

static wick_status run_fill(wick_tensor *t, wick_generator *g, int kind, double p0, double p1) {
  for (int d = 0; d < t->ndim; d++)
    if (t->strides[d] == 0 && t->sizes[d] > 1)
      return wick_errorf(WICK_ERR_ARG, "unsupported operation: more than one element of the written-to "
                         "tensor refers to a single memory location. Please clone() the tensor before "
                         "performing the operation.");
  g = wick_generator_or_default(g);
  const wick_backend *be = wick_backend_get(t->device.type);
  wick_status s;
  if (be && be->random) {
    pthread_mutex_lock(&g->lock);
    s = be->random(t, g, kind, p0, p1);
    pthread_mutex_unlock(&g->lock);
    if (s == WICK_OK) wick_tensor_bump_version(t);
    return s;
  }
  wick_tensor *tmp;
  WICK_TRY(wick_tensor_new(t->dtype, wick_cpu(), t->ndim, t->sizes, &tmp));
  pthread_mutex_lock(&g->lock);
  s = wick_cpu_backend.random(tmp, g, kind, p0, p1);
  pthread_mutex_unlock(&g->lock);
  if (s == WICK_OK) s = wick_copy_(t, tmp);
  wick_tensor_release(tmp);
  return s;
}

static wick_status need_float(const char *op, const wick_tensor *t) {
  if (wick_dtype_is_float(t->dtype)) return WICK_OK;
  return wick_errorf(WICK_ERR_DTYPE, "%s expects a floating point tensor, got %s", op,
                     wick_dtype_name(t->dtype));
}

static double dtype_max(wick_dtype dt) {
  switch (dt) {
    case WICK_DTYPE_F16: return 65504.0;
    case WICK_DTYPE_BF16: return 3.38953138925153547590470800371487866880e+38;
    case WICK_DTYPE_F32: return FLT_MAX;
    default: return DBL_MAX;
  }
}

wick_status wick_uniform_(wick_tensor *t, double from, double to, wick_generator *g) {
  WICK_TRY(need_float("uniform_", t));
  double max = dtype_max(t->dtype);
  const char *dn = wick_dtype_name(t->dtype);
  if (!(from >= -max && from <= max)) return wick_errorf(WICK_ERR_ARG, "from is out of bounds for %s", dn);
  if (!(to >= -max && to <= max)) return wick_errorf(WICK_ERR_ARG, "to is out of bounds for %s", dn);
  if (!(from <= to))
    return wick_errorf(WICK_ERR_ARG, "uniform_ expects to return a [from, to) range, but found from=%g > to=%g",
                       from, to);
  if (to - from > max)
    return wick_errorf(WICK_ERR_ARG,
                       "uniform_ expects to-from <= the largest %s, but found to=%g and from=%g which "
                       "result in to-from to exceed the limit", dn, to, from);
  return run_fill(t, g, WICK_RANDOM_UNIFORM, from, to);
}

wick_status wick_normal_(wick_tensor *t, double mean, double std, wick_generator *g) {
  if (!(std >= 0.0)) return wick_errorf(WICK_ERR_ARG, "normal expects std >= 0.0, but found std %g", std);
  WICK_TRY(need_float("normal_", t));
  return run_fill(t, g, WICK_RANDOM_NORMAL, mean, std);
}

/* ---- random_ ---- */

static int float_digits(wick_dtype dt) {
  switch (dt) {
    case WICK_DTYPE_F16: return 11;
    case WICK_DTYPE_BF16: return 8;
    case WICK_DTYPE_F32: return 24;
    default: return 53;
  }
}

/* v rounded to the float dtype and back (static_cast<int64_t>(static_cast<scalar_t>(v))) */
static int64_t through_float(int64_t v, wick_dtype dt) {
  double d;
  switch (dt) {
    case WICK_DTYPE_F16: d = wick_f16_to_f32(wick_f32_to_f16((float)v)); break;
    case WICK_DTYPE_BF16: d = wick_bf16_to_f32(wick_f32_to_bf16((float)v)); break;
    case WICK_DTYPE_F32: d = (float)v; break;
    default: d = (double)v; break;
  }
  if (d >= 0x1p63) return INT64_MAX;
  if (d < -0x1p63) return INT64_MIN;
  return (int64_t)d;
}

static int bit_length_minus1(int64_t v) { /* floor(log2(|v|)) for v != 0 */
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  int n = 0;
  while (u >>= 1) n++;
  return n;
}

/* PyTorch's update_from/update_to: move the bounds inward so that rounding to the dtype cannot
 * produce a value outside [from, to). */
static int64_t update_from(int64_t from, wick_dtype dt) {
  int64_t f1 = through_float(from + 1, dt);
  if (f1 < from) from = f1 + ((int64_t)1 << (bit_length_minus1(from + 1) - float_digits(dt) + 1));
  return from;
}
static int64_t update_to(int64_t to, wick_dtype dt) {
  int64_t t1 = through_float(to - 1, dt);
  if (t1 >= to) to = t1 - ((int64_t)1 << (bit_length_minus1(to - 1) - float_digits(dt) + 1));
  return to;
}

static void int_limits(wick_dtype dt, int64_t *lo, int64_t *hi) {
  switch (dt) {
    case WICK_DTYPE_BOOL: *lo = 0; *hi = 1; break;
    case WICK_DTYPE_U8: *lo = 0; *hi = 255; break;
    case WICK_DTYPE_I32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
  }
}

static wick_status check_in_range(int64_t from, int64_t to_inc, wick_dtype dt) {
  const char *dn = wick_dtype_name(dt);
  if (wick_dtype_is_float(dt)) {
    double max = dtype_max(dt);
    if ((double)from < -max || (double)from > max) return wick_errorf(WICK_ERR_ARG, "from is out of bounds for %s", dn);
    if ((double)to_inc < -max || (double)to_inc > max)
      return wick_errorf(WICK_ERR_ARG, "to - 1 is out of bounds for %s", dn);
    return WICK_OK;
  }
  int64_t lo, hi;
  int_limits(dt, &lo, &hi);
  if (from < lo || from > hi) return wick_errorf(WICK_ERR_ARG, "from is out of bounds for %s", dn);
  if (to_inc < lo || to_inc > hi) return wick_errorf(WICK_ERR_ARG, "to - 1 is out of bounds for %s", dn);
  return WICK_OK;
}

/* The backend slot carries bounds as doubles: refuse what a double cannot hold exactly. */
static bool exact_in_double(int64_t v) {
  double d = (double)v;
  return d < 0x1p63 && (int64_t)d == v;
}

wick_status wick_random_(wick_tensor *t, int64_t from, bool has_to, int64_t to, wick_generator *g) {
  wick_dtype dt = t->dtype;
  bool fl = wick_dtype_is_float(dt);
  double p1;
  if (has_to) {
    if (from >= to)
      return wick_errorf(WICK_ERR_ARG, "random_ expects 'from' to be less than 'to', but got from=%lld >= to=%lld",
                         (long long)from, (long long)to);
    if (fl) {
      from = update_from(from, dt);
      to = update_to(to, dt);
      if (from >= to)
        return wick_errorf(WICK_ERR_ARG,
                           "random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, "
                           "but got from=%lld >= to=%lld", (long long)from, (long long)to);
    }
    WICK_TRY(check_in_range(from, to - 1, dt));
    if (!exact_in_double(to))
      return wick_errorf(WICK_ERR_UNSUPPORTED, "random_: 'to'=%lld is beyond 2^53 and not a power of two "
                         "(not supported)", (long long)to);
    p1 = (double)to;
  } else {
    if (from == INT64_MIN)
      return wick_errorf(WICK_ERR_UNSUPPORTED, "random_: the full 64-bit range (from=-2^63, no 'to') is not supported");
    int64_t to_inc, lo;
    if (fl) {
      int digits = float_digits(dt);
      to_inc = (int64_t)1 << digits;
      from = update_from(from, dt);
      if (from >= to_inc)
        return wick_errorf(WICK_ERR_ARG,
                           "random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' "
                           "casted to dtype, but got from=%lld > to_inc=%lld", (long long)from, (long long)to_inc);
    } else {
      int_limits(dt, &lo, &to_inc);
    }
    WICK_TRY(check_in_range(from, to_inc, dt));
    p1 = to_inc == INT64_MAX ? 0x1p63 : (double)(to_inc + 1);
  }
  if (!exact_in_double(from))
    return wick_errorf(WICK_ERR_UNSUPPORTED, "random_: 'from'=%lld is beyond 2^53 and not a power of two "
                       "(not supported)", (long long)from);
  return run_fill(t, g, WICK_RANDOM_INTEGERS, (double)from, p1);
}

/* ---- bernoulli, exponential ---- */

wick_status wick_bernoulli_(wick_tensor *t, double p, wick_generator *g) {
  if (!(p >= 0 && p <= 1))
    return wick_errorf(WICK_ERR_ARG, "bernoulli_ expects p to be in [0, 1], but got p=%g", p);
  return run_fill(t, g, WICK_RANDOM_BERNOULLI, p, 0);
}

/* Checks lo <= x <= hi for every element of p. */
static wick_status check_values(const wick_tensor *p, double lo, double hi, const char *msg) {
  wick_tensor *c;
  WICK_TRY(wick_to(p, p->dtype, wick_cpu(), false, &c));
  wick_tensor *cc;
  wick_status s = wick_contiguous(c, &cc);
  wick_tensor_release(c);
  if (s != WICK_OK) return s;
  const char *d = wick_tensor_data(cc);
  size_t es = wick_dtype_size(cc->dtype);
  int64_t n = wick_tensor_numel(cc);
  for (int64_t i = 0; i < n && s == WICK_OK; i++) {
    double v = wick_load_f64(d + (size_t)i * es, cc->dtype);
    if (!(v >= lo && v <= hi)) s = wick_errorf(WICK_ERR_ARG, "%s", msg);
  }
  wick_tensor_release(cc);
  return s;
}

wick_status wick_bernoulli_tensor_(wick_tensor *t, const wick_tensor *p, wick_generator *g) {
  if (!wick_dtype_is_float(p->dtype))
    return wick_errorf(WICK_ERR_DTYPE, "bernoulli_ expects a floating point probability tensor, got %s",
                       wick_dtype_name(p->dtype));
  WICK_TRY(check_values(p, 0, 1, "bernoulli_ expects all probabilities to be in [0, 1]"));
  /* bernoulli_distribution<float or double>: one uniform of p's precision per element, in
   * the output's order, compared with p: u < p */
  wick_dtype udt = p->dtype == WICK_DTYPE_F64 ? WICK_DTYPE_F64 : WICK_DTYPE_F32;
  wick_tensor *u = NULL, *pe = NULL, *hit = NULL;
  wick_status s = wick_expand(p, t->ndim, t->sizes, &pe);
  if (s != WICK_OK) {
    wick_error_prefix("bernoulli_");
    return s;
  }
  s = wick_tensor_new(udt, t->device, t->ndim, t->sizes, &u);
  if (s == WICK_OK) s = wick_uniform_(u, 0, 1, g);
  if (s == WICK_OK) s = wick_binary(WICK_BIN_LT, u, pe, &hit);
  if (s == WICK_OK) s = wick_copy_(t, hit);
  wick_tensor_release(u);
  wick_tensor_release(pe);
  wick_tensor_release(hit);
  return s;
}

wick_status wick_bernoulli(const wick_tensor *p, wick_generator *g, wick_tensor **out) {
  WICK_TRY(wick_tensor_new(p->dtype, p->device, p->ndim, p->sizes, out));
  wick_status s = wick_bernoulli_tensor_(*out, p, g);
  if (s != WICK_OK) {
    wick_tensor_release(*out);
    *out = NULL;
  }
  return s;
}

wick_status wick_exponential_(wick_tensor *t, double lambd, wick_generator *g) {
  if (!(lambd >= 0.0))
    return wick_errorf(WICK_ERR_ARG, "exponential_ expects lambda >= 0.0, but found lambda=%g", lambd);
  WICK_TRY(need_float("exponential_", t));
  return run_fill(t, g, WICK_RANDOM_EXPONENTIAL, lambd, 0);
}

/* ---- randperm ---- */

wick_status wick_randperm_tensor(int64_t n, wick_dtype dt, wick_device dev, wick_generator *g,
                                 wick_tensor **out) {
  if (n < 0) return wick_errorf(WICK_ERR_ARG, "randperm: n must be non-negative, got %lld", (long long)n);
  if (dt == WICK_DTYPE_BOOL) return wick_errorf(WICK_ERR_DTYPE, "randperm: dtype bool is not supported");
  if (wick_dtype_is_float(dt)) {
    int digits = float_digits(dt);
    if (n > ((int64_t)1 << digits) + 1)
      return wick_errorf(WICK_ERR_ARG, "randperm: n cannot be greater than 2^%d+1 for %s", digits,
                         wick_dtype_name(dt));
  } else {
    int64_t lo, hi;
    int_limits(dt, &lo, &hi);
    if (n > 0 && n - 1 > hi)
      return wick_errorf(WICK_ERR_ARG, "randperm: n=%lld is too large for dtype %s", (long long)n,
                         wick_dtype_name(dt));
  }
  wick_tensor *perm;
  WICK_TRY(wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 1, &n, &perm));
  wick_status s = wick_randperm(g, n, wick_tensor_data(perm));
  if (s == WICK_OK && (dt != WICK_DTYPE_I64 || dev.type != WICK_DEVICE_CPU)) {
    wick_tensor *conv = NULL;
    s = wick_to(perm, dt, dev, true, &conv);
    wick_tensor_release(perm);
    perm = conv;
  }
  if (s != WICK_OK) {
    wick_tensor_release(perm);
    return s;
  }
  *out = perm;
  return WICK_OK;
}

/* ---- normal with tensor mean/std ---- */

wick_status wick_normal_tensor(const wick_tensor *mean, const wick_tensor *std, wick_generator *g,
                               wick_tensor **out) {
  const wick_tensor *like = mean->wrapped_number ? std : mean;
  if (!wick_dtype_is_float(like->dtype))
    return wick_errorf(WICK_ERR_DTYPE, "normal expects floating point %s, got %s",
                       like == mean ? "mean" : "std", wick_dtype_name(like->dtype));
  if (!wick_dtype_is_float(std->dtype) && !std->wrapped_number)
    return wick_errorf(WICK_ERR_DTYPE, "normal expects floating point std, got %s", wick_dtype_name(std->dtype));
  WICK_TRY(check_values(std, 0, INFINITY, std->wrapped_number
                                              ? "normal expects std >= 0.0"
                                              : "normal expects all elements of std >= 0.0"));
  int nd;
  int64_t shape[WICK_MAX_DIMS];
  WICK_TRY(wick_broadcast_shapes("normal", mean->ndim, mean->sizes, std->ndim, std->sizes, &nd, shape));
  wick_tensor *o;
  WICK_TRY(wick_tensor_new(like->dtype, like->device, nd, shape, &o));
  wick_status s;
  if (std->wrapped_number) {
    /* normal(mean_tensor, std_number): normal_(0, std) then + mean */
    double sv;
    int64_t siv;
    s = wick_item(std, &sv, &siv);
    if (s == WICK_OK) s = wick_normal_(o, 0, sv, g);
  } else {
    s = wick_normal_(o, 0, 1, g);
    if (s == WICK_OK) s = wick_binary_(WICK_BIN_MUL, o, std);
  }
  if (s == WICK_OK) s = wick_binary_(WICK_BIN_ADD, o, mean);
  if (s != WICK_OK) {
    wick_tensor_release(o);
    return s;
  }
  *out = o;
  return WICK_OK;
}
