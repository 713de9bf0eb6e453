/* process_group.h's calls, dispatched to the group's back-end (gloo_pg.cc, src/cuda/nccl_pg.c)
 * through the ops table every group and work item starts with (pg_backend.h). */
#include "dist/pg_backend.h"

void wick_pg_destroy(wick_pg *pg) {
  if (pg) pg->ops->destroy(pg);
}

wick_status wick_pg_submit(wick_pg *pg, const wick_pg_op *op, wick_pg_work **out) {
  *out = NULL;
  return pg->ops->submit(pg, op, out);
}

wick_status wick_pg_work_wait(wick_pg_work *w) { return w->ops->wait(w); }

bool wick_pg_work_done(wick_pg_work *w) { return w->ops->done(w); }

void wick_pg_work_free(wick_pg_work *w) {
  if (w) w->ops->free_work(w);
}

const char *wick_pg_backend_name(const wick_pg *pg) { return pg->ops->name; }
