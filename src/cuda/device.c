/* CUDA devices: the (cached) device count, properties, the current device of this thread,
 * synchronize; and the conversion of CUDA, cuBLAS and cuDNN errors into wick statuses. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/exec_mode.h"
#include "cuda/cublas_lazy.h"
#include "cuda/cuda_rt.h"

wick_status wick_cuda_status(cudaError_t e, const char *op) {
  if (e == cudaSuccess) return WICK_OK;
  cudaGetLastError(); /* clears the error unless it is sticky (a kernel fault) */
  return wick_errorf(e == cudaErrorMemoryAllocation ? WICK_ERR_OOM : WICK_ERR_CUDA, "%s: %s: %s", op,
                     cudaGetErrorName(e), cudaGetErrorString(e));
}

wick_status wick_cublas_status(cublasStatus_t e, const char *op) {
  if (e == CUBLAS_STATUS_SUCCESS) return WICK_OK;
  wick_status kind = e == CUBLAS_STATUS_ALLOC_FAILED ? WICK_ERR_OOM : WICK_ERR_CUDA;
  const wick_cublas_api *api = wick_cublas_api_get();
  if (!api) return wick_errorf(kind, "%s: cuBLAS status %d", op, (int)e);
  return wick_errorf(kind, "%s: %s: %s", op, api->status_name(e), api->status_string(e));
}

wick_status wick_cudnn_status(cudnnStatus_t e, const char *op) {
  if (e == CUDNN_STATUS_SUCCESS) return WICK_OK;
  return wick_errorf(WICK_ERR_CUDA, "%s: cuDNN: %s", op, cudnnGetErrorString(e));
}

wick_status wick_cuda_launch_check(const char *op) {
  return wick_cuda_status(cudaGetLastError(), op);
}

/* ---- the device count: asked once; a machine without a driver or GPU has none ---- */

static pthread_once_t count_once = PTHREAD_ONCE_INIT;
static int ndevices;
static cudaError_t count_error;

static void count_devices(void) {
  int n = 0;
  count_error = cudaGetDeviceCount(&n);
  if (count_error != cudaSuccess) {
    cudaGetLastError();
    n = 0;
  }
  ndevices = n;
}

wick_status wick_cuda_device_count(int *n) {
  pthread_once(&count_once, count_devices);
  *n = ndevices;
  if (count_error != cudaSuccess)
    return wick_errorf(WICK_ERR_CUDA, "cuda: no CUDA device is available (cudaGetDeviceCount: %s)",
                       cudaGetErrorString(count_error));
  if (ndevices == 0)
    return wick_errorf(WICK_ERR_CUDA, "cuda: no CUDA device is available (cudaGetDeviceCount: 0 devices)");
  return WICK_OK;
}

bool wick_cuda_is_available(void) {
  int n;
  return wick_cuda_device_count(&n) == WICK_OK;
}

wick_status wick_cuda_check_device(int index) {
  int n;
  WICK_TRY(wick_cuda_device_count(&n));
  if (index < 0 || index >= n)
    return wick_errorf(WICK_ERR_DEVICE, "cuda: device cuda:%d does not exist (%d CUDA device%s available)",
                       index, n, n == 1 ? " is" : "s are");
  return WICK_OK;
}

/* Asks the runtime rather than caching: NCCL set-up and other libraries call cudaSetDevice too,
 * and cudaGetDevice only reads thread-local state. */
wick_status wick_cuda_use_device(int device) {
  int cur = -1;
  if (cudaGetDevice(&cur) == cudaSuccess && cur == device) return WICK_OK;
  cudaGetLastError();
  WICK_TRY(wick_cuda_check_device(device));
  WICK_CUDA_TRY(cudaSetDevice(device), "cudaSetDevice");
  return WICK_OK;
}

wick_status wick_cuda_set_device(int index) {
  WICK_TRY(wick_cuda_use_device(index));
  wick_cuda_set_default_index(index);
  return WICK_OK;
}

int wick_cuda_current_device(void) { return wick_cuda_default_index(); }

wick_status wick_cuda_get_properties(int index, wick_cuda_props *out) {
  WICK_TRY(wick_cuda_check_device(index));
  struct cudaDeviceProp p;
  WICK_CUDA_TRY(cudaGetDeviceProperties(&p, index), "get_device_properties");
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", p.name);
  out->major = p.major;
  out->minor = p.minor;
  out->multi_processor_count = p.multiProcessorCount;
  out->total_memory = p.totalGlobalMem;
  return WICK_OK;
}

wick_status wick_cuda_synchronize(int device) {
  WICK_TRY(wick_cuda_use_device(device));
  WICK_CUDA_TRY(cudaDeviceSynchronize(), "synchronize");
  return WICK_OK;
}
