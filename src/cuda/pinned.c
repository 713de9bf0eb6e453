/* Pinned (page-locked) host memory for pin_memory: cudaHostAlloc is slow (it maps pages for
 * the device), so freed blocks are cached in power-of-two sizes, and a block an async copy
 * still reads or writes is reused only once the event recorded after that copy completes. */
#include <pthread.h>
#include <stdlib.h>

#include "core/ops.h"
#include "cuda/cuda_rt.h"

#define NCLASS 48
#define MAX_EVENTS 4

typedef struct pblock {
  void *ptr;
  int cls;
  cudaEvent_t events[MAX_EVENTS];
  int nevents;
  struct pblock *next;
} pblock;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pblock *free_list[NCLASS];
static pblock *live;    /* handed out */
static pblock *pending; /* freed, copies still in flight */

static int size_class(size_t n) {
  int c = 9; /* 512 B */
  while (((size_t)1 << c) < n && c < NCLASS - 1) c++;
  return c;
}

static bool events_done(pblock *b) {
  while (b->nevents > 0) {
    cudaError_t e = cudaEventQuery(b->events[b->nevents - 1]);
    if (e == cudaErrorNotReady) { cudaGetLastError(); return false; }
    cudaEventDestroy(b->events[--b->nevents]);
    cudaGetLastError();
  }
  return true;
}

static void *pinned_alloc(size_t nbytes) {
  int c = size_class(nbytes ? nbytes : 1);
  pthread_mutex_lock(&lock);
  for (pblock **pp = &pending; *pp;) {
    pblock *b = *pp;
    if (events_done(b)) {
      *pp = b->next;
      b->next = free_list[b->cls];
      free_list[b->cls] = b;
    } else {
      pp = &b->next;
    }
  }
  pblock *b = free_list[c];
  if (b) free_list[c] = b->next;
  pthread_mutex_unlock(&lock);
  if (!b) {
    void *p = NULL;
    cudaError_t e = cudaHostAlloc(&p, (size_t)1 << c, cudaHostAllocDefault);
    if (e != cudaSuccess) {
      wick_cuda_status(e, "pin_memory: cudaHostAlloc");
      return NULL;
    }
    if (!(b = calloc(1, sizeof *b))) {
      cudaFreeHost(p);
      wick_errorf(WICK_ERR_OOM, "pin_memory: out of memory");
      return NULL;
    }
    b->ptr = p;
    b->cls = c;
  }
  pthread_mutex_lock(&lock);
  b->next = live;
  live = b;
  pthread_mutex_unlock(&lock);
  return b->ptr;
}

static pblock **find_live(const void *p) {
  for (pblock **pp = &live; *pp; pp = &(*pp)->next)
    if ((*pp)->ptr == p) return pp;
  return NULL;
}

static void pinned_deleter(void *ctx, void *data, size_t nbytes) {
  (void)ctx;
  (void)nbytes;
  pthread_mutex_lock(&lock);
  pblock **pp = find_live(data);
  if (pp) {
    pblock *b = *pp;
    *pp = b->next;
    if (b->nevents > 0) {
      b->next = pending;
      pending = b;
    } else {
      b->next = free_list[b->cls];
      free_list[b->cls] = b;
    }
  }
  pthread_mutex_unlock(&lock);
}

void wick_cuda_pinned_record(const void *p, cudaStream_t stream) {
  pthread_mutex_lock(&lock);
  pblock **pp = find_live(p);
  if (pp) {
    pblock *b = *pp;
    cudaEvent_t e;
    if (b->nevents < MAX_EVENTS && cudaEventCreateWithFlags(&e, cudaEventDisableTiming) == cudaSuccess &&
        cudaEventRecord(e, stream) == cudaSuccess) {
      b->events[b->nevents++] = e;
    } else {
      cudaStreamSynchronize(stream); /* cannot track it: wait instead */
    }
    cudaGetLastError();
  }
  pthread_mutex_unlock(&lock);
}

bool wick_cuda_is_pinned(const wick_tensor *t) {
  return t->device.type == WICK_DEVICE_CPU && t->storage->deleter == pinned_deleter;
}

wick_status wick_cuda_pin(const wick_tensor *t, wick_tensor **out) {
  if (t->device.type != WICK_DEVICE_CPU) {
    char d[32];
    wick_device_format(t->device, d, sizeof d);
    return wick_errorf(WICK_ERR_DEVICE, "pin_memory: only CPU tensors can be pinned (got a tensor on %s)", d);
  }
  int n;
  if (wick_cuda_device_count(&n) != WICK_OK) {
    wick_error_prefix("pin_memory");
    return WICK_ERR_CUDA;
  }
  size_t nbytes = (size_t)wick_tensor_numel(t) * wick_dtype_size(t->dtype);
  void *p = pinned_alloc(nbytes);
  if (!p) return WICK_ERR_CUDA;
  wick_tensor *o;
  wick_status s = wick_tensor_from_blob(p, nbytes, t->dtype, t->ndim, t->sizes, pinned_deleter, NULL, &o);
  if (s) {
    pinned_deleter(NULL, p, nbytes);
    return s;
  }
  if ((s = wick_copy_(o, t))) {
    wick_tensor_release(o);
    return s;
  }
  *out = o;
  return WICK_OK;
}
