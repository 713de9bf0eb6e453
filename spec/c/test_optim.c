/* C unit test of the fused optimizer updates (src/core/optim.c): hand-computed SGD and Adam
 * steps in f64, f32 matching f64, the threaded path, non-contiguous operands, and argument
 * errors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/ops.h"
#include "core/optim.h"

#include "check.h"

static wick_tensor *vec(wick_dtype dt, int64_t n, const double *v) {
  wick_tensor *t = NULL;
  if (wick_tensor_new(dt, wick_cpu(), 1, &n, &t) != WICK_OK) return NULL;
  for (int64_t i = 0; i < n; i++)
    wick_store_f64((char *)wick_tensor_data(t) + i * wick_dtype_size(dt), dt, v ? v[i] : 0.0);
  return t;
}

static double at(const wick_tensor *t, int64_t i) {
  return wick_load_f64((char *)wick_tensor_data(t) + i * t->strides[0] * wick_dtype_size(t->dtype), t->dtype);
}

static void test_sgd(void) {
  double pv[2] = {1.0, -2.0}, gv[2] = {2.0, 1.0};
  wick_tensor *p = vec(WICK_DTYPE_F64, 2, pv), *g = vec(WICK_DTYPE_F64, 2, gv), *buf = NULL;
  wick_sgd_options o = {.lr = 0.1, .momentum = 0.9, .dampening = 0.5, .weight_decay = 0.25};
  CHECK(wick_sgd_update(p, g, &buf, &o) == WICK_OK, "sgd: %s", wick_last_error());
  CHECK(buf != NULL, "sgd: a new momentum buffer");
  /* d = g + 0.25 p = {2.25, 0.5}; buf = d; p -= 0.1 d */
  CHECK(fabs(at(buf, 0) - 2.25) < 1e-15 && fabs(at(buf, 1) - 0.5) < 1e-15, "sgd: buf");
  CHECK(fabs(at(p, 0) - 0.775) < 1e-15 && fabs(at(p, 1) + 2.05) < 1e-15, "sgd: p %g %g", at(p, 0), at(p, 1));
  wick_tensor *kept = buf;
  CHECK(wick_sgd_update(p, g, &buf, &o) == WICK_OK, "sgd 2: %s", wick_last_error());
  CHECK(buf == kept, "sgd: the buffer is updated in place");
  /* d = 2 + 0.25 * 0.775 = 2.19375; buf = 0.9 * 2.25 + 0.5 * d */
  CHECK(fabs(at(buf, 0) - (0.9 * 2.25 + 0.5 * 2.19375)) < 1e-14, "sgd 2: buf %g", at(buf, 0));
  wick_tensor *bad = vec(WICK_DTYPE_F64, 3, NULL);
  CHECK(wick_sgd_update(p, bad, &buf, &o) == WICK_ERR_SHAPE, "sgd: shape error");
  CHECK(strcmp(wick_last_error(), "SGD: grad of shape [3] does not match param of shape [2]") == 0,
        "sgd: message '%s'", wick_last_error());
  wick_tensor_release(bad);
  wick_tensor_release(buf);
  wick_tensor_release(p);
  wick_tensor_release(g);
}

static void test_adam_f32_vs_f64(void) {
  enum { N = 70001 }; /* above the threading threshold */
  static double pv[N], gv[N];
  for (int i = 0; i < N; i++) { pv[i] = sin(i * 0.37); gv[i] = cos(i * 0.11) * 0.1; }
  wick_tensor *t[2][5];
  wick_dtype dts[2] = {WICK_DTYPE_F64, WICK_DTYPE_F32};
  for (int d = 0; d < 2; d++) {
    t[d][0] = vec(dts[d], N, pv);
    t[d][1] = vec(dts[d], N, gv);
    for (int k = 2; k < 5; k++) t[d][k] = vec(dts[d], N, NULL);
  }
  for (int step = 1; step <= 3; step++)
    for (int d = 0; d < 2; d++) {
      wick_adam_options o = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                             .weight_decay = 0.1, .amsgrad = true, .step = step};
      CHECK(wick_adam_update(t[d][0], t[d][1], t[d][2], t[d][3], t[d][4], &o) == WICK_OK, "adam: %s",
            wick_last_error());
    }
  double worst = 0;
  for (int i = 0; i < N; i++) worst = fmax(worst, fabs(at(t[0][0], i) - at(t[1][0], i)));
  CHECK(worst < 1e-6, "adam: f32 and f64 differ by %g", worst);
  /* first step of Adam moves by ~lr * sign(g + wd p); check one element exactly in f64 */
  for (int d = 0; d < 2; d++)
    for (int k = 0; k < 5; k++) wick_tensor_release(t[d][k]);
  double p1 = 0.5, g1 = 0.2;
  wick_tensor *p = vec(WICK_DTYPE_F64, 1, &p1), *g = vec(WICK_DTYPE_F64, 1, &g1);
  wick_tensor *m = vec(WICK_DTYPE_F64, 1, NULL), *v = vec(WICK_DTYPE_F64, 1, NULL);
  wick_adam_options o = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.99, .eps = 0, .weight_decay = 0.5,
                         .decoupled = true, .step = 1};
  CHECK(wick_adam_update(p, g, m, v, NULL, &o) == WICK_OK, "adamw: %s", wick_last_error());
  CHECK(fabs(at(p, 0) - (0.5 * 0.95 - 0.1)) < 1e-15, "adamw: p %.17g", at(p, 0));
  o.amsgrad = true;
  CHECK(wick_adam_update(p, g, m, v, NULL, &o) == WICK_ERR_ARG, "adam: amsgrad without buffer");
  wick_tensor_release(p); wick_tensor_release(g); wick_tensor_release(m); wick_tensor_release(v);
}

static void test_strided(void) {
  /* a transposed [3, 2] view of a [2, 3] tensor: written back through the view */
  double pv[6] = {0, 1, 2, 3, 4, 5};
  int64_t sz[2] = {2, 3}, tsz[2] = {3, 2}, tst[2] = {1, 3};
  wick_tensor *base = NULL, *pt = NULL, *g = NULL, *buf = NULL;
  wick_tensor_new(WICK_DTYPE_F32, wick_cpu(), 2, sz, &base);
  for (int i = 0; i < 6; i++) ((float *)wick_tensor_data(base))[i] = (float)pv[i];
  wick_tensor_as_strided(base, 2, tsz, tst, 0, &pt);
  wick_tensor_new(WICK_DTYPE_F32, wick_cpu(), 2, tsz, &g);
  for (int i = 0; i < 6; i++) ((float *)wick_tensor_data(g))[i] = 1.0f;
  wick_sgd_options o = {.lr = 0.5, .momentum = 0.9};
  CHECK(wick_sgd_update(pt, g, &buf, &o) == WICK_OK, "strided: %s", wick_last_error());
  for (int i = 0; i < 6; i++)
    CHECK(((float *)wick_tensor_data(base))[i] == (float)pv[i] - 0.5f, "strided: element %d", i);
  wick_tensor_release(buf); wick_tensor_release(g); wick_tensor_release(pt); wick_tensor_release(base);
}

int main(void) {
  test_sgd();
  test_adam_f32_vs_f64();
  test_strided();
  if (failures) printf("%d failure(s)\n", failures);
  else printf("test_optim: ok\n");
  return failures != 0;
}
