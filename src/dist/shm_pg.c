/* shm_pg.h: collectives through shared memory. Every collective is a sequence of phases, the same
 * number on every rank: write into this rank's slot, publish (seq + 1), wait until every rank
 * has published, read the others' slots. Slots alternate, so a slot is rewritten only after
 * every rank has published the next phase, which each does after it finished reading. Waiting
 * spins briefly, then sleeps in a futex on the peer's seq. A large all_reduce is two phases per
 * chunk: copy in; each rank reduces its slice of the chunk (shm_reduce.c); everyone copies the
 * reduced slices out. A small one is one phase: every rank reduces all of it. Ops run in submission order on the group's thread (or inline
 * in a waiter whose op is next), as gloo_pg.cc. */
#define _GNU_SOURCE
#include "dist/shm_pg.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dist/pg_backend.h"
#include "dist/shm_reduce.h"
#include "dist/shm_seg.h"

/* How long a waiter spins (then yields) before it sleeps: a running peer answers within this.
 * Measured on 2 busy cores: 30 us of yielding beat 5-100 us of pausing at 4 KiB-16 MiB. */
#define SPIN_NS 30000.0
/* A sleeping waiter wakes this often to check the peer's process and the deadline. */
#define SLEEP_NS 10000000L

typedef struct shm_work shm_work;

typedef struct {
  wick_pg base;
  wick_shm_segs segs;
  double timeout_s;
  uint32_t seq;      /* phases this rank has published (mirrors its header's seq) */
  unsigned chunk;    /* slots used so far: the next one is chunk & 1 */
  char failed[512];  /* set when a peer died or timed out: the group is unusable after */
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  shm_work *head, *tail; /* the queue, in submission order */
  int busy, stopping;
  /* a hierarchical group (wick_pg_create_hier): this node's ranks are the shm group; leaders
   * (node rank 0 only) joins one rank per node, world every rank */
  wick_pg *leaders, *world;
} shm_pg;

struct shm_work {
  wick_pg_work base;
  shm_pg *pg;
  wick_pg_op op;
  shm_work *next;
  int done;
  wick_status status;
  char message[1024];
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static inline int reached(uint32_t v, uint32_t target) { return (int32_t)(v - target) >= 0; }

static void publish(shm_pg *pg) {
  wick_shm_header *h = wick_shm_hdr(&pg->segs, pg->segs.rank);
  atomic_store(&h->seq, ++pg->seq);
  if (atomic_load(&h->sleepers)) syscall(SYS_futex, &h->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Waits until rank j has published phase pg->seq. */
static wick_status wait_peer(shm_pg *pg, int j, const char *name) {
  wick_shm_header *h = wick_shm_hdr(&pg->segs, j);
  uint32_t target = pg->seq;
  if (reached(atomic_load_explicit(&h->seq, memory_order_acquire), target)) return WICK_OK;
  double start = now_ns();
  for (unsigned i = 1;; i++) {
    /* a few pauses for a peer that is about to publish, then yields: on a busy machine the
     * peer may be waiting for this very core */
    if (i > 64) sched_yield();
    else cpu_relax();
    if (reached(atomic_load_explicit(&h->seq, memory_order_acquire), target)) return WICK_OK;
    if ((i & 15) == 0 && now_ns() - start > SPIN_NS) break;
  }
  double deadline = start + pg->timeout_s * 1e9;
  for (;;) {
    atomic_fetch_add(&h->sleepers, 1);
    uint32_t v = atomic_load(&h->seq);
    if (!reached(v, target)) {
      struct timespec ts = {0, SLEEP_NS};
      syscall(SYS_futex, &h->seq, FUTEX_WAIT, v, &ts, NULL, 0);
    }
    atomic_fetch_sub(&h->sleepers, 1);
    if (reached(atomic_load_explicit(&h->seq, memory_order_acquire), target)) return WICK_OK;
    if (wick_shm_peer_dead(&pg->segs, j))
      return wick_errorf(WICK_ERR_DIST, "%s: rank %d exited during the collective", name, j);
    if (now_ns() > deadline)
      return wick_errorf(WICK_ERR_DIST, "%s: timed out after %g s waiting for rank %d", name, pg->timeout_s, j);
  }
}

static const char *const kind_names[] = {"all_reduce", "broadcast", "all_gather", "gather",
                                         "scatter", "barrier", "reduce_scatter"};

static void describe(const wick_shm_desc *d, char *out, size_t cap) {
  int n = snprintf(out, cap, "%s of %llu %s", d->kind < 7 ? kind_names[d->kind] : "?",
                   (unsigned long long)d->count, wick_dtype_name((wick_dtype)d->dtype));
  if (d->kind == WICK_PG_BROADCAST || d->kind == WICK_PG_GATHER || d->kind == WICK_PG_SCATTER)
    snprintf(out + n, cap - (size_t)n, " (root %d)", (int)d->root);
}

/* One phase: publish, wait for every rank; on the op's first phase (check), every rank's
 * description of the op in slot b must equal this rank's. */
static wick_status phase(shm_pg *pg, const wick_pg_op *op, int b, int check) {
  publish(pg);
  for (int j = 0; j < pg->segs.size; j++) {
    if (j == pg->segs.rank) continue;
    wick_status s = wait_peer(pg, j, op->name);
    if (s != WICK_OK) {
      snprintf(pg->failed, sizeof pg->failed, "%s", wick_last_error());
      return s;
    }
  }
  if (!check) return WICK_OK;
  const wick_shm_desc *mine = &wick_shm_hdr(&pg->segs, pg->segs.rank)->desc[b];
  for (int j = 0; j < pg->segs.size; j++) {
    const wick_shm_desc *d = &wick_shm_hdr(&pg->segs, j)->desc[b];
    if (memcmp(d, mine, sizeof *d) != 0) {
      char a[160], c[160];
      describe(mine, a, sizeof a);
      describe(d, c, sizeof c);
      return wick_errorf(WICK_ERR_DIST, "%s: ranks disagree on the collective: rank %d called %s, rank %d called %s",
                         op->name, pg->segs.rank, a, j, c);
    }
  }
  return WICK_OK;
}

/* The next slot; on an op's first chunk also writes the op's description into it. */
static int next_slot(shm_pg *pg, const wick_pg_op *op, int first) {
  int b = (int)(pg->chunk++ & 1u);
  if (first) {
    wick_shm_desc *d = &wick_shm_hdr(&pg->segs, pg->segs.rank)->desc[b];
    memset(d, 0, sizeof *d);
    d->kind = (uint32_t)op->kind;
    d->dtype = (uint32_t)op->dtype;
    d->count = op->count;
    d->root = op->kind == WICK_PG_BROADCAST || op->kind == WICK_PG_GATHER || op->kind == WICK_PG_SCATTER ? op->root : 0;
    d->reduce = op->kind == WICK_PG_ALL_REDUCE || op->kind == WICK_PG_REDUCE_SCATTER ? (uint32_t)op->reduce : 0;
  }
  return b;
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* Chunks up to this many bytes are reduced whole by every rank (one phase: the slice split's
 * second phase costs more than the extra reading); larger ones are split across the ranks. */
#define WHOLE_BYTES ((size_t)128 << 10)
/* The split path's chunk: small enough that what one rank writes is still in cache when the
 * others read it (1 MiB beat 256 KiB and 2-4 MiB at 16 MiB on 2 cores). */
#define SPLIT_BYTES ((size_t)1 << 20)

/* One chunk of m elements reduced by every rank: copy in, phase, reduce all slots (rank order,
 * so every rank gets the same bits). */
static wick_status reduce_whole(shm_pg *pg, const wick_pg_op *op, unsigned char *data, size_t m, int first) {
  int W = pg->segs.size, r = pg->segs.rank;
  size_t es = wick_dtype_size(op->dtype);
  const void *src[64];
  int b = next_slot(pg, op, first);
  memcpy(wick_shm_slot(&pg->segs, r, b), data, m * es);
  wick_status s = phase(pg, op, b, first);
  if (s != WICK_OK) return s;
  for (int j = 0; j < W; j++) src[j] = j == r ? (const void *)data : wick_shm_slot(&pg->segs, j, b);
  if (m) wick_shm_reduce(op->dtype, op->reduce, data, NULL, src, W, m);
  return WICK_OK;
}

/* One chunk split across the ranks: each copies in the slices others reduce; rank r reduces
 * slice r (its own part from data) into data and its slot; each copies the others' slices out. */
static wick_status reduce_split(shm_pg *pg, const wick_pg_op *op, unsigned char *data, size_t m, int first) {
  int W = pg->segs.size, r = pg->segs.rank;
  size_t es = wick_dtype_size(op->dtype);
  size_t per = ((m + (size_t)W - 1) / (size_t)W + 15) & ~(size_t)15;
  const void *src[64];
  int b = next_slot(pg, op, first);
  unsigned char *mine = wick_shm_slot(&pg->segs, r, b);
  for (int j = 0; j < W; j++) {
    size_t jl = min_sz(m, per * (size_t)j), jh = min_sz(m, jl + per);
    if (j != r && jh > jl) memcpy(mine + jl * es, data + jl * es, (jh - jl) * es);
  }
  wick_status s = phase(pg, op, b, first);
  if (s != WICK_OK) return s;
  size_t lo = min_sz(m, per * (size_t)r), hi = min_sz(m, lo + per);
  for (int j = 0; j < W; j++) src[j] = j == r ? (const void *)(data + lo * es) : wick_shm_slot(&pg->segs, j, b) + lo * es;
  if (hi > lo) wick_shm_reduce(op->dtype, op->reduce, data + lo * es, mine + lo * es, src, W, hi - lo);
  if ((s = phase(pg, op, b, 0)) != WICK_OK) return s;
  for (int j = 0; j < W; j++) {
    size_t jl = min_sz(m, per * (size_t)j), jh = min_sz(m, jl + per);
    if (j != r && jh > jl) memcpy(data + jl * es, wick_shm_slot(&pg->segs, j, b) + jl * es, (jh - jl) * es);
  }
  return WICK_OK;
}

/* all_reduce: chunk by chunk, whole or split by size (the same choice on every rank). */
static wick_status run_all_reduce(shm_pg *pg, const wick_pg_op *op) {
  size_t es = wick_dtype_size(op->dtype), bytes = op->count * es;
  int whole = bytes <= WHOLE_BYTES;
  size_t cap = min_sz(pg->segs.slot_bytes, whole ? WHOLE_BYTES : SPLIT_BYTES) / es;
  unsigned char *data = op->data;
  for (size_t off = 0, first = 1; first || off < op->count; off += cap, first = 0) {
    size_t m = min_sz(cap, op->count - off);
    wick_status s = whole ? reduce_whole(pg, op, data + off * es, m, (int)first)
                          : reduce_split(pg, op, data + off * es, m, (int)first);
    if (s != WICK_OK) return s;
    if (op->count == 0) break;
  }
  return WICK_OK;
}

/* reduce_scatter: aux holds W blocks of count; per chunk every rank copies its W pieces into
 * its slot, then rank r reduces piece r over every slot straight into data. */
static wick_status run_reduce_scatter(shm_pg *pg, const wick_pg_op *op) {
  int W = pg->segs.size, r = pg->segs.rank;
  size_t es = wick_dtype_size(op->dtype), cap = (pg->segs.slot_bytes / es / (size_t)W) & ~(size_t)15;
  const unsigned char *aux = op->aux;
  const void *src[64];
  for (size_t off = 0, first = 1; first || off < op->count; off += cap, first = 0) {
    size_t m = min_sz(cap, op->count - off);
    int b = next_slot(pg, op, (int)first);
    for (int j = 0; j < W; j++)
      memcpy(wick_shm_slot(&pg->segs, r, b) + (size_t)j * cap * es, aux + ((size_t)j * op->count + off) * es, m * es);
    wick_status s = phase(pg, op, b, (int)first);
    if (s != WICK_OK) return s;
    for (int j = 0; j < W; j++) src[j] = wick_shm_slot(&pg->segs, j, b) + (size_t)r * cap * es;
    if (m) wick_shm_reduce(op->dtype, op->reduce, (unsigned char *)op->data + off * es, NULL, src, W, m);
    if (op->count == 0) break;
  }
  return WICK_OK;
}

/* broadcast, all_gather, gather, scatter, barrier: one phase per chunk of bytes. */
static wick_status run_move(shm_pg *pg, const wick_pg_op *op) {
  int W = pg->segs.size, r = pg->segs.rank, root = op->root;
  size_t bytes = op->count * wick_dtype_size(op->dtype);
  size_t cap = op->kind == WICK_PG_SCATTER ? (pg->segs.slot_bytes / (size_t)W) & ~(size_t)63 : pg->segs.slot_bytes;
  unsigned char *data = op->data, *aux = op->aux;
  for (size_t off = 0, first = 1; first || off < bytes; off += cap, first = 0) {
    size_t m = min_sz(cap, bytes - off);
    int b = next_slot(pg, op, (int)first);
    unsigned char *mine = wick_shm_slot(&pg->segs, r, b);
    switch (op->kind) {
      case WICK_PG_BROADCAST: if (r == root) memcpy(mine, data + off, m); break;
      case WICK_PG_ALL_GATHER: case WICK_PG_GATHER: memcpy(mine, data + off, m); break;
      case WICK_PG_SCATTER:
        if (r == root)
          for (int j = 0; j < W; j++) memcpy(mine + (size_t)j * cap, aux + (size_t)j * bytes + off, m);
        break;
      default: break;
    }
    wick_status s = phase(pg, op, b, (int)first);
    if (s != WICK_OK) return s;
    switch (op->kind) {
      case WICK_PG_BROADCAST: if (r != root) memcpy(data + off, wick_shm_slot(&pg->segs, root, b), m); break;
      case WICK_PG_ALL_GATHER: case WICK_PG_GATHER:
        if (op->kind == WICK_PG_ALL_GATHER || r == root)
          for (int j = 0; j < W; j++) memcpy(aux + (size_t)j * bytes + off, wick_shm_slot(&pg->segs, j, b), m);
        break;
      case WICK_PG_SCATTER: memcpy(data + off, wick_shm_slot(&pg->segs, root, b) + (size_t)r * cap, m); break;
      default: break;
    }
    if (bytes == 0) break;
  }
  return WICK_OK;
}

/* Runs op on another group from this group's thread, and waits. */
static wick_status run_on(wick_pg *other, const wick_pg_op *op) {
  wick_pg_work *w = NULL;
  wick_status s = wick_pg_submit(other, op, &w);
  if (s == WICK_OK) s = wick_pg_work_wait(w);
  wick_pg_work_free(w);
  return s;
}

/* A hierarchical group's all_reduce: reduce within the node (shm), between the nodes' rank 0s
 * (leaders), then node rank 0 broadcasts the result within the node (shm); other ops run on
 * the world group. */
static wick_status run_hier(shm_pg *pg, const wick_pg_op *op) {
  if (op->kind != WICK_PG_ALL_REDUCE) return run_on(pg->world, op);
  wick_status s = run_all_reduce(pg, op);
  if (s == WICK_OK && pg->leaders) s = run_on(pg->leaders, op);
  if (s != WICK_OK) return s;
  wick_pg_op b = *op;
  b.kind = WICK_PG_BROADCAST;
  b.root = 0;
  return run_move(pg, &b);
}

static wick_status run_op(shm_pg *pg, const wick_pg_op *op) {
  if (pg->failed[0])
    return wick_errorf(WICK_ERR_DIST, "%s: the process group failed earlier (%s)", op->name, pg->failed);
  if (pg->world) return run_hier(pg, op);
  switch (op->kind) {
    case WICK_PG_ALL_REDUCE: return run_all_reduce(pg, op);
    case WICK_PG_REDUCE_SCATTER: return run_reduce_scatter(pg, op);
    default: return run_move(pg, op);
  }
}

/* ---- the queue: ops run in submission order, on the thread or inline in a waiter ---- */

static void finish(shm_work *w, wick_status s) {
  pthread_mutex_lock(&w->mu);
  w->status = s;
  if (s != WICK_OK) snprintf(w->message, sizeof w->message, "%s", wick_last_error());
  w->done = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

/* Runs w, taken off the queue with busy set by the caller; clears busy. */
static void run_work(shm_pg *pg, shm_work *w) {
  finish(w, run_op(pg, &w->op));
  pthread_mutex_lock(&pg->mu);
  pg->busy = 0;
  pthread_cond_broadcast(&pg->cv);
  pthread_mutex_unlock(&pg->mu);
}

static shm_work *pop(shm_pg *pg) {
  shm_work *w = pg->head;
  pg->head = w->next;
  if (!pg->head) pg->tail = NULL;
  pg->busy = 1;
  return w;
}

static void *loop(void *arg) {
  shm_pg *pg = arg;
  for (;;) {
    pthread_mutex_lock(&pg->mu);
    while (!pg->stopping && (!pg->head || pg->busy)) pthread_cond_wait(&pg->cv, &pg->mu);
    if (!pg->head) {
      pthread_mutex_unlock(&pg->mu);
      return NULL;
    }
    shm_work *w = pop(pg);
    pthread_mutex_unlock(&pg->mu);
    run_work(pg, w);
  }
}

static wick_status shm_wait(wick_pg_work *base) {
  shm_work *w = (shm_work *)base;
  shm_pg *pg = w->pg;
  pthread_mutex_lock(&pg->mu);
  int mine = !pg->busy && pg->head == w;
  if (mine) pop(pg);
  pthread_mutex_unlock(&pg->mu);
  if (mine) run_work(pg, w);
  pthread_mutex_lock(&w->mu);
  while (!w->done) pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
  if (w->status != WICK_OK) return wick_errorf(w->status, "%s", w->message);
  return WICK_OK;
}

static bool shm_done(wick_pg_work *base) {
  shm_work *w = (shm_work *)base;
  pthread_mutex_lock(&w->mu);
  int d = w->done;
  pthread_mutex_unlock(&w->mu);
  return d;
}

static void shm_free_work(wick_pg_work *base) {
  shm_work *w = (shm_work *)base;
  pthread_mutex_lock(&w->mu);
  while (!w->done) pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  free(w);
}

static void shm_destroy(wick_pg *base) {
  shm_pg *pg = (shm_pg *)base;
  pthread_mutex_lock(&pg->mu);
  pg->stopping = 1;
  pthread_cond_broadcast(&pg->cv);
  pthread_mutex_unlock(&pg->mu);
  pthread_join(pg->thread, NULL);
  wick_pg_destroy(pg->leaders);
  wick_pg_destroy(pg->world);
  wick_shm_segs_close(&pg->segs);
  pthread_mutex_destroy(&pg->mu);
  pthread_cond_destroy(&pg->cv);
  free(pg);
}

static wick_status shm_submit(wick_pg *base, const wick_pg_op *op, wick_pg_work **out);

static const wick_pg_ops shm_ops = {"shm", shm_destroy, shm_submit, shm_wait, shm_done, shm_free_work};
static const wick_pg_ops hier_ops = {"hier", shm_destroy, shm_submit, shm_wait, shm_done, shm_free_work};

bool wick_pg_shm_supports(const wick_pg_op *op) {
  if (op->kind == WICK_PG_ALL_REDUCE || op->kind == WICK_PG_REDUCE_SCATTER)
    return wick_shm_reduce_supported(op->dtype, op->reduce);
  return op->kind == WICK_PG_BARRIER || wick_dtype_size(op->dtype) > 0;
}

static wick_status shm_submit(wick_pg *base, const wick_pg_op *op, wick_pg_work **out) {
  shm_pg *pg = (shm_pg *)base;
  if (pg->world && op->kind == WICK_PG_ALL_REDUCE && (op->reduce == WICK_PG_AVG || wick_dtype_size(op->dtype) == 2))
    return wick_errorf(WICK_ERR_ARG, "%s: the hier backend reduces f32 f64 i64 i32 u8 with sum product min max",
                       op->name);
  if (!wick_pg_shm_supports(op))
    return wick_errorf(WICK_ERR_ARG, "%s: the shm backend cannot reduce %s", op->name, wick_dtype_name(op->dtype));
  shm_work *w = calloc(1, sizeof *w);
  if (!w) return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op->name);
  w->base.ops = &shm_ops;
  w->pg = pg;
  w->op = *op;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  pthread_mutex_lock(&pg->mu);
  if (pg->tail) pg->tail->next = w;
  else pg->head = w;
  pg->tail = w;
  pthread_cond_broadcast(&pg->cv);
  pthread_mutex_unlock(&pg->mu);
  *out = &w->base;
  return WICK_OK;
}

wick_status wick_pg_create_shm(wick_store_client *store, const char *prefix, int rank, int size,
                               double timeout_s, size_t slot_bytes, wick_pg **out) {
  *out = NULL;
  if (size > 64) return wick_errorf(WICK_ERR_UNSUPPORTED, "the shm backend handles at most 64 ranks (got %d)", size);
  shm_pg *pg = calloc(1, sizeof *pg);
  if (!pg) return wick_errorf(WICK_ERR_OOM, "init_process_group: out of memory");
  if (!slot_bytes) slot_bytes = WICK_SHM_SLOT_BYTES;
  if (slot_bytes < WICK_SHM_SLOT_MIN) slot_bytes = WICK_SHM_SLOT_MIN;
  wick_status s = wick_shm_segs_open(store, prefix, rank, size, timeout_s, slot_bytes, &pg->segs);
  if (s != WICK_OK) {
    free(pg);
    return s;
  }
  pg->base.ops = &shm_ops;
  pg->timeout_s = timeout_s;
  pthread_mutex_init(&pg->mu, NULL);
  pthread_cond_init(&pg->cv, NULL);
  if (pthread_create(&pg->thread, NULL, loop, pg) != 0) {
    wick_shm_segs_close(&pg->segs);
    free(pg);
    return wick_errorf(WICK_ERR_DIST, "init_process_group: cannot start the shm group's thread");
  }
  *out = &pg->base;
  return WICK_OK;
}

wick_status wick_pg_create_hier(wick_pg *node, wick_pg *leaders, wick_pg *world, wick_pg **out) {
  *out = NULL;
  if (!node || node->ops != &shm_ops || !world)
    return wick_errorf(WICK_ERR_ARG, "init_process_group: a hierarchical group needs a node shm group and a world group");
  shm_pg *pg = (shm_pg *)node;
  pg->leaders = leaders;
  pg->world = world;
  pg->base.ops = &hier_ops;
  *out = node;
  return WICK_OK;
}
