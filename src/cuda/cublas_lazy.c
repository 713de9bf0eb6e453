/* Loads cuBLAS on first use (why: cublas_lazy.h): by soname, then by the path CMake found. */
#include "cuda/cublas_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#ifndef WICK_CUBLAS_SONAME
#define WICK_CUBLAS_SONAME "libcublas.so"
#endif
#ifndef WICK_CUBLAS_PATH
#define WICK_CUBLAS_PATH WICK_CUBLAS_SONAME
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static wick_cublas_api api;
static const wick_cublas_api *loaded;
static char why[512];

static void load(void) {
  void *h = dlopen(WICK_CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!h) h = dlopen(WICK_CUBLAS_PATH, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(why, sizeof why, "cuBLAS: cannot load %s: %s", WICK_CUBLAS_SONAME, dlerror());
    return;
  }
  struct { void **slot; const char *name; } syms[] = {
    {(void **)&api.create, "cublasCreate_v2"},
    {(void **)&api.set_stream, "cublasSetStream_v2"},
    {(void **)&api.sgemm_strided_batched, "cublasSgemmStridedBatched"},
    {(void **)&api.dgemm_strided_batched, "cublasDgemmStridedBatched"},
    {(void **)&api.gemm_strided_batched_ex, "cublasGemmStridedBatchedEx"},
    {(void **)&api.status_name, "cublasGetStatusName"},
    {(void **)&api.status_string, "cublasGetStatusString"},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
    *syms[i].slot = dlsym(h, syms[i].name);
    if (!*syms[i].slot) {
      snprintf(why, sizeof why, "cuBLAS: %s has no %s", WICK_CUBLAS_SONAME, syms[i].name);
      return;
    }
  }
  loaded = &api;
}

const wick_cublas_api *wick_cublas_api_get(void) {
  pthread_once(&once, load);
  if (!loaded) wick_errorf(WICK_ERR_CUDA, "%s", why);
  return loaded;
}
