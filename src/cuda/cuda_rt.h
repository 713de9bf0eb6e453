/* The CUDA runtime contract shared by src/cuda (host side) and kernels/ (launchers): status
 * conversion, current streams, the caching allocator, library handles. Usable from C and CUDA C++
 * (the parts that take a wick_tensor are C only: tensor.h uses C11 _Atomic, which C++ lacks).
 * Every function taking `device` makes that device current on the calling thread first, so a
 * launcher may call wick_cuda_current_stream(t->device.index) and launch right away. */
#ifndef WICK_CUDA_RT_H
#define WICK_CUDA_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#ifdef __cplusplus
extern "C" { /* wick's C headers have no guards of their own */
#endif

#include "core/dtype.h"
#include "core/status.h"

/* WICK_OK on cudaSuccess; otherwise WICK_ERR_CUDA (WICK_ERR_OOM for cudaErrorMemoryAllocation)
 * with "<op>: <cuda error name>: <description>", and the sticky error cleared when possible. */
wick_status wick_cuda_status(cudaError_t e, const char *op);
wick_status wick_cublas_status(cublasStatus_t e, const char *op);
wick_status wick_cudnn_status(cudnnStatus_t e, const char *op);

/* Returns from the calling function with wick_cuda_status(...) when `call` fails. */
#define WICK_CUDA_TRY(call, op)                                 \
  do {                                                          \
    cudaError_t e_ = (call);                                    \
    if (e_ != cudaSuccess) return wick_cuda_status(e_, (op));   \
  } while (0)
#define WICK_CUBLAS_TRY(call, op)                               \
  do {                                                          \
    cublasStatus_t e_ = (call);                                 \
    if (e_ != CUBLAS_STATUS_SUCCESS) return wick_cublas_status(e_, (op)); \
  } while (0)
#define WICK_CUDNN_TRY(call, op)                                \
  do {                                                          \
    cudnnStatus_t e_ = (call);                                  \
    if (e_ != CUDNN_STATUS_SUCCESS) return wick_cudnn_status(e_, (op)); \
  } while (0)

/* cudaGetLastError after a kernel launch, as a status naming op. */
wick_status wick_cuda_launch_check(const char *op);

/* Makes `device` current on this thread (cheap when it already is). */
wick_status wick_cuda_use_device(int device);

/* The stream work on `device` is queued on (the legacy default stream, NULL, unless a
 * wick.cuda.Stream was made current). Makes `device` current. */
cudaStream_t wick_cuda_current_stream(int device);

/* Caching allocator (allocator.c). Blocks are tied to the current stream of `device` at
 * allocation time: freeing returns them to that stream's free list, so work queued on the
 * stream before the free finishes before the next user's. NULL on OOM (after emptying the
 * cache and retrying once). nbytes == 0 gives a valid unique pointer. */
void *wick_cuda_alloc(size_t nbytes, int device);
void wick_cuda_free(void *p, size_t nbytes, int device);
/* p (from wick_cuda_alloc) is also used by work queued on `stream`: when freed, it is reused
 * only after that work completes (an event is recorded on `stream` at free time). */
wick_status wick_cuda_record_stream(void *p, int device, cudaStream_t stream);

/* Library handles, one per device, created on first use and bound to the current stream of
 * `device` at every call. NULL when creation failed (wick_last_error() says why). cuBLAS itself
 * is loaded at first use and not linked: call its functions through wick_cublas_api_get()
 * (src/cuda/cublas_lazy.h), adding an entry there for a function not yet in it. */
cublasHandle_t wick_cuda_cublas(int device);
cudnnHandle_t wick_cuda_cudnn(int device);

/* Pinned host memory (pinned.c): `stream` is using pinned block p (an async copy); the block
 * is not reused before that work completes. No-op for pointers that are not pinned blocks. */
void wick_cuda_pinned_record(const void *p, cudaStream_t stream);

/* Launchers in kernels/copy.cu: dst = src converted, both on the current device. Geometry:
 * ndim <= WICK_CUDA_MAX_DIMS (== WICK_MAX_DIMS) sizes and element strides for each side. */
#define WICK_CUDA_MAX_DIMS 8
typedef struct {
  int ndim;
  int64_t sizes[WICK_CUDA_MAX_DIMS];
  int64_t dst_strides[WICK_CUDA_MAX_DIMS];
  int64_t src_strides[WICK_CUDA_MAX_DIMS];
} wick_cuda_copy_geom;
wick_status wick_cuda_launch_convert(void *dst, wick_dtype dt, const void *src, wick_dtype st,
                                     const wick_cuda_copy_geom *g, int64_t n, cudaStream_t s);
/* Every element of dst (geometry: sizes, dst_strides) = v (iv for integer dtypes). */
wick_status wick_cuda_launch_fill(void *dst, wick_dtype dt, double v, int64_t iv,
                                  const wick_cuda_copy_geom *g, int64_t n, cudaStream_t s);

#ifndef __cplusplus
#include "core/backend.h"
#include "core/tensor.h"
#include "cuda/cuda_api.h"
_Static_assert(WICK_CUDA_MAX_DIMS == WICK_MAX_DIMS, "copy geometry holds every dim");

/* Backend slots implemented here (copy.c, blas.c). */
wick_status wick_cuda_copy(wick_tensor *dst, const wick_tensor *src);
wick_status wick_cuda_fill(wick_tensor *dst, double v, int64_t iv);
wick_status wick_cuda_matmul(wick_tensor *out, const wick_tensor *a, const wick_tensor *bm);
#endif

#ifdef __cplusplus
}
#endif

#endif
