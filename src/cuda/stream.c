/* Streams and events: the current stream of each device (per thread, like PyTorch), and the
 * handles behind wick.cuda.Stream and wick.cuda.Event. */
#include "cuda/cuda_rt.h"

#define MAX_DEVICES 64

/* NULL is the legacy default stream, which orders itself with every other blocking stream. */
static _Thread_local cudaStream_t current[MAX_DEVICES];

cudaStream_t wick_cuda_current_stream(int device) {
  wick_cuda_use_device(device); /* a bad index fails at the launch that follows, by name */
  return device >= 0 && device < MAX_DEVICES ? current[device] : NULL;
}

void *wick_cuda_get_current_stream(int device) {
  return device >= 0 && device < MAX_DEVICES ? (void *)current[device] : NULL;
}

wick_status wick_cuda_set_current_stream_handle(int device, void *stream) {
  WICK_TRY(wick_cuda_use_device(device));
  if (device >= MAX_DEVICES)
    return wick_errorf(WICK_ERR_DEVICE, "cuda: streams of device cuda:%d are not supported (at most %d devices)",
                       device, MAX_DEVICES);
  current[device] = (cudaStream_t)stream;
  return WICK_OK;
}

wick_status wick_cuda_stream_new(int device, int priority, void **out) {
  WICK_TRY(wick_cuda_use_device(device));
  cudaStream_t s;
  /* like PyTorch's streams: no implicit ordering with the legacy default stream */
  WICK_CUDA_TRY(cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, priority), "Stream");
  *out = s;
  return WICK_OK;
}

void wick_cuda_stream_free(int device, void *stream) {
  if (!stream || wick_cuda_use_device(device) != WICK_OK) return;
  /* blocks cached for this stream may be reused by whoever gets the same handle next */
  cudaStreamSynchronize((cudaStream_t)stream);
  cudaStreamDestroy((cudaStream_t)stream);
  cudaGetLastError();
  if (device >= 0 && device < MAX_DEVICES && current[device] == stream) current[device] = NULL;
}

wick_status wick_cuda_stream_synchronize(int device, void *stream) {
  WICK_TRY(wick_cuda_use_device(device));
  WICK_CUDA_TRY(cudaStreamSynchronize((cudaStream_t)stream), "Stream:synchronize");
  return WICK_OK;
}

wick_status wick_cuda_stream_query(int device, void *stream, bool *done) {
  WICK_TRY(wick_cuda_use_device(device));
  cudaError_t e = cudaStreamQuery((cudaStream_t)stream);
  if (e == cudaErrorNotReady) { cudaGetLastError(); *done = false; return WICK_OK; }
  WICK_CUDA_TRY(e, "Stream:query");
  *done = true;
  return WICK_OK;
}

wick_status wick_cuda_stream_wait_event(int device, void *stream, void *event) {
  WICK_TRY(wick_cuda_use_device(device));
  WICK_CUDA_TRY(cudaStreamWaitEvent((cudaStream_t)stream, (cudaEvent_t)event, 0), "Stream:wait_event");
  return WICK_OK;
}

wick_status wick_cuda_event_new(int device, bool enable_timing, void **out) {
  WICK_TRY(wick_cuda_use_device(device));
  cudaEvent_t e;
  WICK_CUDA_TRY(cudaEventCreateWithFlags(&e, enable_timing ? cudaEventDefault : cudaEventDisableTiming),
                "Event");
  *out = e;
  return WICK_OK;
}

void wick_cuda_event_free(int device, void *event) {
  if (!event || wick_cuda_use_device(device) != WICK_OK) return;
  cudaEventDestroy((cudaEvent_t)event);
  cudaGetLastError();
}

wick_status wick_cuda_event_record(int device, void *event, void *stream) {
  WICK_TRY(wick_cuda_use_device(device));
  WICK_CUDA_TRY(cudaEventRecord((cudaEvent_t)event, (cudaStream_t)stream), "Event:record");
  return WICK_OK;
}

wick_status wick_cuda_event_synchronize(int device, void *event) {
  WICK_TRY(wick_cuda_use_device(device));
  WICK_CUDA_TRY(cudaEventSynchronize((cudaEvent_t)event), "Event:synchronize");
  return WICK_OK;
}

wick_status wick_cuda_event_query(int device, void *event, bool *done) {
  WICK_TRY(wick_cuda_use_device(device));
  cudaError_t e = cudaEventQuery((cudaEvent_t)event);
  if (e == cudaErrorNotReady) { cudaGetLastError(); *done = false; return WICK_OK; }
  WICK_CUDA_TRY(e, "Event:query");
  *done = true;
  return WICK_OK;
}

wick_status wick_cuda_event_elapsed(int device, void *start, void *end, float *ms) {
  WICK_TRY(wick_cuda_use_device(device));
  WICK_CUDA_TRY(cudaEventElapsedTime(ms, (cudaEvent_t)start, (cudaEvent_t)end), "Event:elapsed_time");
  return WICK_OK;
}
