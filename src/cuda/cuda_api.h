/* The CUDA runtime as the Lua bindings see it: plain C, no CUDA headers (streams and events
 * are opaque pointers), so src/lua/l_cuda.c compiles without the toolkit's include paths.
 * Only compiled and linked when WICK_HAVE_CUDA. */
#ifndef WICK_CUDA_API_H
#define WICK_CUDA_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

/* ---- devices (device.c) ---- */
/* Number of devices; an error "cuda: no CUDA device is available (cudaGetDeviceCount: ...)"
 * when there are none or the driver is missing. The answer is cached after the first call. */
wick_status wick_cuda_device_count(int *n);
bool wick_cuda_is_available(void);
/* WICK_OK when cuda:index exists (the backend's check_device slot). */
wick_status wick_cuda_check_device(int index);
/* The device `cuda` (no index) means on this thread; also made current for the runtime. */
wick_status wick_cuda_set_device(int index);
int wick_cuda_current_device(void);

typedef struct {
  char name[256];
  int major, minor;
  int multi_processor_count;
  size_t total_memory;
} wick_cuda_props;
wick_status wick_cuda_get_properties(int index, wick_cuda_props *out);
/* Waits for all work on `device` (every stream). */
wick_status wick_cuda_synchronize(int device);

/* ---- the caching allocator (allocator.c) ---- */
typedef struct {
  int64_t allocated, max_allocated; /* bytes in blocks handed out (rounded sizes) */
  int64_t reserved, max_reserved;   /* bytes obtained from cudaMalloc, cached or not */
  int64_t num_mallocs, num_frees;   /* cudaMalloc / cudaFree calls */
  int64_t num_alloc_retries;        /* cudaMalloc failures that emptied the cache */
} wick_cuda_mem_stats;
wick_status wick_cuda_memory_stats(int device, wick_cuda_mem_stats *out);
/* t.record_stream(s): t's memory is also used by work queued on `stream` (a cudaStream_t). */
wick_status wick_cuda_tensor_record_stream(const wick_tensor *t, void *stream);
void wick_cuda_reset_peak_stats(int device);
/* Returns every cached, unused block of every device to the driver. */
wick_status wick_cuda_empty_cache(void);

/* ---- streams and events (stream.c); handles are cudaStream_t / cudaEvent_t ---- */
wick_status wick_cuda_stream_new(int device, int priority, void **out);
/* Waits for the stream's work, then destroys it. */
void wick_cuda_stream_free(int device, void *stream);
wick_status wick_cuda_stream_synchronize(int device, void *stream);
wick_status wick_cuda_stream_query(int device, void *stream, bool *done);
wick_status wick_cuda_stream_wait_event(int device, void *stream, void *event);
void *wick_cuda_get_current_stream(int device);
wick_status wick_cuda_set_current_stream_handle(int device, void *stream);

wick_status wick_cuda_event_new(int device, bool enable_timing, void **out);
void wick_cuda_event_free(int device, void *event);
wick_status wick_cuda_event_record(int device, void *event, void *stream);
wick_status wick_cuda_event_synchronize(int device, void *event);
wick_status wick_cuda_event_query(int device, void *event, bool *done);
/* Milliseconds between two recorded timing events. */
wick_status wick_cuda_event_elapsed(int device, void *start, void *end, float *ms);

/* ---- pinned host memory (pinned.c) ---- */
/* A new CPU tensor in page-locked memory with t's contents (contiguous). */
wick_status wick_cuda_pin(const wick_tensor *t, wick_tensor **out);
bool wick_cuda_is_pinned(const wick_tensor *t);

/* ---- the backend row (backend.c) ---- */
/* Registers the CUDA row of the device table (once; later calls do nothing). Never fails:
 * without a device, the row's check_device reports it when a tensor is requested. */
void wick_cuda_backend_init(void);

#endif
