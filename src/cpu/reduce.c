/* CPU reductions: sum, prod, max, min, argmax, argmin, any, all.
 * The input arrives as [lead..., red...] (core moved the reduced dims last, backend.h); each
 * output element reduces the trailing block. Two loop orders cover the layouts:
 *  - inner: the innermost reduced dim is the fastest in memory (rows of a row-major tensor):
 *    every output reduces runs of its row with vector loops;
 *  - outer: an output dim is faster than every reduced one (sum(0) of [N, C]): a block of
 *    neighbouring outputs is accumulated row by row, reading memory in order instead of
 *    crawling it with stride C once per output.
 * Float dtypes accumulate in double (f32 sums in short float blocks first, see sum_f32),
 * integer dtypes in int64 (wrapping, as PyTorch). When
 * there are fewer outputs than threads, the outermost reduced dim is split between threads
 * and the partial results combined in order (so argmax still returns the first maximum).
 * Prefix sums live in cumulative.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"
#include "iter.h"
#include "runs.h"

#define CHUNK 256 /* elements converted into a stack buffer at a time */
#define BLOCK 4096 /* at most this many outputs are accumulated together in the outer order */
#define FOLD_LANES 256 /* narrow rows are read this many elements at a time (outer order) */

typedef struct { double f; int64_t i; int64_t idx; } red_state;

typedef struct {
  wick_redop op;
  bool fdom; /* float domain (double accumulators) or integer domain (int64) */
  wick_dtype dt, odt;
  const char *in;
  char *out;
  int64_t isz, osz;
  int nl, nr;
  int64_t lsz[WICK_MAX_DIMS], lstr[WICK_MAX_DIMS], ostr[WICK_MAX_DIMS]; /* strides in elements */
  int64_t rsz[WICK_MAX_DIMS], rstr[WICK_MAX_DIMS];
  int64_t nout, nred;
  bool outer;
  int64_t width, blk, nblk; /* outer order: innermost lead size, block width, blocks per row */
  int64_t fold;        /* outer order, narrow rows: rows read as one wide row (0: none) */
  bool rows;           /* inner order over contiguous f32 rows [N, C] (the softmax shape) */
} red_plan;

static red_state state_init(wick_redop op) {
  red_state s = {0, 0, 0};
  switch (op) {
    case WICK_RED_PROD: s.f = 1; s.i = 1; break;
    case WICK_RED_MAX: case WICK_RED_ARGMAX: s.f = -INFINITY; s.i = INT64_MIN; break;
    case WICK_RED_MIN: case WICK_RED_ARGMIN: s.f = INFINITY; s.i = INT64_MAX; break;
    case WICK_RED_ALL: s.i = 1; break;
    default: break;
  }
  return s;
}

/* s = s (earlier elements) combined with p (later elements). */
static void state_combine(wick_redop op, red_state *s, const red_state *p) {
  switch (op) {
    case WICK_RED_SUM: s->f += p->f; s->i = (int64_t)((uint64_t)s->i + (uint64_t)p->i); break;
    case WICK_RED_PROD: s->f *= p->f; s->i = (int64_t)((uint64_t)s->i * (uint64_t)p->i); break;
    case WICK_RED_MAX:
      if (p->f > s->f || p->f != p->f) s->f = p->f;
      if (p->i > s->i) s->i = p->i;
      break;
    case WICK_RED_MIN:
      if (p->f < s->f || p->f != p->f) s->f = p->f;
      if (p->i < s->i) s->i = p->i;
      break;
    case WICK_RED_ARGMAX:
      if (p->f > s->f || (p->f != p->f && s->f == s->f) || p->i > s->i) *s = *p;
      break;
    case WICK_RED_ARGMIN:
      if (p->f < s->f || (p->f != p->f && s->f == s->f) || p->i < s->i) *s = *p;
      break;
    case WICK_RED_ANY: s->i |= p->i; break;
    case WICK_RED_ALL: s->i &= p->i; break;
    default: break;
  }
}

static void store_state(const red_plan *P, char *p, const red_state *s) {
  switch (P->op) {
    case WICK_RED_ARGMAX: case WICK_RED_ARGMIN: *(int64_t *)p = s->idx; break;
    case WICK_RED_ANY: case WICK_RED_ALL: wick_store_i64(p, P->odt, s->i != 0); break;
    default:
      if (P->fdom) wick_store_f64(p, P->odt, s->f);
      else wick_store_i64(p, P->odt, s->i);
  }
}

/* Contiguous runs use LANES independent accumulators: one accumulator is a serial dependency
 * chain, which the compiler may not split into vector lanes without -ffast-math. */
#define LANES 16

/* f32 sums: blocks of 16 elements per lane add up in float (cheap vector adds), and the block
 * sums in double, so the error stays that of a 16-term float sum plus double rounding:
 * better than PyTorch's cascade sum, at the speed of float adds. */
static double sum_f32(const float *x, int64_t n) {
  double acc[LANES] = {0}, s = 0;
  int64_t i = 0;
  if (n < LANES) {
    for (; i < n; i++) s += x[i];
    return s;
  }
  for (; i + 16 * LANES <= n; i += 16 * LANES) {
    float b[LANES] = {0};
    for (int k = 0; k < 16; k++)
      for (int j = 0; j < LANES; j++) b[j] += x[i + k * LANES + j];
    for (int j = 0; j < LANES; j++) acc[j] += b[j];
  }
  for (; i + LANES <= n; i += LANES)
    for (int j = 0; j < LANES; j++) acc[j] += x[i + j];
  for (int j = 0; j < LANES; j++) s += acc[j];
  for (; i < n; i++) s += x[i];
  return s;
}

static double sum_f64(const double *x, int64_t n) {
  double acc[LANES] = {0}, s = 0;
  int64_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int j = 0; j < LANES; j++) acc[j] += x[i + j];
  for (int j = 0; j < LANES; j++) s += acc[j];
  for (; i < n; i++) s += x[i];
  return s;
}

/* The max (want_max) or min of x[0..n); *nan tells that some element is NaN. Written with
 * vector types: the compiler does not vectorise a scalar max without -ffast-math. Lanes also
 * add v - v, which stays 0 unless v is NaN or infinite; only then is the run checked exactly. */
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
typedef int64_t i64x2 __attribute__((vector_size(16)));
#define NVEC 4 /* independent vector accumulators */

#define DEF_EXTREME(NAME, T, VT, IT)                                           \
  static T NAME(const T *x, int64_t n, bool want_max, bool *nan) {             \
    enum { W = sizeof(VT) / sizeof(T) };                                       \
    T r = want_max ? -INFINITY : INFINITY;                                     \
    bool b = false;                                                            \
    int64_t i = 0;                                                             \
    if (n >= NVEC * W) {                                                       \
      VT m[NVEC], z[NVEC];                                                     \
      for (int k = 0; k < NVEC; k++) {                                         \
        for (int j = 0; j < W; j++) { m[k][j] = r; z[k][j] = 0; }              \
      }                                                                        \
      for (; i + NVEC * W <= n; i += NVEC * W)                                 \
        for (int k = 0; k < NVEC; k++) {                                       \
          VT v;                                                                \
          memcpy(&v, x + i + k * W, sizeof v);                                 \
          IT take;                                                             \
          if (want_max) take = v > m[k];                                       \
          else take = v < m[k];                                                \
          m[k] = (VT)((take & (IT)v) | (~take & (IT)m[k]));                    \
          z[k] += v - v;                                                       \
        }                                                                      \
      for (int k = 0; k < NVEC; k++)                                           \
        for (int j = 0; j < W; j++) {                                          \
          if (want_max ? m[k][j] > r : m[k][j] < r) r = m[k][j];               \
          b |= z[k][j] != 0;                                                   \
        }                                                                      \
    }                                                                          \
    for (; i < n; i++) {                                                       \
      if (want_max ? x[i] > r : x[i] < r) r = x[i];                            \
      b |= x[i] != x[i];                                                       \
    }                                                                          \
    if (b) { /* NaN or only an infinity? */                                    \
      b = false;                                                               \
      for (i = 0; i < n && !b; i++) b = x[i] != x[i];                          \
    }                                                                          \
    *nan = b;                                                                  \
    return r;                                                                  \
  }
DEF_EXTREME(extreme_f32, float, f32x4, i32x4)
DEF_EXTREME(extreme_f64, double, f64x2, i64x2)

static int64_t extreme_i64(const int64_t *x, int64_t n, bool want_max, bool *nan) {
  int64_t r = want_max ? INT64_MIN : INT64_MAX;
  if (want_max)
    for (int64_t i = 0; i < n; i++) r = x[i] > r ? x[i] : r;
  else
    for (int64_t i = 0; i < n; i++) r = x[i] < r ? x[i] : r;
  *nan = false;
  return r;
}

/* Folds the first position of the extreme of x[0..n) into s (k0: the flat index of x[0]):
 * a vector pass finds each piece's extreme, then a short scan its first position. A NaN
 * wins over everything, and only the first one counts. */
#define DEF_ARGEXT(NAME, T, EXTREME, SF)                                       \
  static void NAME(red_state *s, const T *x, int64_t n, int64_t k0, bool want_max) { \
    for (int64_t c = 0; c < n && s->f == s->f; c += 1024) {                    \
      int64_t m = n - c < 1024 ? n - c : 1024;                                 \
      bool nan;                                                                \
      T e = EXTREME(x + c, m, want_max, &nan);                                 \
      if (nan) {                                                               \
        for (int64_t j = 0; j < m; j++)                                        \
          if (x[c + j] != x[c + j]) { s->f = NAN; s->idx = k0 + c + j; return; } \
      }                                                                        \
      if (m > 0 && (want_max ? e > s->SF : e < s->SF))                         \
        for (int64_t j = 0; j < m; j++)                                        \
          if (x[c + j] == e) { s->SF = e; s->idx = k0 + c + j; break; }        \
    }                                                                          \
  }
DEF_ARGEXT(argext_f32, float, extreme_f32, f)
DEF_ARGEXT(argext_f64, double, extreme_f64, f)
DEF_ARGEXT(argext_i64, int64_t, extreme_i64, i)

/* ---- reducing a contiguous run into one state (k0: flat index of x[0]) ---- */

static void red_f(red_state *s, wick_redop op, const double *x, int64_t n, int64_t k0) {
  switch (op) {
    case WICK_RED_SUM: s->f += sum_f64(x, n); break;
    case WICK_RED_PROD: {
      double a = 1;
      for (int64_t i = 0; i < n; i++) a *= x[i];
      s->f *= a;
      break;
    }
    case WICK_RED_MAX: case WICK_RED_MIN: {
      bool nan;
      double e = extreme_f64(x, n, op == WICK_RED_MAX, &nan);
      red_state p = {nan ? NAN : e, 0, 0};
      state_combine(op, s, &p);
      break;
    }
    case WICK_RED_ARGMAX: argext_f64(s, x, n, k0, true); break;
    case WICK_RED_ARGMIN: argext_f64(s, x, n, k0, false); break;
    case WICK_RED_ANY: { int a = 0; for (int64_t i = 0; i < n; i++) a |= x[i] != 0; s->i |= a; break; }
    case WICK_RED_ALL: { int a = 1; for (int64_t i = 0; i < n; i++) a &= x[i] != 0; s->i &= a; break; }
    default: break;
  }
}

static void red_i(red_state *s, wick_redop op, const int64_t *x, int64_t n, int64_t k0) {
  switch (op) {
    case WICK_RED_SUM: {
      uint64_t a = 0;
#pragma omp simd reduction(+ : a)
      for (int64_t i = 0; i < n; i++) a += (uint64_t)x[i];
      s->i = (int64_t)((uint64_t)s->i + a);
      break;
    }
    case WICK_RED_PROD: {
      uint64_t a = 1;
      for (int64_t i = 0; i < n; i++) a *= (uint64_t)x[i];
      s->i = (int64_t)((uint64_t)s->i * a);
      break;
    }
    case WICK_RED_MAX: case WICK_RED_MIN: {
      bool nan;
      red_state p = {0, extreme_i64(x, n, op == WICK_RED_MAX, &nan), 0};
      state_combine(op, s, &p);
      break;
    }
    case WICK_RED_ARGMAX: argext_i64(s, x, n, k0, true); break;
    case WICK_RED_ARGMIN: argext_i64(s, x, n, k0, false); break;
    case WICK_RED_ANY: { int a = 0; for (int64_t i = 0; i < n; i++) a |= x[i] != 0; s->i |= a; break; }
    case WICK_RED_ALL: { int a = 1; for (int64_t i = 0; i < n; i++) a &= x[i] != 0; s->i &= a; break; }
    default: break;
  }
}

/* The hot f32 cases read the tensor directly: sums in double, extremes exactly in float. */
static bool red_f32_direct(red_state *s, wick_redop op, const float *x, int64_t n, int64_t k0) {
  switch (op) {
    case WICK_RED_SUM: s->f += sum_f32(x, n); return true;
    case WICK_RED_MAX: case WICK_RED_MIN: {
      bool nan;
      float e = extreme_f32(x, n, op == WICK_RED_MAX, &nan);
      red_state p = {nan ? NAN : e, 0, 0};
      state_combine(op, s, &p);
      return true;
    }
    case WICK_RED_ARGMAX: argext_f32(s, x, n, k0, true); return true;
    case WICK_RED_ARGMIN: argext_f32(s, x, n, k0, false); return true;
    default: return false;
  }
}

/* Reduces n elements at p (byte stride st) into s. */
static void run_reduce(const red_plan *P, red_state *s, const char *p, int64_t st, int64_t n, int64_t k0) {
  if (P->fdom) {
    if (P->dt == WICK_DTYPE_F32 && st == 4 && red_f32_direct(s, P->op, (const float *)p, n, k0)) return;
    if (P->dt == WICK_DTYPE_F64 && st == 8) { red_f(s, P->op, (const double *)p, n, k0); return; }
    double buf[CHUNK];
    for (int64_t j = 0; j < n; j += CHUNK) {
      int64_t m = n - j < CHUNK ? n - j : CHUNK;
      wick_load_run_f(buf, p + j * st, st, m, P->dt);
      red_f(s, P->op, buf, m, k0 + j);
    }
  } else {
    if (P->dt == WICK_DTYPE_I64 && st == 8) { red_i(s, P->op, (const int64_t *)p, n, k0); return; }
    int64_t buf[CHUNK];
    for (int64_t j = 0; j < n; j += CHUNK) {
      int64_t m = n - j < CHUNK ? n - j : CHUNK;
      wick_load_run_i(buf, p + j * st, st, m, P->dt);
      red_i(s, P->op, buf, m, k0 + j);
    }
  }
}

/* Odometer over the reduced dims [0, nd) with dim 0 limited to [r0, r1); calls body with the
 * element offset and the row-major flat index of each position. */
#define FOR_RED(P, nd, r0, r1, OFF, FLAT, BODY)                                         \
  do {                                                                                  \
    int64_t idx_[WICK_MAX_DIMS] = {0}, inner_ = 1;                                      \
    for (int d_ = 1; d_ < (nd); d_++) inner_ *= (P)->rsz[d_];                            \
    idx_[0] = (r0);                                                                     \
    int64_t OFF = (r0) * (P)->rstr[0], FLAT = (r0) * inner_;                            \
    int64_t cnt_ = ((r1) - (r0)) * inner_;                                              \
    for (int64_t q_ = 0; q_ < cnt_; q_++, FLAT++) {                                     \
      BODY;                                                                             \
      for (int d_ = (nd) - 1; d_ >= 0; d_--) {                                          \
        OFF += (P)->rstr[d_];                                                           \
        if (++idx_[d_] < (P)->rsz[d_] || d_ == 0) break;                                \
        OFF -= idx_[d_] * (P)->rstr[d_];                                                \
        idx_[d_] = 0;                                                                   \
      }                                                                                 \
    }                                                                                   \
  } while (0)

/* inner order: output o over reduced dim 0 in [r0, r1). */
static void inner_unit(const red_plan *P, int64_t o, int64_t r0, int64_t r1, red_state *s) {
  const char *base = P->in + wick_offset_of(P->nl, P->lsz, P->lstr, o) * P->isz;
  int nr = P->nr;
  int64_t run = P->rsz[nr - 1], rst = P->rstr[nr - 1] * P->isz;
  *s = state_init(P->op);
  if (nr == 1) { run_reduce(P, s, base + r0 * rst, rst, r1 - r0, r0); return; }
  FOR_RED(P, nr - 1, r0, r1, off, flat, run_reduce(P, s, base + off * P->isz, rst, run, flat * run));
}

/* Per-thread scratch of the outer order: block accumulators (af/ai values, ax positions), a
 * conversion buffer (bf/bi) and the block's states. One allocation of 64 bytes per lane. */
typedef struct { double *af, *bf; int64_t *ai, *ax, *bi; red_state *st; } red_ws;

static bool ws_alloc(red_ws *w, int64_t lanes) {
  char *m = malloc((size_t)lanes * 64);
  if (!m) return false;
  w->af = (double *)m;
  w->bf = w->af + lanes;
  w->ai = (int64_t *)(w->bf + lanes);
  w->ax = w->ai + lanes;
  w->bi = w->ax + lanes;
  w->st = (red_state *)(w->bi + lanes);
  return true;
}

/* Folds one row of nb neighbouring outputs (byte stride st) into the block accumulators. */
static void combine_block(const red_plan *P, const red_ws *w, const char *p, int64_t st, int64_t nb,
                          int64_t k) {
  wick_redop op = P->op;
  double *af = w->af;
  int64_t *ai = w->ai, *ax = w->ax;
  if (P->fdom) {
    const double *x = w->bf;
    if (P->dt == WICK_DTYPE_F32 && st == 4 && op != WICK_RED_ARGMAX && op != WICK_RED_ARGMIN &&
        op != WICK_RED_ANY && op != WICK_RED_ALL) { /* the hot f32 cases */
      const float *xf = (const float *)p;
      if (op == WICK_RED_SUM) for (int64_t j = 0; j < nb; j++) af[j] += xf[j];
      else if (op == WICK_RED_PROD) for (int64_t j = 0; j < nb; j++) af[j] *= xf[j];
      else if (op == WICK_RED_MAX)
        for (int64_t j = 0; j < nb; j++) { double v = xf[j]; af[j] = (v > af[j] || v != v) ? v : af[j]; }
      else
        for (int64_t j = 0; j < nb; j++) { double v = xf[j]; af[j] = (v < af[j] || v != v) ? v : af[j]; }
      return;
    }
    if (P->dt == WICK_DTYPE_F64 && st == 8) x = (const double *)p;
    else wick_load_run_f(w->bf, p, st, nb, P->dt);
    switch (op) {
      case WICK_RED_SUM: for (int64_t j = 0; j < nb; j++) af[j] += x[j]; break;
      case WICK_RED_PROD: for (int64_t j = 0; j < nb; j++) af[j] *= x[j]; break;
      case WICK_RED_MAX:
        for (int64_t j = 0; j < nb; j++) af[j] = (x[j] > af[j] || x[j] != x[j]) ? x[j] : af[j];
        break;
      case WICK_RED_MIN:
        for (int64_t j = 0; j < nb; j++) af[j] = (x[j] < af[j] || x[j] != x[j]) ? x[j] : af[j];
        break;
      case WICK_RED_ARGMAX:
        for (int64_t j = 0; j < nb; j++)
          if (x[j] > af[j] || (x[j] != x[j] && af[j] == af[j])) { af[j] = x[j]; ax[j] = k; }
        break;
      case WICK_RED_ARGMIN:
        for (int64_t j = 0; j < nb; j++)
          if (x[j] < af[j] || (x[j] != x[j] && af[j] == af[j])) { af[j] = x[j]; ax[j] = k; }
        break;
      case WICK_RED_ANY: for (int64_t j = 0; j < nb; j++) ai[j] |= x[j] != 0; break;
      case WICK_RED_ALL: for (int64_t j = 0; j < nb; j++) ai[j] &= x[j] != 0; break;
      default: break;
    }
  } else {
    const int64_t *x = w->bi;
    if (P->dt == WICK_DTYPE_I64 && st == 8) x = (const int64_t *)p;
    else wick_load_run_i(w->bi, p, st, nb, P->dt);
    switch (op) {
      case WICK_RED_SUM:
        for (int64_t j = 0; j < nb; j++) ai[j] = (int64_t)((uint64_t)ai[j] + (uint64_t)x[j]);
        break;
      case WICK_RED_PROD:
        for (int64_t j = 0; j < nb; j++) ai[j] = (int64_t)((uint64_t)ai[j] * (uint64_t)x[j]);
        break;
      case WICK_RED_MAX: for (int64_t j = 0; j < nb; j++) ai[j] = x[j] > ai[j] ? x[j] : ai[j]; break;
      case WICK_RED_MIN: for (int64_t j = 0; j < nb; j++) ai[j] = x[j] < ai[j] ? x[j] : ai[j]; break;
      case WICK_RED_ARGMAX:
        for (int64_t j = 0; j < nb; j++) if (x[j] > ai[j]) { ai[j] = x[j]; ax[j] = k; }
        break;
      case WICK_RED_ARGMIN:
        for (int64_t j = 0; j < nb; j++) if (x[j] < ai[j]) { ai[j] = x[j]; ax[j] = k; }
        break;
      case WICK_RED_ANY: for (int64_t j = 0; j < nb; j++) ai[j] |= x[j] != 0; break;
      case WICK_RED_ALL: for (int64_t j = 0; j < nb; j++) ai[j] &= x[j] != 0; break;
      default: break;
    }
  }
}

/* outer order: task t = (lead row g, block b) over reduced dim 0 in [r0, r1); fills s[0..nb). */
static int64_t outer_unit(const red_plan *P, const red_ws *w, int64_t t, int64_t r0, int64_t r1,
                          red_state *s) {
  int64_t g = t / P->nblk, c0 = (t % P->nblk) * P->blk;
  int64_t nb = P->width - c0 < P->blk ? P->width - c0 : P->blk;
  int64_t ls = P->lstr[P->nl - 1];
  const char *base =
      P->in + (wick_offset_of(P->nl - 1, P->lsz, P->lstr, g) + c0 * ls) * P->isz;
  double *af = w->af;
  int64_t *ai = w->ai, *ax = w->ax;
  red_state init = state_init(P->op);
  int64_t k = P->fold ? P->fold : 1, lanes = k * nb;
  for (int64_t j = 0; j < lanes; j++) { af[j] = init.f; ai[j] = init.i; ax[j] = 0; }
  if (k > 1) {
    /* [rows, nb] is contiguous: k rows at a time are one row of k * nb accumulators, which
     * are folded back onto the nb outputs at the end (not for arg*, whose lanes would need
     * their row numbers) */
    int64_t r = r0, rs = P->rstr[0] * P->isz;
    for (; r + k <= r1; r += k) combine_block(P, w, base + r * rs, P->isz, lanes, r);
    for (; r < r1; r++) combine_block(P, w, base + r * rs, P->isz, nb, r);
    for (int64_t j = nb; j < lanes; j++) {
      red_state a = {af[j % nb], ai[j % nb], 0}, b = {af[j], ai[j], 0};
      state_combine(P->op, &a, &b);
      af[j % nb] = a.f;
      ai[j % nb] = a.i;
    }
  } else {
    FOR_RED(P, P->nr, r0, r1, off, flat,
            combine_block(P, w, base + off * P->isz, ls * P->isz, nb, flat));
  }
  for (int64_t j = 0; j < nb; j++) { s[j].f = af[j]; s[j].i = ai[j]; s[j].idx = ax[j]; }
  return nb;
}

/* Stores the states of task t to the output. */
static void store_task(const red_plan *P, int64_t t, const red_state *s) {
  if (!P->outer) {
    store_state(P, P->out + wick_offset_of(P->nl, P->lsz, P->ostr, t) * P->osz, s);
    return;
  }
  int64_t g = t / P->nblk, c0 = (t % P->nblk) * P->blk;
  int64_t nb = P->width - c0 < P->blk ? P->width - c0 : P->blk;
  char *o = P->out + (wick_offset_of(P->nl - 1, P->lsz, P->ostr, g) + c0 * P->ostr[P->nl - 1]) * P->osz;
  for (int64_t j = 0; j < nb; j++) store_state(P, o + j * P->ostr[P->nl - 1] * P->osz, &s[j]);
}

/* One output of the `rows` case, without the generic machinery: with short rows (C = 10
 * classes) the per-output overhead is what costs. */
static void row_f32(const red_plan *P, int64_t t) {
  const float *x = (const float *)P->in + t * P->lstr[0];
  int64_t n = P->rsz[0];
  char *o = P->out + t * P->ostr[0] * P->osz;
  bool nan;
  switch (P->op) {
    case WICK_RED_SUM: *(float *)o = (float)sum_f32(x, n); break;
    case WICK_RED_MAX: case WICK_RED_MIN: {
      float e = extreme_f32(x, n, P->op == WICK_RED_MAX, &nan);
      *(float *)o = nan ? NAN : e;
      break;
    }
    default: {
      red_state st = state_init(P->op);
      argext_f32(&st, x, n, 0, P->op == WICK_RED_ARGMAX);
      *(int64_t *)o = st.idx;
    }
  }
}

static void run_unit(const red_plan *P, const red_ws *w, int64_t t, int64_t r0, int64_t r1,
                     red_state *s) {
  if (P->outer) outer_unit(P, w, t, r0, r1, s);
  else inner_unit(P, t, r0, r1, s);
}

/* The work of one thread (or of the caller alone): the `omp for` loops below share the tasks
 * when called inside a parallel region and run them all otherwise. */
static void run_tasks(red_plan *pp, int64_t lanes, int64_t parts, int64_t ntasks, int64_t per,
                      red_state *scratch, int *oom_flag) {
  red_plan P = *pp;
  int oom = 0;
  red_ws w = {0};
  red_state one;
  if (P.outer && !ws_alloc(&w, lanes)) {
    oom = 1;
  }
  red_state *s = P.outer ? w.st : &one;
  bool ok = !P.outer || w.af; /* every thread must still reach the worksharing loops */
  if (parts == 1) {
#pragma omp for schedule(static)
    for (int64_t t = 0; t < ntasks; t++) {
      if (P.rows) { row_f32(&P, t); continue; }
      if (!ok) continue;
      run_unit(&P, &w, t, 0, P.rsz[0], s);
      store_task(&P, t, s);
    }
  } else {
    /* few outputs: split reduced dim 0 into parts, combined in order below */
#pragma omp for schedule(static)
    for (int64_t u = 0; u < ntasks * parts; u++) {
      if (!ok) continue;
      int64_t t = u / parts, k = u % parts;
      int64_t r0 = P.rsz[0] * k / parts, r1 = P.rsz[0] * (k + 1) / parts;
      run_unit(&P, &w, t, r0, r1, s);
      memcpy(scratch + u * per, s, (size_t)per * sizeof *s);
    }
  }
  free(w.af);
  if (oom) {
#pragma omp atomic write
    *oom_flag = 1;
  }
}

wick_status wick_cpu_reduce(wick_redop op, wick_tensor *out, const wick_tensor *a, int nred) {
  red_plan P;
  memset(&P, 0, sizeof P);
  P.op = op;
  P.dt = a->dtype;
  P.odt = out->dtype;
  P.fdom = wick_dtype_is_float(a->dtype);
  P.in = (const char *)wick_tensor_data(a);
  P.out = (char *)wick_tensor_data(out);
  P.isz = (int64_t)wick_dtype_size(a->dtype);
  P.osz = (int64_t)wick_dtype_size(out->dtype);
  int nl = a->ndim - nred;
  P.nout = 1;
  for (int d = 0; d < nl; d++) {
    P.lsz[d] = a->sizes[d];
    P.lstr[d] = a->strides[d];
    P.ostr[d] = out->strides[d];
    P.nout *= a->sizes[d];
  }
  P.nred = 1;
  for (int d = 0; d < nred; d++) {
    P.rsz[d] = a->sizes[nl + d];
    P.rstr[d] = a->strides[nl + d];
    P.nred *= P.rsz[d];
  }
  if (P.nout == 0) return WICK_OK;
  if (P.nred == 0) { /* empty reductions: the identity (core rejects max/min/arg*) */
    red_state s = state_init(op);
    for (int64_t o = 0; o < P.nout; o++)
      store_state(&P, P.out + wick_offset_of(nl, P.lsz, P.ostr, o) * P.osz, &s);
    return WICK_OK;
  }
  P.nl = wick_coalesce(nl, P.lsz, P.lstr, P.ostr);
  P.nr = wick_coalesce(nred, P.rsz, P.rstr, NULL);
  if (P.nr == 0) { P.nr = 1; P.rsz[0] = 1; P.rstr[0] = 0; }
  P.outer = P.nl > 0 && P.lsz[P.nl - 1] > 1 && wick_iabs(P.lstr[P.nl - 1]) < wick_iabs(P.rstr[P.nr - 1]);
  bool arg = op == WICK_RED_ARGMAX || op == WICK_RED_ARGMIN;
  int64_t ntasks = P.nout, per = 1, lanes = 1; /* states per task, accumulators per task */
  if (P.outer) {
    /* wide blocks keep each row's reads long and sequential */
    P.width = P.lsz[P.nl - 1];
    P.nblk = (P.width + BLOCK - 1) / BLOCK;
    P.blk = (P.width + P.nblk - 1) / P.nblk;
    ntasks = P.nout / P.width * P.nblk;
    per = lanes = P.blk;
    if (P.nr == 1 && P.lstr[P.nl - 1] == 1 && P.rstr[0] == P.width && P.width * 2 <= FOLD_LANES &&
        !arg) {
      P.fold = FOLD_LANES / P.width;
      lanes = P.fold * P.width;
    }
  }
  P.rows = !P.outer && P.nl == 1 && P.nr == 1 && P.dt == WICK_DTYPE_F32 && P.rstr[0] == 1 &&
           (arg || ((op == WICK_RED_SUM || op == WICK_RED_MAX || op == WICK_RED_MIN) &&
                   P.odt == WICK_DTYPE_F32));

  int nt = 1;
#ifdef _OPENMP
  if (P.nout * P.nred >= WICK_GRAIN && !omp_in_parallel()) nt = omp_get_max_threads();
#endif
  int64_t parts = 1;
  if (nt > 1 && ntasks < nt) {
    parts = (nt + ntasks - 1) / ntasks;
    if (parts > P.rsz[0]) parts = P.rsz[0];
  }
  red_state *scratch = NULL; /* partial states of split tasks */
  if (parts > 1 && !(scratch = malloc((size_t)(ntasks * parts * per) * sizeof *scratch)))
    return wick_errorf(WICK_ERR_OOM, "reduce: out of memory for partial results");
  int oom = 0;
  /* small reductions never enter a parallel region: even a one-thread region costs more than
   * summing a few hundred numbers */
  if (nt > 1) {
#pragma omp parallel num_threads(nt)
    run_tasks(&P, lanes, parts, ntasks, per, scratch, &oom);
  } else {
    run_tasks(&P, lanes, parts, ntasks, per, scratch, &oom);
  }
  if (!oom && parts > 1) {
    for (int64_t t = 0; t < ntasks; t++) {
      red_state *s = scratch + t * parts * per;
      for (int64_t k = 1; k < parts; k++)
        for (int64_t j = 0; j < per; j++) state_combine(op, &s[j], &s[k * per + j]);
      store_task(&P, t, s);
    }
  }
  free(scratch);
  if (oom) return wick_errorf(WICK_ERR_OOM, "reduce: out of memory for the block accumulators");
  return WICK_OK;
}
