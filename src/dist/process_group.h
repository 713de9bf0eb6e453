/* The process group of a distributed run: collectives over raw contiguous buffers, run in
 * submission order. Back-ends: Gloo (gloo_pg.cc; CPU buffers, one communication thread per
 * group) and NCCL (src/cuda/nccl_pg.c; CUDA buffers, one stream per group), dispatched by
 * process_group.c through pg_backend.h. */
#ifndef WICK_DIST_PROCESS_GROUP_H
#define WICK_DIST_PROCESS_GROUP_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" { /* wick's C headers have no guards of their own */
#endif

#include "core/dtype.h"
#include "core/status.h"
#include "dist/store.h"

typedef struct wick_pg wick_pg;
typedef struct wick_pg_work wick_pg_work;

/* WICK_PG_AVG: NCCL only (floating point); the Lua side divides a gloo sum instead. */
typedef enum { WICK_PG_SUM, WICK_PG_PRODUCT, WICK_PG_MIN, WICK_PG_MAX, WICK_PG_AVG } wick_pg_reduce;

typedef enum {
  WICK_PG_ALL_REDUCE, /* data (count) in place */
  WICK_PG_BROADCAST,  /* data (count) in place, from root */
  WICK_PG_ALL_GATHER, /* data (count) -> aux (count * size), rank-major */
  WICK_PG_GATHER,     /* data (count) -> aux (count * size) on root only */
  WICK_PG_SCATTER,    /* aux (count * size) on root -> data (count) */
  WICK_PG_BARRIER,
  WICK_PG_REDUCE_SCATTER, /* aux (count * size), rank-major -> data (count), reduced; NCCL only */
} wick_pg_kind;

/* One collective. Buffers are borrowed: they must stay alive until the work is waited. */
typedef struct {
  wick_pg_kind kind;
  const char *name; /* the op's name in error messages (a static string) */
  wick_dtype dtype; /* f32 f64 i64 i32 u8 */
  void *data;
  size_t count; /* elements of data */
  void *aux;
  int root;
  wick_pg_reduce reduce;
} wick_pg_op;

/* Rendezvous of `size` ranks through the store (keys prefixed with `prefix`), then a full mesh
 * of TCP connections bound to `host` (NULL: this machine's hostname) or to the interface
 * `iface` when not NULL. timeout_s bounds the rendezvous and every later collective. The store
 * is only used during the call. */
wick_status wick_pg_create(wick_store_client *store, const char *prefix, int rank, int size,
                           double timeout_s, const char *host, const char *iface, wick_pg **out);
/* Waits for queued work, stops the thread, closes the connections. NULL is fine. */
void wick_pg_destroy(wick_pg *pg);

/* Queues op on the group's thread; *out is the caller's (wick_pg_work_free). */
wick_status wick_pg_submit(wick_pg *pg, const wick_pg_op *op, wick_pg_work **out);
/* Blocks until the work is done and returns its status (message as for any wick_status). */
wick_status wick_pg_work_wait(wick_pg_work *w);
bool wick_pg_work_done(wick_pg_work *w);
/* "gloo" or "nccl". */
const char *wick_pg_backend_name(const wick_pg *pg);
/* Waits for the work if still running (its buffers are in use), then frees. NULL is fine. */
void wick_pg_work_free(wick_pg_work *w);

#ifdef __cplusplus
}
#endif

#endif
