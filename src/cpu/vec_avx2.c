/* The vectorised kernels of vec.h for AVX2+FMA: 8 lanes (CMake builds this file with
 * -mavx2 -mfma on x86-64 only; elsewhere it is empty). */
#ifdef WICK_VEC_X86
#define W 8
#define VEC_SUFFIX avx2
#define VEC_NAME "avx2"
#include "vec_impl.h"
#else
typedef int wick_vec_avx2_unused;
#endif
