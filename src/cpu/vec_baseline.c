/* The vectorised kernels of vec.h for any CPU: 4 lanes (SSE2 on x86-64, NEON on arm64). */
#define W 4
#define VEC_SUFFIX baseline
#define VEC_NAME "baseline"
#include "vec_impl.h"
