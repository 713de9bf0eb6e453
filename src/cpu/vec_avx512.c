/* The vectorised kernels of vec.h for AVX-512 (F, DQ, BW, VL): 16 lanes (CMake builds this file
 * with those flags on x86-64 only; elsewhere it is empty). */
#ifdef WICK_VEC_X86
#define W 16
#define VEC_SUFFIX avx512
#define VEC_NAME "avx512"
#include "vec_impl.h"
#else
typedef int wick_vec_avx512_unused;
#endif
