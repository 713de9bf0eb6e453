/* CPU prefix sums and products (cumsum, cumprod) along one dim. Float dtypes accumulate in
 * double, integers in int64 (wrapping), as PyTorch. Two loop orders: a line at a time when the
 * scanned dim is the fastest in memory; otherwise a block of neighbouring lines advances
 * together (cumsum(0) of [N, C] reads rows in order instead of crawling columns). */
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"
#include "iter.h"
#include "runs.h"

#define BLOCK 256 /* lines scanned together */

typedef struct {
  bool fdom, prod;
  wick_dtype dt, odt;
  const char *in;
  char *out;
  int64_t n, as, os;     /* length and byte strides along the scanned dim */
  int nd;                /* the other dims */
  int64_t sizes[WICK_MAX_DIMS], astr[WICK_MAX_DIMS], ostr[WICK_MAX_DIMS]; /* elements */
  int64_t isz, osz;
  int64_t width, nblk;   /* block mode: innermost other dim, blocks per row */
} scan_plan;

/* Scans `nb` neighbouring lines (byte strides cs/cso between lines) starting at p/o. */
static void scan_lines(const scan_plan *S, const char *p, char *o, int64_t cs, int64_t cso, int64_t nb) {
  if (S->fdom) {
    double acc[BLOCK], buf[BLOCK];
    for (int64_t j = 0; j < nb; j++) acc[j] = S->prod ? 1 : 0;
    if (nb == 1 && S->dt == S->odt && S->dt == WICK_DTYPE_F32 && S->as == 4 && S->os == 4) {
      const float *x = (const float *)p; /* the hot case in one pass */
      float *y = (float *)o;
      double a = acc[0];
      if (S->prod) for (int64_t k = 0; k < S->n; k++) y[k] = (float)(a *= x[k]);
      else for (int64_t k = 0; k < S->n; k++) y[k] = (float)(a += x[k]);
      return;
    }
    if (nb == 1) { /* one line: convert it in chunks along the dim */
      double a = acc[0];
      for (int64_t k = 0; k < S->n; k += BLOCK) {
        int64_t m = S->n - k < BLOCK ? S->n - k : BLOCK;
        wick_load_run_f(buf, p + k * S->as, S->as, m, S->dt);
        if (S->prod) for (int64_t i = 0; i < m; i++) buf[i] = a *= buf[i];
        else for (int64_t i = 0; i < m; i++) buf[i] = a += buf[i];
        wick_store_run_f(o + k * S->os, S->os, S->odt, buf, m);
      }
      return;
    }
    for (int64_t k = 0; k < S->n; k++) {
      wick_load_run_f(buf, p + k * S->as, cs, nb, S->dt);
      if (S->prod) for (int64_t j = 0; j < nb; j++) acc[j] *= buf[j];
      else for (int64_t j = 0; j < nb; j++) acc[j] += buf[j];
      wick_store_run_f(o + k * S->os, cso, S->odt, acc, nb);
    }
  } else {
    int64_t acc[BLOCK], buf[BLOCK];
    for (int64_t j = 0; j < nb; j++) acc[j] = S->prod ? 1 : 0;
    if (nb == 1) {
      uint64_t a = (uint64_t)acc[0];
      for (int64_t k = 0; k < S->n; k += BLOCK) {
        int64_t m = S->n - k < BLOCK ? S->n - k : BLOCK;
        wick_load_run_i(buf, p + k * S->as, S->as, m, S->dt);
        if (S->prod) for (int64_t i = 0; i < m; i++) buf[i] = (int64_t)(a *= (uint64_t)buf[i]);
        else for (int64_t i = 0; i < m; i++) buf[i] = (int64_t)(a += (uint64_t)buf[i]);
        wick_store_run_i(o + k * S->os, S->os, S->odt, buf, m);
      }
      return;
    }
    for (int64_t k = 0; k < S->n; k++) {
      wick_load_run_i(buf, p + k * S->as, cs, nb, S->dt);
      if (S->prod) for (int64_t j = 0; j < nb; j++) acc[j] = (int64_t)((uint64_t)acc[j] * (uint64_t)buf[j]);
      else for (int64_t j = 0; j < nb; j++) acc[j] = (int64_t)((uint64_t)acc[j] + (uint64_t)buf[j]);
      wick_store_run_i(o + k * S->os, cso, S->odt, acc, nb);
    }
  }
}

wick_status wick_cpu_cumulative(wick_tensor *out, const wick_tensor *a, int dim, int prod) {
  scan_plan S;
  memset(&S, 0, sizeof S);
  S.fdom = wick_dtype_is_float(a->dtype);
  S.prod = prod != 0;
  S.dt = a->dtype;
  S.odt = out->dtype;
  S.in = (const char *)wick_tensor_data(a);
  S.out = (char *)wick_tensor_data(out);
  S.isz = (int64_t)wick_dtype_size(a->dtype);
  S.osz = (int64_t)wick_dtype_size(out->dtype);
  if (a->ndim == 0) { /* a 0-d tensor is its own prefix */
    if (S.fdom) { double v = wick_load_f64(S.in, S.dt); wick_store_f64(S.out, S.odt, v); }
    else wick_store_i64(S.out, S.odt, wick_load_i64(S.in, S.dt));
    return WICK_OK;
  }
  S.n = a->sizes[dim];
  S.as = a->strides[dim] * S.isz;
  S.os = out->strides[dim] * S.osz;
  int64_t lines = 1;
  for (int d = 0; d < a->ndim; d++) {
    if (d == dim) continue;
    S.sizes[S.nd] = a->sizes[d];
    S.astr[S.nd] = a->strides[d];
    S.ostr[S.nd] = out->strides[d];
    lines *= a->sizes[d];
    S.nd++;
  }
  if (lines == 0 || S.n == 0) return WICK_OK;
  S.nd = wick_coalesce(S.nd, S.sizes, S.astr, S.ostr);
  /* block mode when a neighbouring line is nearer in memory than the next element */
  bool block = S.nd > 0 && S.sizes[S.nd - 1] > 1 && wick_iabs(S.astr[S.nd - 1]) * S.isz < wick_iabs(S.as);
  int64_t ntasks = lines;
  if (block) {
    S.width = S.sizes[S.nd - 1];
    S.nblk = (S.width + BLOCK - 1) / BLOCK;
    ntasks = lines / S.width * S.nblk;
  }
  int nt = 1;
#ifdef _OPENMP
  if (lines * S.n >= WICK_GRAIN && !omp_in_parallel()) nt = omp_get_max_threads();
#endif
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t t = 0; t < ntasks; t++) {
    if (!block) {
      const char *p = S.in + wick_offset_of(S.nd, S.sizes, S.astr, t) * S.isz;
      char *o = S.out + wick_offset_of(S.nd, S.sizes, S.ostr, t) * S.osz;
      scan_lines(&S, p, o, 0, 0, 1);
    } else {
      int64_t g = t / S.nblk, c0 = (t % S.nblk) * BLOCK;
      int64_t nb = S.width - c0 < BLOCK ? S.width - c0 : BLOCK;
      int64_t ca = S.astr[S.nd - 1], co = S.ostr[S.nd - 1];
      const char *p = S.in + (wick_offset_of(S.nd - 1, S.sizes, S.astr, g) + c0 * ca) * S.isz;
      char *o = S.out + (wick_offset_of(S.nd - 1, S.sizes, S.ostr, g) + c0 * co) * S.osz;
      scan_lines(&S, p, o, ca * S.isz, co * S.osz, nb);
    }
  }
  return WICK_OK;
}
