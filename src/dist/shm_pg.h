/* The shared-memory process group (shm_pg.c): process_group.h's interface for ranks on one
 * host, over one memfd segment per rank that every rank maps. Linux only. */
#ifndef WICK_DIST_SHM_PG_H
#define WICK_DIST_SHM_PG_H

#include "dist/process_group.h"

/* The default data bytes of each of a segment's two slots (the chunk a collective moves per step). */
#define WICK_SHM_SLOT_BYTES ((size_t)4 << 20)
/* The smallest slot (a smaller request gets this): every op of 64 ranks still moves 16 elements
 * per chunk. */
#define WICK_SHM_SLOT_MIN ((size_t)8192)

/* Maps the segments of `size` ranks (rank `rank` of them), exchanging "pid fd" through the store
 * under `prefix`; slot_bytes 0 is WICK_SHM_SLOT_BYTES. Every rank reaches the same outcome: WICK_ERR_UNSUPPORTED when shared memory
 * cannot be used on some rank (the message names it and says why: memory could not be reserved,
 * a segment could not be opened); the caller may then fall back to another back-end. Store
 * failures and timeouts are WICK_ERR_DIST. Every collective waits at most timeout_s for a peer,
 * and fails at once, naming the rank, when that peer's process has exited. The segments hold
 * no name: nothing is left behind when the processes end. */
wick_status wick_pg_create_shm(wick_store_client *store, const char *prefix, int rank, int size,
                               double timeout_s, size_t slot_bytes, wick_pg **out);
/* A group of ranks on several hosts: all_reduce runs within the node over `node` (a group made
 * by wick_pg_create_shm of this host's ranks), between one rank per node over `leaders` (node
 * rank 0 only, NULL elsewhere), then node rank 0 broadcasts within the node; every other op runs
 * on `world` (every rank, e.g. Gloo). Takes the three groups; *out is `node`, named "hier".
 * all_reduce takes what Gloo takes (no avg, no f16/bf16: lua/wick/dist converts). */
wick_status wick_pg_create_hier(wick_pg *node, wick_pg *leaders, wick_pg *world, wick_pg **out);
/* Whether wick_pg_create_shm's groups run this op (kind, dtype and reduce). */
bool wick_pg_shm_supports(const wick_pg_op *op);

#endif
