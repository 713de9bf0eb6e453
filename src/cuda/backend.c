/* The CUDA row of the device table: memory, copies, fill and matmul from this directory; the
 * elementwise/reduction/indexing kernels (kernels/register.c) and the nn and optimizer slots
 * (kernels/nn_register.c) fill in the rest of the row. */
#include <pthread.h>

#include "cuda/cuda_rt.h"

/* Declared in kernels/kernels.h and kernels/nn_kernels.h; weak here, so that a build where one
 * kernel set is missing still links and its slots report "not implemented on device 'cuda'".
 * The objects are linked whole (src/cuda/CMakeLists.txt), so a defined function is found. */
void wick_cuda_kernels_register(wick_backend *row) __attribute__((weak));
void wick_cuda_nn_register(wick_backend *row) __attribute__((weak));

static void *row_alloc(size_t nbytes, int index) { return wick_cuda_alloc(nbytes, index); }
static void row_free(void *p, size_t nbytes, int index) { wick_cuda_free(p, nbytes, index); }

static wick_backend row = {
  .name = "cuda",
  .check_device = wick_cuda_check_device,
  .alloc = row_alloc,
  .free = row_free,
  .copy = wick_cuda_copy,
  .fill = wick_cuda_fill,
  .matmul = wick_cuda_matmul,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_row(void) {
  if (wick_cuda_kernels_register) wick_cuda_kernels_register(&row);
  if (wick_cuda_nn_register) wick_cuda_nn_register(&row);
  wick_backend_register(WICK_DEVICE_CUDA, &row);
}

void wick_cuda_backend_init(void) { pthread_once(&once, init_row); }
