/* The back-end side of process_group.h: a process group (Gloo, NCCL) and its work items start
 * with these headers and point at an ops table; process_group.c dispatches through it. */
#ifndef WICK_DIST_PG_BACKEND_H
#define WICK_DIST_PG_BACKEND_H

#include "dist/process_group.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wick_pg_ops {
  const char *name; /* "gloo", "nccl": the backend's name in messages */
  void (*destroy)(wick_pg *pg);
  wick_status (*submit)(wick_pg *pg, const wick_pg_op *op, wick_pg_work **out);
  wick_status (*wait)(wick_pg_work *w);
  bool (*done)(wick_pg_work *w);
  void (*free_work)(wick_pg_work *w);
} wick_pg_ops;

/* The first member of every back-end's group and work (C: embedded first; C++: base class). */
struct wick_pg {
  const wick_pg_ops *ops;
};
struct wick_pg_work {
  const wick_pg_ops *ops;
};

#ifdef __cplusplus
}
#endif

#endif
