/* C unit test of the autograd engine without Lua: recording, backward through a small graph,
 * gradient accumulation, the post-accumulate hook (DDP's entry point), tensor hooks, and the
 * errors for a freed graph and a modified saved tensor. */
#include <math.h>
#include <string.h>

#include "autograd/autograd.h"
#include "core/alloc.h"
#include "check.h"

static wick_tensor *vec(const float *v, int64_t n, bool requires_grad) {
  wick_tensor *t = NULL;
  if (wick_tensor_new(WICK_DTYPE_F32, wick_cpu(), 1, &n, &t) != WICK_OK) return NULL;
  memcpy(wick_tensor_data(t), v, sizeof(float) * (size_t)n);
  if (requires_grad) wick_set_requires_grad(t, true);
  return t;
}

static float at(const wick_tensor *t, int i) { return ((const float *)wick_tensor_data(t))[i]; }

static int post_calls;
static wick_tensor *post_leaf;
static void on_accumulated(void *ctx, wick_tensor *leaf) {
  (void)ctx;
  post_calls++;
  post_leaf = leaf;
}

static wick_status triple(void *ctx, const wick_tensor *grad, wick_tensor **out) {
  (void)ctx;
  wick_tensor *three;
  WICK_TRY(wick_tensor_scalar(WICK_DTYPE_F32, 3, 3, &three));
  wick_status s = wick_binary(WICK_BIN_MUL, grad, three, out);
  wick_tensor_release(three);
  return s;
}

int main(void) {
  const float xv[3] = {1, 2, 3}, wv[3] = {0.5f, -1, 2};
  wick_tensor *x = vec(xv, 3, true), *w = vec(wv, 3, false);
  CHECK(x && w);
  wick_set_post_accumulate_hook(x, on_accumulated, NULL);

  /* loss = sum(x * x * w): dloss/dx = 2 x w */
  wick_tensor *xx = NULL, *xxw = NULL, *loss = NULL;
  CHECK(wick_ag_binary(WICK_BIN_MUL, x, x, &xx) == WICK_OK);
  CHECK(wick_ag_binary(WICK_BIN_MUL, xx, w, &xxw) == WICK_OK);
  CHECK(wick_ag_reduce(NULL, WICK_RED_SUM, xxw, 0, NULL, false, WICK_DTYPE_NONE, &loss) == WICK_OK);
  CHECK(wick_requires_grad(loss) && !wick_is_leaf(loss));
  CHECK(strcmp(wick_grad_fn(loss)->name, "SumBackward0") == 0, "%s", wick_grad_fn(loss)->name);
  CHECK(wick_backward(1, &loss, NULL, true) == WICK_OK, "%s", wick_last_error());
  wick_tensor *g = wick_grad(x);
  CHECK(g && fabsf(at(g, 0) - 1) < 1e-6 && fabsf(at(g, 1) + 4) < 1e-6 && fabsf(at(g, 2) - 12) < 1e-6);
  CHECK(post_calls == 1 && post_leaf == x, "post-accumulate hook ran %d times", post_calls);
  CHECK(wick_grad(w) == NULL, "a tensor that does not require grad got a gradient");

  /* a second backward (graph retained) accumulates; a tensor hook scales what reaches x */
  int id;
  CHECK(wick_register_hook(x, triple, NULL, NULL, &id) == WICK_OK);
  CHECK(wick_backward(1, &loss, NULL, false) == WICK_OK, "%s", wick_last_error());
  g = wick_grad(x);
  CHECK(fabsf(at(g, 1) - (-4 - 12)) < 1e-6, "accumulated grad %g", at(g, 1));
  CHECK(post_calls == 2);

  /* the graph is freed now */
  CHECK(wick_backward(1, &loss, NULL, false) != WICK_OK);
  CHECK(strstr(wick_last_error(), "backward through the graph a second time") != NULL, "%s", wick_last_error());

  /* a saved tensor modified in place is detected */
  wick_tensor *y = NULL, *z = NULL, *s2 = NULL;
  wick_remove_hook(x, id);
  CHECK(wick_ag_binary(WICK_BIN_ADD, x, w, &y) == WICK_OK);
  CHECK(wick_ag_binary(WICK_BIN_MUL, y, y, &z) == WICK_OK);
  CHECK(wick_ag_reduce(NULL, WICK_RED_SUM, z, 0, NULL, false, WICK_DTYPE_NONE, &s2) == WICK_OK);
  wick_set_grad_enabled(false);
  CHECK(wick_ag_binary_(WICK_BIN_ADD, y, w) == WICK_OK);
  wick_set_grad_enabled(true);
  CHECK(wick_backward(1, &s2, NULL, false) != WICK_OK);
  CHECK(strstr(wick_last_error(), "modified by an inplace operation") != NULL, "%s", wick_last_error());

  wick_tensor_release(s2); wick_tensor_release(z); wick_tensor_release(y);
  wick_tensor_release(loss); wick_tensor_release(xxw); wick_tensor_release(xx);
  wick_tensor_release(w); wick_tensor_release(x);
  CHECK(wick_tensor_live_count() == 0, "%lld tensors leaked", (long long)wick_tensor_live_count());
  if (failures) printf("%d check(s) failed\n", failures);
  return failures != 0;
}
