/* The NCCL process group behind process_group.h: one non-blocking communicator and one stream
 * per group. A collective waits (on the GPU) for the work already queued on the caller's
 * current stream, runs on the group's stream and records an event; wait() polls that event
 * with the group's deadline, checking ncclCommGetAsyncError, and aborts the communicator on
 * an error or a timeout, so a dead peer gives an error, never a hang. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nccl.h>

#include "cuda/cuda_rt.h"
#include "cuda/nccl_pg.h"
#include "dist/pg_backend.h"
#include "dist/store.h"

typedef struct {
  wick_pg base;
  ncclComm_t comm; /* NULL once destroyed or aborted */
  cudaStream_t stream;
  cudaEvent_t ready; /* recorded on the caller's stream at each submit */
  float *scratch;    /* one float on the device: the barrier's all_reduce */
  int device, rank, size;
  double timeout_s;
  int refs;          /* 1 for the group until destroyed, + 1 per live work */
  bool aborted;
  char why[384];     /* what aborted the communicator */
} nccl_pg;

typedef struct {
  wick_pg_work base;
  nccl_pg *pg;
  cudaEvent_t done; /* recorded on the group's stream after the op */
  const char *name;
  double deadline;
  bool finished; /* waited: status and message are final */
  wick_status status;
  char message[512];
} nccl_work;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Spins briefly (collectives of small buffers finish in microseconds), then sleeps 100 us. */
static void backoff(int spins) {
  if (spins < 200) {
    sched_yield();
  } else {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
}

static void unref(nccl_pg *pg) {
  if (--pg->refs > 0) return;
  free(pg);
}

/* Aborts the communicator (its queued kernels end) and remembers why for later calls. */
static void abort_comm(nccl_pg *pg, const char *why) {
  if (pg->comm) {
    ncclCommAbort(pg->comm);
    pg->comm = NULL;
  }
  if (!pg->aborted) snprintf(pg->why, sizeof pg->why, "%s", why);
  pg->aborted = true;
}

static wick_status aborted_error(const nccl_pg *pg, const char *op) {
  return wick_errorf(WICK_ERR_NCCL, "%s: the nccl process group was aborted by an earlier error (%s)",
                     op, pg->why);
}

/* The error of a failed NCCL call: aborts the communicator and names op and NCCL's reason. */
static wick_status nccl_fail(nccl_pg *pg, ncclResult_t r, const char *op) {
  const char *last = pg->comm ? ncclGetLastError(pg->comm) : NULL;
  char why[384];
  snprintf(why, sizeof why, "%s: NCCL error: %s%s%s", op, ncclGetErrorString(r),
           last && *last ? ": " : "", last && *last ? last : "");
  abort_comm(pg, why);
  return wick_errorf(WICK_ERR_NCCL, "%s", why);
}

static wick_status timeout_fail(nccl_pg *pg, const char *op, const char *what) {
  char why[384];
  snprintf(why, sizeof why, "%s: %s timed out after %.1f s on rank %d of %d (a peer is missing or "
           "stuck); the communicator was aborted", op, what, pg->timeout_s, pg->rank, pg->size);
  abort_comm(pg, why);
  return wick_errorf(WICK_ERR_NCCL, "%s", why);
}

/* A non-blocking communicator answers ncclInProgress while a call completes in the
 * background: poll its state until it settles, the deadline passes, or it fails. */
static wick_status settle(nccl_pg *pg, ncclResult_t r, double deadline, const char *op, const char *what) {
  for (int spins = 0; r == ncclInProgress; spins++) {
    if (now_s() > deadline) return timeout_fail(pg, op, what);
    backoff(spins);
    ncclResult_t q = ncclCommGetAsyncError(pg->comm, &r);
    if (q != ncclSuccess) r = q;
  }
  if (r != ncclSuccess) return nccl_fail(pg, r, op);
  return WICK_OK;
}

/* Polls ev until done; checks the communicator's async error and the deadline meanwhile. */
static wick_status poll_event(nccl_pg *pg, cudaEvent_t ev, double deadline, const char *op) {
  for (int spins = 0;; spins++) {
    cudaError_t e = cudaEventQuery(ev);
    if (e == cudaSuccess) return WICK_OK;
    if (e != cudaErrorNotReady) return wick_cuda_status(e, op);
    if (!pg->comm) return aborted_error(pg, op);
    ncclResult_t r = ncclSuccess, q = ncclCommGetAsyncError(pg->comm, &r);
    if (q != ncclSuccess) r = q;
    if (r != ncclSuccess && r != ncclInProgress) return nccl_fail(pg, r, op);
    if (now_s() > deadline) return timeout_fail(pg, op, "the collective");
    backoff(spins);
  }
}

static bool nccl_dtype(wick_dtype d, ncclDataType_t *out) {
  switch (d) {
    case WICK_DTYPE_F32: *out = ncclFloat32; return true;
    case WICK_DTYPE_F64: *out = ncclFloat64; return true;
    case WICK_DTYPE_F16: *out = ncclFloat16; return true;
    case WICK_DTYPE_BF16: *out = ncclBfloat16; return true;
    case WICK_DTYPE_I64: *out = ncclInt64; return true;
    case WICK_DTYPE_I32: *out = ncclInt32; return true;
    case WICK_DTYPE_U8: *out = ncclUint8; return true;
    default: return false;
  }
}

static ncclRedOp_t nccl_op(wick_pg_reduce r) {
  switch (r) {
    case WICK_PG_PRODUCT: return ncclProd;
    case WICK_PG_MIN: return ncclMin;
    case WICK_PG_MAX: return ncclMax;
    case WICK_PG_AVG: return ncclAvg;
    default: return ncclSum;
  }
}

/* Queues op's NCCL calls on the group's stream; returns NCCL's answer (maybe ncclInProgress).
 * Gather and scatter are grouped point-to-point calls; the root's own part is a device copy. */
static ncclResult_t enqueue(nccl_pg *pg, const wick_pg_op *op, ncclDataType_t dt, cudaError_t *cerr) {
  size_t bytes = op->count * wick_dtype_size(op->dtype);
  char *data = op->data, *aux = op->aux;
  cudaStream_t s = pg->stream;
  *cerr = cudaSuccess;
  switch (op->kind) {
    case WICK_PG_ALL_REDUCE:
      return ncclAllReduce(data, data, op->count, dt, nccl_op(op->reduce), pg->comm, s);
    case WICK_PG_BROADCAST:
      return ncclBroadcast(data, data, op->count, dt, op->root, pg->comm, s);
    case WICK_PG_ALL_GATHER:
      return ncclAllGather(data, aux, op->count, dt, pg->comm, s);
    case WICK_PG_REDUCE_SCATTER:
      return ncclReduceScatter(aux, data, op->count, dt, nccl_op(op->reduce), pg->comm, s);
    case WICK_PG_BARRIER:
      return ncclAllReduce(pg->scratch, pg->scratch, 1, ncclFloat32, ncclSum, pg->comm, s);
    case WICK_PG_GATHER:
    case WICK_PG_SCATTER: {
      bool gather = op->kind == WICK_PG_GATHER;
      bool root = pg->rank == op->root;
      if (root) { /* the root's own part, before the group of sends and receives */
        char *own = aux + (size_t)pg->rank * bytes;
        *cerr = cudaMemcpyAsync(gather ? own : data, gather ? data : own, bytes, cudaMemcpyDeviceToDevice, s);
        if (*cerr != cudaSuccess) return ncclUnhandledCudaError;
      }
      ncclResult_t first = ncclGroupStart();
      if (first != ncclSuccess) return first;
      if (root) {
        for (int r = 0; r < pg->size; r++) {
          if (r == pg->rank) continue;
          char *part = aux + (size_t)r * bytes;
          ncclResult_t x = gather ? ncclRecv(part, op->count, dt, r, pg->comm, s)
                                  : ncclSend(part, op->count, dt, r, pg->comm, s);
          if (first == ncclSuccess) first = x;
        }
      } else {
        first = gather ? ncclSend(data, op->count, dt, op->root, pg->comm, s)
                       : ncclRecv(data, op->count, dt, op->root, pg->comm, s);
      }
      ncclResult_t end = ncclGroupEnd(); /* always closes the group */
      return first != ncclSuccess ? first : end;
    }
  }
  return ncclInvalidArgument;
}

static void nccl_destroy(wick_pg *base);
static wick_status nccl_submit(wick_pg *base, const wick_pg_op *op, wick_pg_work **out);
static wick_status nccl_wait(wick_pg_work *base);
static bool nccl_done(wick_pg_work *base);
static void nccl_free_work(wick_pg_work *base);

static const wick_pg_ops nccl_ops = {"nccl", nccl_destroy, nccl_submit, nccl_wait, nccl_done,
                                     nccl_free_work};

static wick_status nccl_submit(wick_pg *base, const wick_pg_op *op, wick_pg_work **out) {
  nccl_pg *pg = (nccl_pg *)base;
  if (pg->aborted) return aborted_error(pg, op->name);
  if (!pg->comm) return wick_errorf(WICK_ERR_DIST, "%s: the process group was destroyed", op->name);
  ncclDataType_t dt = ncclFloat32;
  if (op->kind != WICK_PG_BARRIER && !nccl_dtype(op->dtype, &dt))
    return wick_errorf(WICK_ERR_DTYPE, "%s: the nccl backend does not support dtype %s", op->name,
                       wick_dtype_name(op->dtype));
  if (op->reduce == WICK_PG_AVG && !wick_dtype_is_float(op->dtype))
    return wick_errorf(WICK_ERR_DTYPE, "%s: avg needs a floating-point tensor (got %s)", op->name,
                       wick_dtype_name(op->dtype));
  if ((op->kind == WICK_PG_BROADCAST || op->kind == WICK_PG_GATHER || op->kind == WICK_PG_SCATTER) &&
      (op->root < 0 || op->root >= pg->size))
    return wick_errorf(WICK_ERR_ARG, "%s: root %d is out of range for world size %d", op->name,
                       op->root, pg->size);
  WICK_TRY(wick_cuda_use_device(pg->device));
  nccl_work *w = calloc(1, sizeof *w);
  if (!w) return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op->name);
  w->base.ops = &nccl_ops;
  w->pg = pg;
  w->name = op->name;
  w->deadline = now_s() + pg->timeout_s;
  cudaError_t e = cudaEventCreateWithFlags(&w->done, cudaEventDisableTiming);
  if (e != cudaSuccess) {
    free(w);
    return wick_cuda_status(e, op->name);
  }
  /* the op reads what the caller's stream is still computing: wait for it on the GPU only */
  cudaStream_t cur = wick_cuda_current_stream(pg->device);
  e = cudaEventRecord(pg->ready, cur);
  if (e == cudaSuccess) e = cudaStreamWaitEvent(pg->stream, pg->ready, 0);
  wick_status s = WICK_OK;
  if (e == cudaSuccess) {
    ncclResult_t r = enqueue(pg, op, dt, &e);
    s = e != cudaSuccess ? wick_cuda_status(e, op->name) : settle(pg, r, w->deadline, op->name, "queueing the collective");
  } else {
    s = wick_cuda_status(e, op->name);
  }
  if (s == WICK_OK) {
    e = cudaEventRecord(w->done, pg->stream);
    if (e != cudaSuccess) s = wick_cuda_status(e, op->name);
  }
  if (s != WICK_OK) {
    cudaEventDestroy(w->done);
    free(w);
    return s;
  }
  pg->refs++;
  *out = &w->base;
  return WICK_OK;
}

static wick_status nccl_wait(wick_pg_work *base) {
  nccl_work *w = (nccl_work *)base;
  if (!w->finished) {
    w->status = poll_event(w->pg, w->done, w->deadline, w->name);
    if (w->status != WICK_OK) snprintf(w->message, sizeof w->message, "%s", wick_last_error());
    w->finished = true;
  }
  if (w->status != WICK_OK) return wick_errorf(w->status, "%s", w->message);
  return WICK_OK;
}

static bool nccl_done(wick_pg_work *base) {
  nccl_work *w = (nccl_work *)base;
  if (w->finished || !w->pg->comm) return true; /* an aborted group's wait() raises at once */
  return cudaEventQuery(w->done) != cudaErrorNotReady;
}

static void nccl_free_work(wick_pg_work *base) {
  nccl_work *w = (nccl_work *)base;
  (void)nccl_wait(base); /* its buffers are in use until then; the deadline bounds it */
  cudaEventDestroy(w->done);
  unref(w->pg);
  free(w);
}

/* Waits for the queued work, then finalizes the communicator; past min(timeout, 30 s) (a peer
 * gone at exit) it aborts instead, so that leaving never hangs for the whole timeout. */
static void nccl_destroy(wick_pg *base) {
  nccl_pg *pg = (nccl_pg *)base;
  if (wick_cuda_use_device(pg->device) == WICK_OK && pg->comm) {
    double deadline = now_s() + (pg->timeout_s < 30 ? pg->timeout_s : 30);
    cudaEvent_t last;
    wick_status s = WICK_ERR_CUDA;
    if (cudaEventCreateWithFlags(&last, cudaEventDisableTiming) == cudaSuccess) {
      if (cudaEventRecord(last, pg->stream) == cudaSuccess)
        s = poll_event(pg, last, deadline, "destroy_process_group");
      cudaEventDestroy(last);
    }
    if (s == WICK_OK && pg->comm) {
      s = settle(pg, ncclCommFinalize(pg->comm), deadline, "destroy_process_group", "finalizing");
      if (s == WICK_OK && pg->comm) {
        ncclCommDestroy(pg->comm);
        pg->comm = NULL;
      }
    }
    if (pg->comm) abort_comm(pg, "the process group was destroyed");
  }
  if (!pg->aborted) {
    pg->aborted = true;
    snprintf(pg->why, sizeof pg->why, "the process group was destroyed");
  }
  cudaStreamDestroy(pg->stream);
  cudaEventDestroy(pg->ready);
  cudaFree(pg->scratch);
  unref(pg);
}

/* NCCL's unique id: made by rank 0, handed to the others through the store. */
static wick_status exchange_id(wick_store_client *store, const char *prefix, int rank, int size,
                               double timeout_s, ncclUniqueId *id) {
  char key[512];
  snprintf(key, sizeof key, "%snccl_id", prefix ? prefix : "");
  if (rank == 0) {
    ncclResult_t r = ncclGetUniqueId(id);
    if (r != ncclSuccess)
      return wick_errorf(WICK_ERR_NCCL, "init_process_group: ncclGetUniqueId: %s", ncclGetErrorString(r));
    if (size > 1) WICK_TRY(wick_store_set(store, key, id, sizeof *id));
    return WICK_OK;
  }
  const char *keys[1] = {key};
  wick_status s = wick_store_wait(store, keys, 1, timeout_s);
  if (s != WICK_OK) {
    wick_error_prefix("init_process_group: waiting for rank 0's NCCL id");
    return s;
  }
  char *v = NULL;
  size_t n = 0;
  WICK_TRY(wick_store_get(store, key, &v, &n));
  if (n != sizeof *id) {
    free(v);
    return wick_errorf(WICK_ERR_DIST, "init_process_group: rank 0's NCCL id has %zu bytes, expected %zu",
                       n, sizeof *id);
  }
  memcpy(id, v, sizeof *id);
  free(v);
  return WICK_OK;
}

wick_status wick_pg_create_nccl(wick_store_client *store, const char *prefix, int rank, int size,
                                double timeout_s, int device, wick_pg **out) {
  *out = NULL;
  if (size < 1 || rank < 0 || rank >= size)
    return wick_errorf(WICK_ERR_ARG, "init_process_group: rank %d is out of range for world size %d", rank, size);
  if (size > 1 && !store)
    return wick_errorf(WICK_ERR_ARG, "init_process_group: the nccl backend needs a store for world size %d", size);
  if (!(timeout_s > 0)) return wick_errorf(WICK_ERR_ARG, "init_process_group: timeout must be > 0 (got %g)", timeout_s);
  WICK_TRY(wick_cuda_check_device(device));
  WICK_TRY(wick_cuda_use_device(device));
  ncclUniqueId id;
  WICK_TRY(exchange_id(store, prefix, rank, size, timeout_s, &id));
  nccl_pg *pg = calloc(1, sizeof *pg);
  if (!pg) return wick_errorf(WICK_ERR_OOM, "init_process_group: out of memory");
  pg->base.ops = &nccl_ops;
  pg->device = device;
  pg->rank = rank;
  pg->size = size;
  pg->timeout_s = timeout_s;
  pg->refs = 1;
  const char *op = "init_process_group";
  cudaError_t e = cudaStreamCreateWithFlags(&pg->stream, cudaStreamNonBlocking);
  if (e != cudaSuccess) {
    free(pg);
    return wick_cuda_status(e, op);
  }
  e = cudaEventCreateWithFlags(&pg->ready, cudaEventDisableTiming);
  if (e == cudaSuccess) e = cudaMalloc((void **)&pg->scratch, sizeof(float));
  if (e == cudaSuccess) e = cudaMemset(pg->scratch, 0, sizeof(float));
  wick_status s = WICK_OK;
  if (e != cudaSuccess) {
    s = wick_cuda_status(e, op);
  } else {
    /* non-blocking, so that a rank that never joins is a timeout here rather than a hang */
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclResult_t r = ncclCommInitRankConfig(&pg->comm, size, id, rank, &cfg);
    if (r != ncclSuccess && r != ncclInProgress) {
      s = wick_errorf(WICK_ERR_NCCL, "%s: ncclCommInitRank of rank %d of %d on cuda:%d: %s", op, rank,
                      size, device, ncclGetErrorString(r));
    } else {
      s = settle(pg, r, now_s() + timeout_s, op, "creating the NCCL communicator");
    }
  }
  if (s != WICK_OK) {
    if (pg->comm) ncclCommAbort(pg->comm);
    cudaFree(pg->scratch);
    if (pg->ready) cudaEventDestroy(pg->ready);
    cudaStreamDestroy(pg->stream);
    free(pg);
    return s;
  }
  *out = &pg->base;
  return WICK_OK;
}

const char *wick_nccl_version(void) {
  static char buf[32];
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unknown";
  /* NCCL_VERSION(X,Y,Z) = X*10000 + Y*100 + Z since 2.9 */
  snprintf(buf, sizeof buf, "%d.%d.%d", v / 10000, (v / 100) % 100, v % 100);
  return buf;
}
