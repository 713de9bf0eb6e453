/* The segments of the shared-memory process group: one per rank, made by shm_seg.c and shared
 * with the group's other ranks, laid out as a header and two slots (shm_pg.c's protocol). */
#ifndef WICK_DIST_SHM_SEG_H
#define WICK_DIST_SHM_SEG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/status.h"
#include "dist/store.h"

#define WICK_SHM_MAGIC 0x316d68736b636977ull /* "wickshm1" */

/* What a rank says about the collective in a slot: every rank compares all of them before it
 * uses another rank's data, so a mismatch is an error, never a read past what was written. */
typedef struct {
  uint32_t kind, dtype, reduce;
  int32_t root;
  uint64_t count;
} wick_shm_desc;

/* The start of a segment. seq: phases this rank has published (only it writes); sleepers: how
 * many peers sleep on seq in a futex (the publisher wakes them only then). */
typedef struct {
  uint64_t magic;
  uint32_t rank, size;
  uint64_t slot_bytes;
  _Alignas(64) _Atomic uint32_t seq;
  _Alignas(64) _Atomic uint32_t sleepers;
  _Alignas(64) wick_shm_desc desc[2]; /* one per slot */
} wick_shm_header;

#define WICK_SHM_HEADER_BYTES 4096

/* The segments of a group, this rank's and its peers' (all mapped read-write). */
typedef struct {
  int rank, size;
  size_t slot_bytes, seg_bytes;
  int fd;          /* this rank's memfd */
  unsigned char **base; /* [size] mapped segments */
  pid_t *pid;      /* [size] */
  int *pidfd;      /* [size]: -1 for this rank or where pidfd_open is missing */
} wick_shm_segs;

/* The collective agreement described in shm_pg.h (wick_pg_create_shm). */
wick_status wick_shm_segs_open(wick_store_client *store, const char *prefix, int rank, int size,
                               double timeout_s, size_t slot_bytes, wick_shm_segs *out);
void wick_shm_segs_close(wick_shm_segs *s);
/* Whether rank j's process has exited (or, without pidfds, no longer exists). */
int wick_shm_peer_dead(const wick_shm_segs *s, int j);

static inline wick_shm_header *wick_shm_hdr(const wick_shm_segs *s, int j) {
  return (wick_shm_header *)s->base[j];
}
static inline unsigned char *wick_shm_slot(const wick_shm_segs *s, int j, int b) {
  return s->base[j] + WICK_SHM_HEADER_BYTES + (size_t)b * s->slot_bytes;
}

#endif
