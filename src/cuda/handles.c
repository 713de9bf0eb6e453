/* cuBLAS and cuDNN handles: one per device, created on first use (they cost milliseconds and
 * device memory), bound to the device's current stream at every request. */
#include <pthread.h>

#include "cuda/cublas_lazy.h"
#include "cuda/cuda_rt.h"

#define MAX_DEVICES 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cublasHandle_t cublas[MAX_DEVICES];
static cudnnHandle_t cudnn[MAX_DEVICES];

cublasHandle_t wick_cuda_cublas(int device) {
  if (device < 0 || device >= MAX_DEVICES || wick_cuda_use_device(device) != WICK_OK) return NULL;
  const wick_cublas_api *api = wick_cublas_api_get();
  if (!api) return NULL;
  cudaStream_t s = wick_cuda_current_stream(device);
  pthread_mutex_lock(&lock);
  cublasHandle_t h = cublas[device];
  if (!h) {
    cublasStatus_t e = api->create(&h);
    if (e != CUBLAS_STATUS_SUCCESS) {
      wick_cublas_status(e, "cublasCreate");
      h = NULL;
    }
    cublas[device] = h;
  }
  pthread_mutex_unlock(&lock);
  if (h) api->set_stream(h, s);
  return h;
}

cudnnHandle_t wick_cuda_cudnn(int device) {
  if (device < 0 || device >= MAX_DEVICES || wick_cuda_use_device(device) != WICK_OK) return NULL;
  cudaStream_t s = wick_cuda_current_stream(device);
  pthread_mutex_lock(&lock);
  cudnnHandle_t h = cudnn[device];
  if (!h) {
    cudnnStatus_t e = cudnnCreate(&h);
    if (e != CUDNN_STATUS_SUCCESS) {
      wick_cudnn_status(e, "cudnnCreate");
      h = NULL;
    }
    cudnn[device] = h;
  }
  pthread_mutex_unlock(&lock);
  if (h) cudnnSetStream(h, s);
  return h;
}
