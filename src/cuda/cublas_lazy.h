/* cuBLAS, loaded at its first use rather than at process start: libcublas pulls in
 * libcublasLt, whose start-up costs ~0.3 s and ~200 MB of resident memory in every process —
 * every wick run, test and worker of a CUDA build, GPU or not. Only the entry points wick
 * calls are resolved (code that calls cuBLAS directly adds its function here). */
#ifndef WICK_CUBLAS_LAZY_H
#define WICK_CUBLAS_LAZY_H

#include <cublas_v2.h>

#include "core/status.h"

typedef struct {
  __typeof__(&cublasCreate_v2) create;
  __typeof__(&cublasSetStream_v2) set_stream;
  __typeof__(&cublasSgemmStridedBatched) sgemm_strided_batched;
  __typeof__(&cublasDgemmStridedBatched) dgemm_strided_batched;
  __typeof__(&cublasGemmStridedBatchedEx) gemm_strided_batched_ex;
  __typeof__(&cublasGetStatusName) status_name;
  __typeof__(&cublasGetStatusString) status_string;
} wick_cublas_api;

/* The loaded library, or NULL with the reason in wick_last_error() (tried once). */
const wick_cublas_api *wick_cublas_api_get(void);

#endif
