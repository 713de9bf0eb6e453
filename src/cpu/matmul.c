/* Batched matrix multiply on the CPU: OpenBLAS GEMM for f32/f64, a plain loop otherwise. */
#include <cblas.h>
#include <string.h>

#include "../core/ops.h"
#include "cpu.h"

/* How a [M, K]-shaped slice is laid out for BLAS: row-major with leading dim ld, possibly
 * transposed. Returns false when neither of the last two strides is 1. */
static bool blas_layout(const wick_tensor *t, CBLAS_TRANSPOSE *trans, int64_t *ld) {
  int64_t r = t->sizes[1], c = t->sizes[2], sr = t->strides[1], sc = t->strides[2];
  if ((sc == 1 || c == 1) && (sr >= (c > 1 ? c : 1) || r == 1)) {
    *trans = CblasNoTrans;
    *ld = r == 1 ? (c > 1 ? c : 1) : sr;
    return *ld >= (c > 1 ? c : 1);
  }
  if ((sr == 1 || r == 1) && (sc >= (r > 1 ? r : 1) || c == 1)) {
    *trans = CblasTrans;
    *ld = c == 1 ? (r > 1 ? r : 1) : sc;
    return *ld >= (r > 1 ? r : 1);
  }
  return false;
}

static wick_status gemm_blas(wick_tensor *out, const wick_tensor *a, const wick_tensor *b) {
  int64_t B = a->sizes[0], M = a->sizes[1], K = a->sizes[2], N = b->sizes[2];
  CBLAS_TRANSPOSE ta, tb;
  int64_t lda, ldb;
  bool f64 = a->dtype == WICK_DTYPE_F64;
  size_t es = f64 ? 8 : 4;
  const char *pa = wick_tensor_data(a), *pb = wick_tensor_data(b);
  char *po = wick_tensor_data(out);
  if (!blas_layout(a, &ta, &lda) || !blas_layout(b, &tb, &ldb)) return WICK_ERR_UNSUPPORTED;
  for (int64_t i = 0; i < B; i++) {
    const void *A = pa + i * a->strides[0] * (int64_t)es, *Bm = pb + i * b->strides[0] * (int64_t)es;
    void *C = po + i * out->strides[0] * (int64_t)es;
    if (K == 0) {
      memset(C, 0, (size_t)(M * N) * es);
      continue;
    }
    if (f64)
      cblas_dgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0, A, (int)lda, Bm, (int)ldb, 0.0,
                  C, (int)(N > 1 ? N : 1));
    else
      cblas_sgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0f, A, (int)lda, Bm, (int)ldb,
                  0.0f, C, (int)(N > 1 ? N : 1));
  }
  return WICK_OK;
}

static void gemm_generic(wick_tensor *out, const wick_tensor *a, const wick_tensor *b) {
  int64_t B = a->sizes[0], M = a->sizes[1], K = a->sizes[2], N = b->sizes[2];
  size_t es = wick_dtype_size(a->dtype);
  const char *pa = wick_tensor_data(a), *pb = wick_tensor_data(b);
  char *po = wick_tensor_data(out);
  bool fl = wick_dtype_is_float(a->dtype);
  for (int64_t z = 0; z < B; z++)
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double acc = 0;
        int64_t iacc = 0;
        for (int64_t k = 0; k < K; k++) {
          const char *x = pa + (z * a->strides[0] + i * a->strides[1] + k * a->strides[2]) * (int64_t)es;
          const char *y = pb + (z * b->strides[0] + k * b->strides[1] + j * b->strides[2]) * (int64_t)es;
          if (fl) acc += wick_load_f64(x, a->dtype) * wick_load_f64(y, b->dtype);
          else iacc += wick_load_i64(x, a->dtype) * wick_load_i64(y, b->dtype);
        }
        char *o = po + (z * out->strides[0] + i * out->strides[1] + j * out->strides[2]) * (int64_t)es;
        if (fl) wick_store_f64(o, out->dtype, acc);
        else wick_store_i64(o, out->dtype, iacc);
      }
}

wick_status wick_cpu_matmul(wick_tensor *out, const wick_tensor *a, const wick_tensor *b) {
  if (wick_tensor_numel(out) == 0) return WICK_OK;
  if (a->dtype == WICK_DTYPE_F32 || a->dtype == WICK_DTYPE_F64) {
    if (a->sizes[1] > 0x7fffffff || a->sizes[2] > 0x7fffffff || b->sizes[2] > 0x7fffffff)
      return wick_errorf(WICK_ERR_SHAPE, "matmul: dimension too large for BLAS");
    if (gemm_blas(out, a, b) == WICK_OK) return WICK_OK;
    /* unusual strides: make both operands contiguous and retry */
    wick_tensor *ac, *bc;
    WICK_TRY(wick_contiguous(a, &ac));
    wick_status s = wick_contiguous(b, &bc);
    if (s) { wick_tensor_release(ac); return s; }
    s = gemm_blas(out, ac, bc);
    wick_tensor_release(ac);
    wick_tensor_release(bc);
    return s == WICK_OK ? s : wick_errorf(s, "matmul: unsupported layout");
  }
  gemm_generic(out, a, b);
  return WICK_OK;
}
