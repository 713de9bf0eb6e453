/* C unit test of DDP's reducer at world size 1 (no process group) and of the engine's
 * end-of-backward callbacks it relies on: bucket assignment, gradients written back at the end
 * of backward, a parameter without gradient leaving the reduction unfinished, and the graph
 * walk of find_unused. */
#include <math.h>
#include <string.h>

#include "autograd/autograd.h"
#include "check.h"
#include "core/alloc.h"
#include "dist/reducer.h"

static wick_tensor *param(int64_t n, float v) {
  wick_tensor *t = NULL;
  if (wick_tensor_new(WICK_DTYPE_F32, wick_cpu(), 1, &n, &t) != WICK_OK) return NULL;
  for (int64_t i = 0; i < n; i++) ((float *)wick_tensor_data(t))[i] = v;
  wick_set_requires_grad(t, true);
  return t;
}

/* loss = sum(a * b): the graph reaches both leaves */
static wick_tensor *product_loss(wick_tensor *a, wick_tensor *b, wick_tensor **mid) {
  wick_tensor *loss = NULL;
  CHECK(wick_ag_binary(WICK_BIN_MUL, a, b, mid) == WICK_OK);
  CHECK(wick_ag_reduce(NULL, WICK_RED_SUM, *mid, 0, NULL, false, WICK_DTYPE_NONE, &loss) == WICK_OK);
  return loss;
}

static int calls;
static wick_status count_call(void *ctx) {
  (void)ctx;
  calls++;
  return WICK_OK;
}
static wick_status fail_call(void *ctx) {
  (void)ctx;
  return wick_errorf(WICK_ERR_DIST, "callback failed");
}
static wick_backward_callback_fn to_queue; /* what the tensor hook queues */
static wick_status queue_from_hook(void *ctx, const wick_tensor *grad, wick_tensor **out) {
  (void)ctx; (void)grad; (void)out;
  return wick_queue_backward_callback(to_queue, NULL);
}

int main(void) {
  /* callbacks: only inside a backward; run once it ends; their error is backward's */
  CHECK(wick_queue_backward_callback(count_call, NULL) != WICK_OK);
  CHECK(strstr(wick_last_error(), "no backward is running") != NULL, "%s", wick_last_error());
  wick_tensor *a = param(4, 2), *b = param(4, 3), *mid = NULL;
  int id;
  to_queue = count_call;
  CHECK(wick_register_hook(a, queue_from_hook, NULL, NULL, &id) == WICK_OK);
  wick_tensor *loss = product_loss(a, b, &mid);
  CHECK(wick_backward(1, &loss, NULL, true) == WICK_OK, "%s", wick_last_error());
  CHECK(calls == 1, "callback ran %d times", calls);
  wick_remove_hook(a, id);
  to_queue = fail_call;
  CHECK(wick_register_hook(a, queue_from_hook, NULL, NULL, &id) == WICK_OK);
  CHECK(wick_backward(1, &loss, NULL, true) != WICK_OK);
  CHECK(strcmp(wick_last_error(), "callback failed") == 0, "%s", wick_last_error());
  wick_remove_hook(a, id);
  wick_set_grad(a, NULL);
  wick_set_grad(b, NULL);

  /* buckets: reverse order given by the caller, first cap 16 bytes, then 1000 */
  wick_tensor *c = param(2, 1);
  wick_tensor *params[3] = {c, b, a}; /* c unused by loss */
  wick_reducer *r = NULL;
  CHECK(wick_reducer_new(3, params, 16, 1000, NULL, 1, false, &r) == WICK_OK, "%s", wick_last_error());
  CHECK(wick_reducer_num_buckets(r) == 2);
  const int *idx;
  int count;
  CHECK(wick_reducer_bucket(r, 0, &idx, &count) == 24 && count == 2 && idx[0] == 0 && idx[1] == 1);
  CHECK(wick_reducer_bucket(r, 1, &idx, &count) == 16 && count == 1 && idx[0] == 2);

  /* c gets no gradient: bucket 0 never launches, the reduction stays unfinished */
  CHECK(wick_reducer_prepare_for_backward(r, 0, NULL) == WICK_OK);
  CHECK(wick_backward(1, &loss, NULL, true) == WICK_OK, "%s", wick_last_error());
  int missing[3];
  CHECK(wick_reducer_unfinished(r, missing, 3) == 1 && missing[0] == 0);
  CHECK(wick_reducer_prepare_for_backward(r, 0, NULL) != WICK_OK);
  CHECK(wick_reducer_get_stats(r).iterations == 0);
  wick_reducer_free(r);

  /* find_unused: the walk from loss reaches a and b, so c counts as ready; the grads are the
   * world-of-1 means, i.e. unchanged, and c (used by no rank) keeps no grad */
  wick_set_grad(a, NULL);
  wick_set_grad(b, NULL);
  CHECK(wick_reducer_new(3, params, 16, 1000, NULL, 1, true, &r) == WICK_OK, "%s", wick_last_error());
  CHECK(wick_reducer_prepare_for_backward(r, 1, &loss) == WICK_OK, "%s", wick_last_error());
  CHECK(wick_backward(1, &loss, NULL, true) == WICK_OK, "%s", wick_last_error());
  CHECK(wick_reducer_unfinished(r, missing, 3) == 0);
  wick_reducer_stats st = wick_reducer_get_stats(r);
  CHECK(st.iterations == 1 && st.bytes_sent == 0 && st.first_launch_s > 0 && st.backward_end_s >= st.last_hook_s);
  CHECK(wick_grad(c) == NULL);
  const float *ga = wick_tensor_data(wick_grad(a)), *gb = wick_tensor_data(wick_grad(b));
  CHECK(fabsf(ga[0] - 3) < 1e-6 && fabsf(gb[3] - 2) < 1e-6, "%g %g", ga[0], gb[3]);
  wick_reducer_free(r);

  wick_tensor_release(loss); wick_tensor_release(mid);
  wick_tensor_release(a); wick_tensor_release(b); wick_tensor_release(c);
  CHECK(wick_tensor_live_count() == 0, "%lld tensors leaked", (long long)wick_tensor_live_count());
  if (failures) printf("%d check(s) failed\n", failures);
  return failures != 0;
}
