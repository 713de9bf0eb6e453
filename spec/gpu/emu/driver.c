/* The CUDA kernels (the launchers of kernels/kview.h), run on the host by the emulator
 * (emu.h), against the CPU backend's slots on identical inputs: every slot and dtype, strided
 * and broadcast operands, the split and two-pass reductions, both scatter paths and both scan
 * paths. Run by spec/gpu/emu/run.sh; exits non-zero on a mismatch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "core/rng.h"
#include "cpu/cpu.h"
#include "kview.h"

/* the runtime calls the launchers make (src/cuda/cuda_rt.h), on host memory */
wick_status wick_cuda_launch_check(const char *op) { (void)op; return WICK_OK; }
wick_status wick_cuda_status(cudaError_t e, const char *op) { return e ? wick_errorf(WICK_ERR_CUDA, "%s: %d", op, (int)e) : WICK_OK; }
void *wick_cuda_alloc(size_t n, int d) { (void)d; return malloc(n ? n : 1); }
void wick_cuda_free(void *p, size_t n, int d) { (void)n; (void)d; free(p); }
cudaStream_t wick_cuda_current_stream(int d) { (void)d; return 0; }

static int fails, checks;
static wick_kview kv(const wick_tensor *t) {
  wick_kview v; memset(&v, 0, sizeof v);
  v.data = wick_tensor_data(t); v.dtype = t->dtype; v.ndim = t->ndim; v.device = 0;
  memcpy(v.sizes, t->sizes, sizeof(int64_t) * t->ndim); memcpy(v.strides, t->strides, sizeof(int64_t) * t->ndim);
  return v;
}
static double urand(void) { return rand() / (RAND_MAX + 1.0); }
static wick_tensor *rnd(wick_dtype dt, int nd, const int64_t *sz, int nonzero) {
  wick_tensor *t; if (wick_tensor_new(dt, wick_cpu(), nd, sz, &t)) abort();
  int64_t n = wick_tensor_numel(t); size_t es = wick_dtype_size(dt);
  for (int64_t i = 0; i < n; i++) {
    char *p = (char *)wick_tensor_data(t) + i * es;
    if (wick_dtype_is_float(dt)) {
      double v = (urand() - 0.5) * 6; if (urand() < 0.03) v = NAN; if (urand() < 0.02) v = floor(v);
      wick_store_f64(p, dt, v);
    } else {
      int64_t v = dt == WICK_DTYPE_BOOL ? rand() % 2 : dt == WICK_DTYPE_U8 ? rand() % 200 : rand() % 40 - 20;
      if (nonzero && v == 0) v = 1;
      wick_store_i64(p, dt, v);
    }
  }
  return t;
}
static wick_tensor *like(const wick_tensor *t, wick_dtype dt) { wick_tensor *o; if (wick_tensor_new(dt, wick_cpu(), t->ndim, t->sizes, &o)) abort(); memset(wick_tensor_data(o), 0, wick_tensor_numel(o) * wick_dtype_size(dt)); return o; }
/* compare two tensors of one shape (any strides) */
static void same(const wick_tensor *a, const wick_tensor *b, double tol, const char *what) {
  checks++;
  int64_t n = wick_tensor_numel(a), idx[8] = {0};
  for (int64_t i = 0; i < n; i++) {
    int64_t oa = 0, ob = 0;
    for (int d = 0; d < a->ndim; d++) { oa += idx[d] * a->strides[d]; ob += idx[d] * b->strides[d]; }
    const char *pa = (const char *)wick_tensor_data(a) + oa * wick_dtype_size(a->dtype);
    const char *pb = (const char *)wick_tensor_data(b) + ob * wick_dtype_size(b->dtype);
    int bad;
    if (wick_dtype_is_float(a->dtype)) {
      double x = wick_load_f64(pa, a->dtype), y = wick_load_f64(pb, b->dtype);
      bad = (isnan(x) != isnan(y)) || (!isnan(x) && !(x == y || fabs(x - y) <= tol * (1 + fabs(y))));
      if (bad) { if (fails++ < 30) printf("FAIL %s at %ld: %.9g vs %.9g\n", what, (long)i, x, y); return; }
    } else {
      int64_t x = wick_load_i64(pa, a->dtype), y = wick_load_i64(pb, b->dtype);
      if (x != y) { if (fails++ < 30) printf("FAIL %s at %ld: %ld vs %ld\n", what, (long)i, (long)x, (long)y); return; }
    }
    for (int d = a->ndim - 1; d >= 0; d--) { if (++idx[d] < a->sizes[d]) break; idx[d] = 0; }
  }
}
static double tolf(wick_dtype dt) { return dt == WICK_DTYPE_F16 || dt == WICK_DTYPE_BF16 ? 1e-2 : dt == WICK_DTYPE_F32 ? 1e-5 : dt == WICK_DTYPE_F64 ? 1e-12 : 0; }
static wick_tensor *tr(wick_tensor *t) { wick_tensor *o; int64_t p[2] = {1, 0}; if (wick_permute(t, 2, p, &o)) abort(); return o; }

int main(void) {
  srand(7);
  int64_t sz[2] = {13, 11}, szt[2] = {11, 13}, row[2] = {1, 11};
  for (int dt = 0; dt < WICK_DTYPE_COUNT; dt++) {
    bool fl = wick_dtype_is_float(dt);
    /* binary */
    for (int op = 0; op < WICK_BIN_COUNT; op++) {
      unsigned flags = wick_binop_flags(op);
      if ((flags & WICK_OPF_INT_ONLY) && fl) continue;
      if ((flags & WICK_OPF_FLOAT_OUT) && !fl) continue;
      int nz = !fl && (op == WICK_BIN_FMOD || op == WICK_BIN_REMAINDER || op == WICK_BIN_FLOOR_DIVIDE);
      for (int lay = 0; lay < 2; lay++) {
        wick_tensor *a0 = rnd(dt, 2, lay ? szt : sz, 0), *b0 = rnd(dt, 2, lay ? row : sz, nz);
        wick_tensor *a = lay ? tr(a0) : wick_tensor_retain(a0), *b;
        if (lay) { if (wick_expand(b0, 2, sz, &b)) abort(); } else b = wick_tensor_retain(b0);
        wick_dtype odt = flags & WICK_OPF_BOOL_OUT ? WICK_DTYPE_BOOL : dt;
        wick_tensor *r1 = like(a, odt), *r2 = like(a, odt);
        wick_status s1 = wick_cpu_binary(op, r1, a, b);
        wick_kview o = kv(r2), x = kv(a), y = kv(b);
        wick_status s2 = wick_k_binary(op, &o, &x, &y, 0);
        char w[64]; snprintf(w, sizeof w, "binary %d %s lay %d", op, wick_dtype_name(dt), lay);
        if (s1 != s2) { fails++; printf("FAIL status %s %d %d\n", w, s1, s2); }
        else if (!s1) same(r2, r1, (op == WICK_BIN_POW || op == WICK_BIN_ATAN2 || op == WICK_BIN_FLOOR_DIVIDE) ? 1e-4 + tolf(odt) : tolf(odt), w);
        wick_tensor_release(a0); wick_tensor_release(b0); wick_tensor_release(a); wick_tensor_release(b); wick_tensor_release(r1); wick_tensor_release(r2);
      }
    }
    /* division by zero */
    if (!fl && dt != WICK_DTYPE_BOOL) {
      wick_tensor *a = rnd(dt, 2, sz, 0), *b = rnd(dt, 2, sz, 0), *r = like(a, dt);
      memset(wick_tensor_data(b), 0, wick_dtype_size(dt));
      wick_kview o = kv(r), x = kv(a), y = kv(b);
      wick_status s = wick_k_binary(WICK_BIN_FLOOR_DIVIDE, &o, &x, &y, 0);
      checks++;
      if (!s || strcmp(wick_last_error(), "ZeroDivisionError: integer division by zero")) { fails++; printf("FAIL div0 %s\n", wick_last_error()); }
      wick_tensor_release(a); wick_tensor_release(b); wick_tensor_release(r);
    }
    /* unary */
    for (int op = 0; op < WICK_UN_COUNT; op++) {
      unsigned flags = wick_unop_flags(op);
      if ((flags & WICK_OPF_FLOAT_OUT) && !fl) continue;
      if ((flags & WICK_OPF_INT_ONLY) && fl) continue;
      if (op == WICK_UN_NEG && dt == WICK_DTYPE_BOOL) continue;
      bool rb = flags & WICK_OPF_BOOL_OUT;
      wick_tensor *a0 = rnd(dt, 2, szt, 0), *a = tr(a0), *r1 = like(a, rb ? WICK_DTYPE_BOOL : dt), *r2 = like(a, rb ? WICK_DTYPE_BOOL : dt);
      double p0 = op == WICK_UN_LEAKY_RELU ? 0.1 : op == WICK_UN_ELU ? 1.5 : -1.5, p1 = op == WICK_UN_CLAMP && dt == WICK_DTYPE_F32 ? NAN : 2.25;
      wick_cpu_unary(op, r1, a, p0, p1);
      wick_kview o = kv(r2), x = kv(a);
      wick_status s = wick_k_unary(op, &o, &x, p0, p1, 0);
      char w[64]; snprintf(w, sizeof w, "unary %d %s", op, wick_dtype_name(dt));
      if (s) { fails++; printf("FAIL status %s: %s\n", w, wick_last_error()); } else same(r2, r1, tolf(r1->dtype) * (fl ? 10 : 1), w);
      /* backward */
      if (fl) {
        wick_tensor *g = rnd(dt, 2, sz, 0), *y = r1->dtype == dt ? r1 : NULL;
        /* finite gradients: the CPU's generic relu backward lets a NaN gradient through where
         * x <= 0 (NaN * 0), its f32 kernel and the GPU mask it as PyTorch does */
        for (int64_t i = 0; i < wick_tensor_numel(g); i++) {
          char *p = (char *)wick_tensor_data(g) + i * wick_dtype_size(dt);
          if (isnan(wick_load_f64(p, dt))) wick_store_f64(p, dt, 1.0);
        }
        if (y) {
          wick_tensor *g1 = like(a, dt), *g2 = like(a, dt);
          wick_cpu_unary_backward(op, g1, g, a, y, p0, p1);
          wick_kview go = kv(g2), gv = kv(g), yv = kv(y);
          wick_k_unary_backward(op, &go, &gv, &x, &yv, p0, p1, 0);
          snprintf(w, sizeof w, "unary_backward %d %s", op, wick_dtype_name(dt));
          same(g2, g1, tolf(dt) * 10, w);
          wick_tensor_release(g1); wick_tensor_release(g2);
        }
        wick_tensor_release(g);
      }
      wick_tensor_release(a0); wick_tensor_release(a); wick_tensor_release(r1); wick_tensor_release(r2);
    }
    /* where */
    {
      wick_tensor *c0 = rnd(WICK_DTYPE_BOOL, 2, szt, 0), *c = tr(c0), *a = rnd(dt, 2, sz, 0), *b0 = rnd(dt, 2, row, 0), *b;
      wick_expand(b0, 2, sz, &b);
      wick_tensor *r1 = like(a, dt), *r2 = like(a, dt);
      wick_cpu_where(r1, c, a, b);
      wick_kview o = kv(r2), cv = kv(c), x = kv(a), y = kv(b);
      wick_k_where(&o, &cv, &x, &y, 0);
      same(r2, r1, 0, "where");
      wick_tensor_release(c0); wick_tensor_release(c); wick_tensor_release(a); wick_tensor_release(b0); wick_tensor_release(b); wick_tensor_release(r1); wick_tensor_release(r2);
    }
    /* reduce: [4,5,6] permutations, last nred dims */
    int64_t s3[3] = {4, 5, 6};
    int64_t perms[4][3] = {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}, {2, 1, 0}};
    for (int pi = 0; pi < 4; pi++)
      for (int nred = 0; nred <= 3; nred++)
        for (int op = 0; op < WICK_RED_COUNT; op++) {
          bool arg = wick_redop_flags(op) & WICK_OPF_ARG;
          if (arg && nred != 1) continue;
          wick_tensor *b0 = rnd(dt, 3, s3, 0), *a;
          wick_permute(b0, 3, perms[pi], &a);
          wick_dtype odt = arg ? WICK_DTYPE_I64 : (wick_redop_flags(op) & WICK_OPF_BOOL_OUT) ? WICK_DTYPE_BOOL : (op <= WICK_RED_PROD && !fl) ? WICK_DTYPE_I64 : dt;
          wick_tensor *r1, *r2;
          wick_tensor_new(odt, wick_cpu(), 3 - nred, a->sizes, &r1); wick_tensor_new(odt, wick_cpu(), 3 - nred, a->sizes, &r2);
          wick_cpu_reduce(op, r1, a, nred);
          wick_kview o = kv(r2), x = kv(a);
          wick_k_reduce(op, &o, &x, nred, 0);
          char w[80]; snprintf(w, sizeof w, "reduce op %d %s perm %d nred %d", op, wick_dtype_name(dt), pi, nred);
          same(r2, r1, tolf(odt) * 10, w);
          wick_tensor_release(b0); wick_tensor_release(a); wick_tensor_release(r1); wick_tensor_release(r2);
        }
    /* index_select / gather / scatter */
    {
      wick_tensor *a0 = rnd(dt, 2, szt, 0), *a = tr(a0);
      int64_t ni[1] = {9};
      wick_tensor *idx; wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 1, ni, &idx);
      for (int i = 0; i < 9; i++) ((int64_t *)wick_tensor_data(idx))[i] = rand() % 11;
      int64_t os[2] = {13, 9};
      wick_tensor *r1, *r2; wick_tensor_new(dt, wick_cpu(), 2, os, &r1); wick_tensor_new(dt, wick_cpu(), 2, os, &r2);
      wick_cpu_index_select(r1, a, 1, idx);
      /* as register.c builds it */
      wick_kview o = kv(r2), x = kv(a), ir = kv(idx);
      x.sizes[0] = 13; x.sizes[1] = 9; x.strides[1] = 0;
      ir.ndim = 2; ir.sizes[0] = 13; ir.sizes[1] = 9; ir.strides[0] = 0; ir.strides[1] = idx->strides[0];
      wick_k_take(&o, &x, &ir, a->strides[1], 0);
      same(r2, r1, 0, "index_select");
      /* gather dim 0 with idx [6, 11] */
      int64_t gs[2] = {6, 11};
      wick_tensor *gi; wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 2, gs, &gi);
      for (int i = 0; i < 66; i++) ((int64_t *)wick_tensor_data(gi))[i] = rand() % 13;
      wick_tensor *g1, *g2; wick_tensor_new(dt, wick_cpu(), 2, gs, &g1); wick_tensor_new(dt, wick_cpu(), 2, gs, &g2);
      wick_cpu_gather(g1, a, 0, gi);
      wick_kview go = kv(g2), ga = kv(a), gv = kv(gi);
      ga.sizes[0] = 6; ga.sizes[1] = 11; ga.strides[0] = 0;
      wick_k_take(&go, &ga, &gv, a->strides[0], 0);
      same(g2, g1, 0, "gather");
      /* scatter assign / add into a clone of a, dim 0, src [6, 11] */
      for (int red = 0; red < 2; red++) {
        wick_tensor *d1 = rnd(dt, 2, sz, 0), *d2 = like(d1, dt), *src = rnd(dt, 2, gs, 0);
        memcpy(wick_tensor_data(d2), wick_tensor_data(d1), wick_tensor_numel(d1) * wick_dtype_size(dt));
        wick_cpu_scatter(d1, 0, gi, src, red);
        wick_kview dv = kv(d2), iv = kv(gi), sv = kv(src);
        wick_k_scatter(&dv, 0, &iv, &sv, red, 0);
        same(d2, d1, tolf(dt) * 10, red ? "scatter add" : "scatter");
        wick_tensor_release(d1); wick_tensor_release(d2); wick_tensor_release(src);
      }
      /* scatter add with many rows (row kernel) */
      {
        int64_t bs[2] = {3, 5000}, is[2] = {4, 5000};
        wick_tensor *d1 = rnd(dt, 2, bs, 0), *d2 = like(d1, dt), *src = rnd(dt, 2, is, 0), *bi;
        wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 2, is, &bi);
        for (int i = 0; i < 20000; i++) ((int64_t *)wick_tensor_data(bi))[i] = rand() % 3;
        memcpy(wick_tensor_data(d2), wick_tensor_data(d1), wick_tensor_numel(d1) * wick_dtype_size(dt));
        wick_cpu_scatter(d1, 0, bi, src, 1);
        wick_kview dv = kv(d2), iv = kv(bi), sv = kv(src);
        wick_k_scatter(&dv, 0, &iv, &sv, 1, 0);
        same(d2, d1, tolf(dt) * 10, "scatter add rows");
        wick_tensor_release(d1); wick_tensor_release(d2); wick_tensor_release(src); wick_tensor_release(bi);
      }
      wick_tensor_release(a0); wick_tensor_release(a); wick_tensor_release(idx); wick_tensor_release(r1); wick_tensor_release(r2);
      wick_tensor_release(gi); wick_tensor_release(g1); wick_tensor_release(g2);
    }
  }
  /* large reductions: split rows and cols (partials) */
  for (int dt = WICK_DTYPE_I32; dt < WICK_DTYPE_COUNT; dt++) {
    /* split rows, split columns, and one block per long row */
    int64_t shapes[3][2] = {{3, 20000}, {20000, 3}, {2, 5000}};
    for (int si = 0; si < 3; si++)
      for (int op = 0; op < WICK_RED_COUNT; op++) {
        if (op == WICK_RED_PROD) continue;
        wick_tensor *b0 = rnd(dt, 2, shapes[si], 0), *a = si == 1 ? tr(b0) : wick_tensor_retain(b0);
        wick_dtype odt = (wick_redop_flags(op) & WICK_OPF_ARG) ? WICK_DTYPE_I64 : (wick_redop_flags(op) & WICK_OPF_BOOL_OUT) ? WICK_DTYPE_BOOL : (op == WICK_RED_SUM && !wick_dtype_is_float(dt)) ? WICK_DTYPE_I64 : dt;
        wick_tensor *r1, *r2;
        wick_tensor_new(odt, wick_cpu(), 1, a->sizes, &r1); wick_tensor_new(odt, wick_cpu(), 1, a->sizes, &r2);
        wick_cpu_reduce(op, r1, a, 1);
        wick_kview o = kv(r2), x = kv(a);
        wick_k_reduce(op, &o, &x, 1, 0);
        char w[80]; snprintf(w, sizeof w, "big reduce op %d %s shape %d", op, wick_dtype_name(dt), si);
        same(r2, r1, tolf(odt) * 10, w);
        wick_tensor_release(b0); wick_tensor_release(a); wick_tensor_release(r1); wick_tensor_release(r2);
      }
  }
  /* cumulative */
  for (int dt = 0; dt < WICK_DTYPE_COUNT; dt++) {
    int64_t s3[3] = {4, 5, 200};
    int64_t perms[2][3] = {{0, 1, 2}, {2, 1, 0}};
    for (int pi = 0; pi < 2; pi++)
      for (int d = 0; d < 3; d++)
        for (int prod = 0; prod < 2; prod++) {
          wick_tensor *b0 = rnd(dt, 3, s3, 0), *a;
          if (prod && wick_dtype_is_float(dt)) { /* keep products finite: values near 1 */
            for (int64_t i = 0; i < 4000; i++) { char *p = (char *)wick_tensor_data(b0) + i * wick_dtype_size(dt); double v = wick_load_f64(p, dt); wick_store_f64(p, dt, isnan(v) ? v : 1 + v * 0.001); }
          }
          wick_permute(b0, 3, perms[pi], &a);
          wick_dtype odt = wick_dtype_is_float(dt) ? dt : WICK_DTYPE_I64;
          wick_tensor *r1 = like(a, odt), *r2 = like(a, odt);
          wick_cpu_cumulative(r1, a, d, prod);
          wick_kview o = kv(r2), x = kv(a);
          wick_k_cumulative(&o, &x, d, prod, 0);
          char w[80]; snprintf(w, sizeof w, "cum prod=%d %s perm %d dim %d", prod, wick_dtype_name(dt), pi, d);
          same(r2, r1, tolf(odt) * 10, w);
          wick_tensor_release(b0); wick_tensor_release(a); wick_tensor_release(r1); wick_tensor_release(r2);
        }
  }
  /* a few very long lines: the three-pass split scan */
  for (int dt = WICK_DTYPE_U8; dt < WICK_DTYPE_COUNT; dt++)
    for (int prod = 0; prod < 2; prod++) {
      int64_t ls[2] = {2, 70000};
      wick_tensor *a = rnd(dt, 2, ls, 0);
      for (int64_t i = 0; i < 140000; i++) { /* finite values; near 1 for float products */
        char *p = (char *)wick_tensor_data(a) + i * wick_dtype_size(dt);
        if (wick_dtype_is_float(dt)) { double v = wick_load_f64(p, dt); if (isnan(v)) v = 0.5; wick_store_f64(p, dt, prod ? 1 + v * 1e-4 : v); }
      }
      wick_dtype odt = wick_dtype_is_float(dt) ? dt : WICK_DTYPE_I64;
      wick_tensor *r1 = like(a, odt), *r2 = like(a, odt);
      wick_cpu_cumulative(r1, a, 1, prod);
      wick_kview o = kv(r2), x = kv(a);
      wick_k_cumulative(&o, &x, 1, prod, 0);
      char w[80]; snprintf(w, sizeof w, "long cum prod=%d %s", prod, wick_dtype_name(dt));
      same(r2, r1, dt == WICK_DTYPE_F16 || dt == WICK_DTYPE_BF16 ? 0.05 : tolf(odt) * 10, w);
      wick_tensor_release(a); wick_tensor_release(r1); wick_tensor_release(r2);
    }
  /* random: ranges */
  {
    int64_t n[1] = {10000};
    wick_tensor *t; wick_tensor_new(WICK_DTYPE_F32, wick_cpu(), 1, n, &t);
    wick_kview v = kv(t);
    wick_k_random(&v, 12345, WICK_RANDOM_UNIFORM, -1, 3, 0);
    double m = 0, lo = 1e9, hi = -1e9;
    for (int i = 0; i < 10000; i++) { double x = ((float *)wick_tensor_data(t))[i]; m += x; if (x < lo) lo = x; if (x > hi) hi = x; }
    checks++;
    if (lo < -1 || hi >= 3 || fabs(m / 10000 - 1) > 0.06) { fails++; printf("FAIL uniform mean %g min %g max %g\n", m / 10000, lo, hi); }
    wick_k_random(&v, 12345, WICK_RANDOM_NORMAL, 2, 3, 0);
    double s2 = 0; m = 0;
    for (int i = 0; i < 10000; i++) { double x = ((float *)wick_tensor_data(t))[i]; m += x; s2 += x * x; }
    double sd = sqrt(s2 / 10000 - (m / 10000) * (m / 10000));
    checks++;
    if (fabs(m / 10000 - 2) > 0.15 || fabs(sd - 3) > 0.15) { fails++; printf("FAIL normal mean %g std %g\n", m / 10000, sd); }
    wick_tensor_release(t);
  }
  printf("%d checks, %d failures\n", checks, fails);
  return fails != 0;
}
