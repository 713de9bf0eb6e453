/* The matmul slot of the CUDA row: one cuBLAS strided-batched GEMM per call. f32 and f64 in
 * their own precision (no TF32, like PyTorch's default for matmul), f16 and bf16 with f32
 * accumulation (cublasGemmStridedBatchedEx). cuBLAS is column-major: a row-major product
 * C = A B is computed as C^T = B^T A^T, which reads the same memory without moving it. Operands
 * whose matrices are neither row- nor column-major (or whose batch is not one stride) are made
 * contiguous first; so is the output when it is not dense. */
#include "core/ops.h"
#include "cuda/cublas_lazy.h"
#include "cuda/cuda_rt.h"

/* How cuBLAS can read one [B, R, C] operand in place: as is (row-major, ld = stride of R) or
 * transposed (column-major, ld = stride of C). */
typedef struct {
  bool ok;
  bool trans; /* column-major in memory */
  int64_t ld, batch_stride;
} operand;

static operand classify(const wick_tensor *t) {
  operand o = {false, false, 0, 0};
  int64_t R = t->sizes[1], C = t->sizes[2];
  o.batch_stride = t->sizes[0] == 1 ? 0 : t->strides[0];
  if ((t->strides[2] == 1 || C == 1) && t->strides[1] >= (C > 1 ? C : 1)) {
    o.ok = true;
    o.ld = R == 1 ? (C > 1 ? C : 1) : t->strides[1];
  } else if ((t->strides[1] == 1 || R == 1) && t->strides[2] >= (R > 1 ? R : 1)) {
    o.ok = true;
    o.trans = true;
    o.ld = C == 1 ? (R > 1 ? R : 1) : t->strides[2];
  }
  return o;
}

static cudaDataType_t cuda_type(wick_dtype d) {
  return d == WICK_DTYPE_F16 ? CUDA_R_16F : d == WICK_DTYPE_BF16 ? CUDA_R_16BF : d == WICK_DTYPE_F64 ? CUDA_R_64F : CUDA_R_32F;
}

static wick_status gemm(wick_tensor *out, const wick_tensor *a, const wick_tensor *bm) {
  int dev = out->device.index;
  int64_t B = out->sizes[0], M = out->sizes[1], N = out->sizes[2], K = a->sizes[2];
  operand oa = classify(a), ob = classify(bm);
  cublasHandle_t h = wick_cuda_cublas(dev);
  const wick_cublas_api *api = wick_cublas_api_get();
  if (!h || !api) {
    wick_error_prefix("matmul");
    return WICK_ERR_CUDA;
  }
  /* C^T [N, M] = op(B^T) [N, K] * op(A^T) [K, M]; row-major B read column-major is B^T */
  cublasOperation_t tb = ob.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t ta = oa.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  const void *pa = wick_tensor_data(a), *pb = wick_tensor_data(bm);
  void *pc = wick_tensor_data(out);
  if (B > INT32_MAX || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || oa.ld > INT32_MAX || ob.ld > INT32_MAX)
    return wick_errorf(WICK_ERR_SHAPE, "matmul: dimensions beyond 2^31 are not supported on CUDA");
  switch (out->dtype) {
    case WICK_DTYPE_F32: {
      float one = 1.0f, zero = 0.0f;
      WICK_CUBLAS_TRY(api->sgemm_strided_batched(h, tb, ta, (int)N, (int)M, (int)K, &one, pb, (int)ob.ld,
                                                ob.batch_stride, pa, (int)oa.ld, oa.batch_stride, &zero, pc,
                                                (int)N, M * N, (int)B),
                      "matmul");
      break;
    }
    case WICK_DTYPE_F64: {
      double one = 1.0, zero = 0.0;
      WICK_CUBLAS_TRY(api->dgemm_strided_batched(h, tb, ta, (int)N, (int)M, (int)K, &one, pb, (int)ob.ld,
                                                ob.batch_stride, pa, (int)oa.ld, oa.batch_stride, &zero, pc,
                                                (int)N, M * N, (int)B),
                      "matmul");
      break;
    }
    case WICK_DTYPE_F16:
    case WICK_DTYPE_BF16: {
      float one = 1.0f, zero = 0.0f;
      cudaDataType_t t = cuda_type(out->dtype);
      WICK_CUBLAS_TRY(api->gemm_strided_batched_ex(h, tb, ta, (int)N, (int)M, (int)K, &one, pb, t, (int)ob.ld,
                                                 ob.batch_stride, pa, t, (int)oa.ld, oa.batch_stride, &zero, pc, t,
                                                 (int)N, M * N, (int)B, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                      "matmul");
      break;
    }
    default:
      return wick_errorf(WICK_ERR_DTYPE, "matmul: dtype %s is not supported on CUDA (use f32, f64, f16 or bf16)",
                         wick_dtype_name(out->dtype));
  }
  return WICK_OK;
}

wick_status wick_cuda_matmul(wick_tensor *out, const wick_tensor *a, const wick_tensor *bm) {
  if (out->dtype != WICK_DTYPE_F32 && out->dtype != WICK_DTYPE_F64 && out->dtype != WICK_DTYPE_F16 &&
      out->dtype != WICK_DTYPE_BF16)
    return wick_errorf(WICK_ERR_DTYPE, "matmul: dtype %s is not supported on CUDA (use f32, f64, f16 or bf16)",
                       wick_dtype_name(out->dtype));
  if (wick_tensor_numel(out) == 0) return WICK_OK;
  if (a->sizes[2] == 0) return wick_cuda_fill(out, 0.0, 0);
  wick_tensor *ac = NULL, *bc = NULL, *oc = NULL;
  wick_status s = WICK_OK;
  if (!classify(a).ok && (s = wick_contiguous(a, &ac))) goto done;
  if (!classify(bm).ok && (s = wick_contiguous(bm, &bc))) goto done;
  bool out_dense = wick_tensor_is_contiguous(out);
  if (!out_dense && (s = wick_tensor_new_like(out, &oc))) goto done;
  if ((s = gemm(oc ? oc : out, ac ? ac : a, bc ? bc : bm))) goto done;
  if (oc) s = wick_cuda_copy(out, oc);
done:
  wick_tensor_release(ac);
  wick_tensor_release(bc);
  wick_tensor_release(oc);
  return s;
}
