/* The caching device allocator: cudaMalloc only on a miss. Sizes are rounded (512 B steps up to
 * 1 MiB, 2 MiB steps above), freed blocks go to a free list per device and stream and serve the
 * next request of the same rounded size on that stream: work queued on one stream runs in
 * order, so the next user cannot overtake the previous one. A block also used on other streams
 * (wick_cuda_record_stream) waits for events recorded on them before it is reused. A training
 * loop asks for the same sizes every step, so after the first step no cudaMalloc happens. */
#include <pthread.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "cuda/cuda_rt.h"

#define MAX_DEVICES 64
#define SMALL_LIMIT ((size_t)1 << 20)
#define SMALL_STEP ((size_t)512)
#define LARGE_STEP ((size_t)2 << 20)
#define NBUCKETS 1024 /* free lists hashed by size */
#define NACTIVE 4096  /* live blocks hashed by pointer */
#define MAX_USES 8

typedef struct block {
  void *ptr;
  size_t size;
  int device;
  cudaStream_t stream; /* the stream it was allocated on */
  cudaStream_t uses[MAX_USES];
  int nuses;
  bool sync_on_free; /* used on more streams than `uses` holds */
  cudaEvent_t events[MAX_USES];
  int nevents;
  struct block *next;
} block;

typedef struct {
  block *free[NBUCKETS];
  block *pending; /* freed, waiting for events on other streams */
  wick_cuda_mem_stats stats;
} device_pool;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static device_pool pools[MAX_DEVICES];
static block *active[NACTIVE];

static size_t round_size(size_t n) {
  if (n == 0) n = 1;
  if (n <= SMALL_LIMIT) return (n + SMALL_STEP - 1) / SMALL_STEP * SMALL_STEP;
  return (n + LARGE_STEP - 1) / LARGE_STEP * LARGE_STEP;
}

static size_t bucket_of(size_t size) { return (size / SMALL_STEP) % NBUCKETS; }
static size_t active_of(const void *p) { return ((uintptr_t)p >> 9) % NACTIVE; }

static void count_alloc(wick_cuda_mem_stats *st, int64_t size) {
  st->allocated += size;
  if (st->allocated > st->max_allocated) st->max_allocated = st->allocated;
}

/* Moves pending blocks whose events have all completed to their free lists (lock held). */
static void process_pending(device_pool *pool) {
  block **pp = &pool->pending;
  while (*pp) {
    block *b = *pp;
    while (b->nevents > 0) {
      cudaError_t e = cudaEventQuery(b->events[b->nevents - 1]);
      if (e == cudaErrorNotReady) { cudaGetLastError(); break; }
      cudaEventDestroy(b->events[--b->nevents]);
      cudaGetLastError();
    }
    if (b->nevents > 0) { pp = &b->next; continue; }
    *pp = b->next;
    size_t k = bucket_of(b->size);
    b->next = pool->free[k];
    pool->free[k] = b;
  }
}

/* cudaFree of every cached block of one device (lock held, device current). */
static void release_cached(device_pool *pool) {
  for (block *b = pool->pending; b; b = b->next)
    while (b->nevents > 0) {
      cudaEventSynchronize(b->events[b->nevents - 1]);
      cudaEventDestroy(b->events[--b->nevents]);
    }
  process_pending(pool);
  for (size_t k = 0; k < NBUCKETS; k++) {
    for (block *b = pool->free[k], *next; b; b = next) {
      next = b->next;
      cudaFree(b->ptr);
      pool->stats.reserved -= (int64_t)b->size;
      pool->stats.num_frees++;
      free(b);
    }
    pool->free[k] = NULL;
  }
  cudaGetLastError();
}

void *wick_cuda_alloc(size_t nbytes, int device) {
  if (device < 0 || device >= MAX_DEVICES) {
    wick_errorf(WICK_ERR_DEVICE, "cuda: device cuda:%d is beyond the %d devices wick supports", device, MAX_DEVICES);
    return NULL;
  }
  cudaStream_t stream = wick_cuda_current_stream(device);
  if (wick_cuda_use_device(device) != WICK_OK) return NULL;
  size_t size = round_size(nbytes);
  device_pool *pool = &pools[device];
  pthread_mutex_lock(&lock);
  if (pool->pending) process_pending(pool);
  block *b = NULL;
  for (block **pp = &pool->free[bucket_of(size)]; *pp; pp = &(*pp)->next)
    if ((*pp)->size == size && (*pp)->stream == stream) {
      b = *pp;
      *pp = b->next;
      break;
    }
  if (!b) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation) {
      /* what the cache holds may be enough: give it back and try once more */
      cudaGetLastError();
      pool->stats.num_alloc_retries++;
      release_cached(pool);
      e = cudaMalloc(&p, size);
    }
    if (e != cudaSuccess || !(b = calloc(1, sizeof *b))) {
      if (e == cudaSuccess) cudaFree(p);
      wick_cuda_status(e != cudaSuccess ? e : cudaErrorMemoryAllocation, "cudaMalloc");
      pthread_mutex_unlock(&lock);
      return NULL;
    }
    b->ptr = p;
    b->size = size;
    b->device = device;
    b->stream = stream;
    pool->stats.reserved += (int64_t)size;
    if (pool->stats.reserved > pool->stats.max_reserved) pool->stats.max_reserved = pool->stats.reserved;
    pool->stats.num_mallocs++;
  }
  b->nuses = 0;
  b->sync_on_free = false;
  size_t h = active_of(b->ptr);
  b->next = active[h];
  active[h] = b;
  count_alloc(&pool->stats, (int64_t)size);
  pthread_mutex_unlock(&lock);
  wick_mem_account((int64_t)nbytes);
  return b->ptr;
}

/* Removes and returns the live block at p (lock held). */
static block *take_active(void *p) {
  for (block **pp = &active[active_of(p)]; *pp; pp = &(*pp)->next)
    if ((*pp)->ptr == p) {
      block *b = *pp;
      *pp = b->next;
      return b;
    }
  return NULL;
}

void wick_cuda_free(void *p, size_t nbytes, int device) {
  if (!p) return;
  wick_mem_account(-(int64_t)nbytes);
  pthread_mutex_lock(&lock);
  block *b = take_active(p);
  if (!b) { /* not ours: never happens for storages; do not leak it */
    pthread_mutex_unlock(&lock);
    cudaFree(p);
    cudaGetLastError();
    return;
  }
  device_pool *pool = &pools[b->device];
  pool->stats.allocated -= (int64_t)b->size;
  if (b->nuses > 0 || b->sync_on_free) {
    wick_cuda_use_device(b->device);
    for (int i = 0; i < b->nuses; i++) {
      cudaEvent_t e;
      if (b->sync_on_free || cudaEventCreateWithFlags(&e, cudaEventDisableTiming) != cudaSuccess ||
          cudaEventRecord(e, b->uses[i]) != cudaSuccess) {
        cudaStreamSynchronize(b->uses[i]);
        continue;
      }
      b->events[b->nevents++] = e;
    }
    if (b->sync_on_free) cudaDeviceSynchronize();
    cudaGetLastError();
  }
  if (b->nevents > 0) {
    b->next = pool->pending;
    pool->pending = b;
  } else {
    size_t k = bucket_of(b->size);
    b->next = pool->free[k];
    pool->free[k] = b;
  }
  pthread_mutex_unlock(&lock);
}

wick_status wick_cuda_record_stream(void *p, int device, cudaStream_t stream) {
  pthread_mutex_lock(&lock);
  block *b = NULL;
  for (block *c = active[active_of(p)]; c; c = c->next)
    if (c->ptr == p) { b = c; break; }
  if (!b) {
    pthread_mutex_unlock(&lock);
    return wick_errorf(WICK_ERR_ARG, "record_stream: %p is not memory of the CUDA allocator", p);
  }
  if (stream != b->stream) {
    bool seen = false;
    for (int i = 0; i < b->nuses; i++) seen |= b->uses[i] == stream;
    if (!seen && b->nuses < MAX_USES) b->uses[b->nuses++] = stream;
    else if (!seen) b->sync_on_free = true;
  }
  pthread_mutex_unlock(&lock);
  return WICK_OK;
}

wick_status wick_cuda_tensor_record_stream(const wick_tensor *t, void *stream) {
  if (t->device.type != WICK_DEVICE_CUDA)
    return wick_errorf(WICK_ERR_DEVICE, "record_stream: expected a CUDA tensor (got a tensor on cpu)");
  return wick_cuda_record_stream(t->storage->data, t->device.index, (cudaStream_t)stream);
}

wick_status wick_cuda_memory_stats(int device, wick_cuda_mem_stats *out) {
  WICK_TRY(wick_cuda_check_device(device));
  if (device >= MAX_DEVICES) return wick_errorf(WICK_ERR_DEVICE, "cuda: device cuda:%d is beyond the %d devices wick supports", device, MAX_DEVICES);
  pthread_mutex_lock(&lock);
  *out = pools[device].stats;
  pthread_mutex_unlock(&lock);
  return WICK_OK;
}

void wick_cuda_reset_peak_stats(int device) {
  if (device < 0 || device >= MAX_DEVICES) return;
  pthread_mutex_lock(&lock);
  pools[device].stats.max_allocated = pools[device].stats.allocated;
  pools[device].stats.max_reserved = pools[device].stats.reserved;
  pthread_mutex_unlock(&lock);
}

wick_status wick_cuda_empty_cache(void) {
  int n;
  if (wick_cuda_device_count(&n) != WICK_OK) return WICK_OK; /* nothing can be cached */
  pthread_mutex_lock(&lock);
  for (int d = 0; d < n && d < MAX_DEVICES; d++) {
    if (!pools[d].stats.reserved) continue;
    if (wick_cuda_use_device(d) == WICK_OK) release_cached(&pools[d]);
  }
  pthread_mutex_unlock(&lock);
  return WICK_OK;
}
