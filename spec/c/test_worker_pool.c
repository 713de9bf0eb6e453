/* C unit test of the forked worker pool (src/io/worker_pool.c) with C tasks: results in order,
 * slot growth, a task's error message, a worker that crashes or exits, and clean shutdown. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/worker_pool.h"

#include "check.h"

/* Task t: input is one int64 k; output is k * 1000 + worker id, then `t * 100000` bytes of
 * t % 251 (big tasks grow the slot). Task 7 fails, task 13 is killed, task 17 exits with 5. */
static bool task_fn(void *ctx, int id, int64_t task, wick_worker_slot *slot, size_t in_len,
                    size_t *out_len) {
  (void)ctx;
  int64_t k;
  memcpy(&k, wick_worker_slot_data(slot), sizeof k);
  if (in_len != sizeof k) k = -1;
  if (task == 7) {
    const char msg[] = "task seven refuses";
    memcpy(wick_worker_slot_data(slot), msg, sizeof msg);
    *out_len = sizeof msg;
    return false;
  }
  if (task == 13) raise(SIGKILL); /* not SIGSEGV: sanitizers catch that one */
  if (task == 17) _exit(5);
  size_t extra = (size_t)task * 100000;
  if (wick_worker_slot_reserve(slot, 8 + extra) != WICK_OK) return false;
  int64_t v = k * 1000 + id;
  unsigned char *d = wick_worker_slot_data(slot);
  memcpy(d, &v, 8);
  memset(d + 8, (int)(task % 251), extra);
  *out_len = 8 + extra;
  return true;
}

static int64_t the_k;
static void fill(void *ctx, void *dst) { memcpy(dst, ctx, sizeof the_k); }

static wick_status submit(wick_worker_pool *p, int64_t t) {
  the_k = t * 3;
  return wick_worker_pool_submit(p, t, sizeof the_k, fill, &the_k);
}

/* Runs tasks first..last in order with up to `slots` in flight per worker; returns the status
 * of the first failure. */
static wick_status run(wick_worker_pool *p, int64_t first, int64_t last) {
  int64_t sent = first;
  for (int64_t t = first; t <= last; t++) {
    while (sent <= last && wick_worker_pool_can_submit(p, sent)) WICK_TRY(submit(p, sent++));
    const void *data = NULL;
    size_t len = 0;
    while (!data) WICK_TRY(wick_worker_pool_wait(p, t, 5, &data, &len));
    int64_t v;
    memcpy(&v, data, 8);
    int n = wick_worker_pool_size(p);
    CHECK(v == t * 3 * 1000 + t % n, "task %lld: %lld", (long long)t, (long long)v);
    CHECK(len == 8 + (size_t)t * 100000, "task %lld: length %zu", (long long)t, len);
    const unsigned char *d = data;
    CHECK(len <= 8 || (d[8] == t % 251 && d[len - 1] == t % 251), "task %lld: payload", (long long)t);
    wick_worker_pool_release(p, t);
  }
  return WICK_OK;
}

int main(void) {
  wick_worker_pool *p = NULL;
  CHECK(wick_worker_pool_start(3, 2, NULL, task_fn, NULL, &p) == WICK_OK, "start: %s", wick_last_error());
  if (!p) return 1;
  CHECK(run(p, 0, 6) == WICK_OK, "tasks 0..6: %s", wick_last_error());
  CHECK(run(p, 7, 7) == WICK_ERR_ARG, "task 7 fails");
  CHECK(strcmp(wick_last_error(), "DataLoader worker 1: task seven refuses") == 0, "message: %s", wick_last_error());
  CHECK(wick_worker_pool_pending(p) == 0, "the failed task's slot is free again");
  CHECK(run(p, 8, 12) == WICK_OK, "the pool works after a task's error: %s", wick_last_error());
  CHECK(run(p, 13, 13) == WICK_ERR_IO, "task 13 crashes its worker");
  char want[128];
  const char *msg = wick_last_error();
  int pid = 0;
  CHECK(sscanf(msg, "DataLoader worker 1 (pid %d)", &pid) == 1, "message: %s", msg);
  snprintf(want, sizeof want, "DataLoader worker 1 (pid %d) was killed by signal %d (%s)", pid, SIGKILL,
           strsignal(SIGKILL));
  CHECK(strcmp(msg, want) == 0, "message: %s", msg);
  CHECK(run(p, 14, 14) == WICK_ERR_IO, "a broken pool stays broken");
  wick_worker_pool_free(p);

  p = NULL;
  CHECK(wick_worker_pool_start(2, 1, NULL, task_fn, NULL, &p) == WICK_OK, "start: %s", wick_last_error());
  CHECK(run(p, 16, 17) == WICK_ERR_IO, "task 17 exits");
  CHECK(strstr(wick_last_error(), "exited unexpectedly with exit code 5") != NULL, "message: %s", wick_last_error());
  wick_worker_pool_free(p);

  CHECK(wick_worker_pool_start(0, 1, NULL, task_fn, NULL, &p) == WICK_ERR_ARG, "0 workers");
  if (failures) printf("%d failure(s)\n", failures);
  else printf("test_worker_pool: all passed\n");
  return failures != 0;
}
