/* A pool of forked worker processes that compute tasks into shared-memory slots: the
 * mechanism under DataLoader(num_workers > 0). Lua-free: what a task does is a callback that
 * runs in the child (which, after fork, owns a copy of everything the parent had).
 *
 * Each worker owns `slots` slots (a memfd each, mapped by both sides, grown on demand).
 * Task t goes to worker t % n, into one of its free slots; the parent writes the task's input
 * into the slot, sends a small message over a socket, and the worker answers with one when
 * the result (or an error message) is in the slot. A dead worker is noticed through its
 * socket and waitpid, and reported with its exit status; workers die with the parent
 * (PR_SET_PDEATHSIG) and exit when the pool is freed. */
#ifndef WICK_WORKER_POOL_H
#define WICK_WORKER_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct wick_worker_pool wick_worker_pool;
typedef struct wick_worker_slot wick_worker_slot;

/* The slot's memory as mapped in this process, and its capacity. */
void *wick_worker_slot_data(wick_worker_slot *s);
size_t wick_worker_slot_capacity(const wick_worker_slot *s);
/* Makes the slot hold at least nbytes (the data may move: read wick_worker_slot_data again). */
wick_status wick_worker_slot_reserve(wick_worker_slot *s, size_t nbytes);

/* In the child, once after fork. */
typedef void (*wick_worker_init_fn)(void *ctx, int worker_id);
/* In the child, per task: the slot holds in_len bytes of input; write the result into it
 * and set *out_len. Return false on failure, with a NUL-terminated message in the slot
 * (its length, NUL included, in *out_len). */
typedef bool (*wick_worker_task_fn)(void *ctx, int worker_id, int64_t task, wick_worker_slot *slot,
                                    size_t in_len, size_t *out_len);

/* Forks n workers (1..256) with `slots` slots each (1..64). In the children, init then the
 * task loop run and the process ends with _exit: wick_worker_pool_start never returns there. */
wick_status wick_worker_pool_start(int n, int slots, wick_worker_init_fn init,
                                   wick_worker_task_fn fn, void *ctx, wick_worker_pool **out);
int wick_worker_pool_size(const wick_worker_pool *p);
/* Whether task's worker (task % n) has a free slot. */
bool wick_worker_pool_can_submit(const wick_worker_pool *p, int64_t task);
/* Sends task to worker task % n with len bytes of input (which fill_fn writes into the slot's
 * memory; fill_fn may be NULL for no input). Task ids must be unique among pending tasks. */
wick_status wick_worker_pool_submit(wick_worker_pool *p, int64_t task, size_t len,
                                    void (*fill_fn)(void *ctx, void *dst), void *fill_ctx);
/* Waits for task's result (timeout_s <= 0: no limit). On success *data and *len give the
 * result in slot memory, valid until wick_worker_pool_release(p, task). Failures: the
 * worker's error message ("DataLoader worker 1: ..."), a dead worker ("DataLoader worker 1
 * (pid 123) exited unexpectedly with exit code 3" / "... was killed by signal 9 (Killed)"),
 * a timeout. After a failure other than a worker's error message the pool is broken: every
 * later call fails. */
wick_status wick_worker_pool_wait(wick_worker_pool *p, int64_t task, double timeout_s,
                                  const void **data, size_t *len);
/* Frees the slot of a task whose result was read. */
void wick_worker_pool_release(wick_worker_pool *p, int64_t task);
/* Number of tasks submitted and not yet released. */
int wick_worker_pool_pending(const wick_worker_pool *p);
/* Stops the workers (closing their sockets; SIGKILL after a grace period), reaps them and
 * frees everything. NULL is fine. */
void wick_worker_pool_free(wick_worker_pool *p);

#endif
