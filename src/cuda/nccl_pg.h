/* The NCCL process group (nccl_pg.c): process_group.h's interface over CUDA buffers. Built only
 * with CUDA and NCCL (WICK_HAVE_NCCL). Plain C, no CUDA headers, for the Lua binding. */
#ifndef WICK_CUDA_NCCL_PG_H
#define WICK_CUDA_NCCL_PG_H

#include "dist/process_group.h"

/* A communicator of `size` ranks on cuda:`device`. Rank 0 makes NCCL's unique id and publishes
 * it in the store under `prefix` .. "nccl_id"; the others wait for it (store may be NULL when
 * size == 1). timeout_s bounds the rendezvous, the communicator's set-up and every later
 * collective: past it (or on an NCCL error) the communicator is aborted and the op fails with
 * a message, instead of hanging. Collectives run on the group's own stream after the work
 * already queued on the device's current stream; wick_pg_work_wait() blocks until the op is
 * done on the GPU. All calls on a group come from one thread (the Lua state's). */
wick_status wick_pg_create_nccl(wick_store_client *store, const char *prefix, int rank, int size,
                                double timeout_s, int device, wick_pg **out);
/* NCCL's version as "2.28.9". */
const char *wick_nccl_version(void);

#endif
