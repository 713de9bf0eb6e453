/* 2-D convolution on the CPU: through oneDNN when the build has it (conv_dnnl.c), else (and for
 * f64) im2col of a chunk of the batch into one column matrix, one large GEMM per group
 * (OpenBLAS), and col2im for the input gradient.
 * Shape letters: N batch, C input channels, O output channels, G groups, K = C/G*KH*KW rows
 * of a group's column block, P = OH*OW output positions, M = nb*P columns of a chunk of nb
 * images. The column matrix is [C*KH*KW, M] with column b*P + p, so each group's rows form
 * one contiguous [K, M] block and a whole chunk is a single GEMM per group: far better for
 * BLAS than one small GEMM per image when images are small (7x7 late in a CNN).
 * OpenBLAS (the pthread build) is only ever called from the calling thread; OpenMP runs
 * the im2col/col2im/transposes over (image, channel) pairs. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "conv_dnnl.h"
#include "nn_kernels.h"

/* Elements of the column matrix of one chunk we allow (64 MiB of f32). */
#define COL_LIMIT (16 * 1024 * 1024)
/* From this many output positions per image on, each image gets its own GEMMs reading its
 * columns of the chunk's matrix in place and writing its output directly (no transposes);
 * below, one GEMM covers the chunk and the result is transposed into place. */
#define PER_IMAGE_P 256
/* Below this much work a loop stays on one thread. */
#define PAR_WORK 32768

/* The range [lo, hi) of output columns whose input column ow*S - P + k*D lies in [0, W). */
static void valid_range(int64_t W, int64_t OW, int64_t S, int64_t P, int64_t koff, int64_t *lo,
                        int64_t *hi) {
  int64_t a = P - koff;              /* ow*S >= a */
  int64_t b = W + P - koff;          /* ow*S < b  */
  int64_t l = a <= 0 ? 0 : (a + S - 1) / S;
  int64_t h = b <= 0 ? 0 : (b + S - 1) / S;
  if (h > OW) h = OW;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

/* im2col for one (image, channel): writes KH*KW rows of nb*P columns starting at column b*P.
 * col2im is the adjoint: it adds those rows back into the (zeroed) input plane. */
#define DEF_IM2COL(T, SFX)                                                                     \
  static void im2col_##SFX(const T *src, T *col, int64_t ld, const wick_conv_geom *g) {        \
    int64_t P = g->OH * g->OW;                                                                 \
    for (int64_t ki = 0; ki < g->KH; ki++)                                                     \
      for (int64_t kj = 0; kj < g->KW; kj++) {                                                 \
        T *row = col + (ki * g->KW + kj) * ld;                                                 \
        int64_t lo, hi;                                                                        \
        valid_range(g->W, g->OW, g->SW, g->PW, kj * g->DW, &lo, &hi);                          \
        for (int64_t oh = 0; oh < g->OH; oh++) {                                               \
          T *dst = row + oh * g->OW;                                                           \
          int64_t ih = oh * g->SH - g->PH + ki * g->DH;                                        \
          if (ih < 0 || ih >= g->H) {                                                          \
            for (int64_t ow = 0; ow < g->OW; ow++) dst[ow] = 0;                                \
            continue;                                                                          \
          }                                                                                    \
          const T *s = src + ih * g->W - g->PW + kj * g->DW;                                   \
          for (int64_t ow = 0; ow < lo; ow++) dst[ow] = 0;                                     \
          if (g->SW == 1) memcpy(dst + lo, s + lo, sizeof(T) * (size_t)(hi - lo));             \
          else                                                                                 \
            for (int64_t ow = lo; ow < hi; ow++) dst[ow] = s[ow * g->SW];                      \
          for (int64_t ow = hi; ow < g->OW; ow++) dst[ow] = 0;                                 \
        }                                                                                      \
      }                                                                                        \
    (void)P;                                                                                   \
  }                                                                                            \
  static void col2im_##SFX(const T *col, T *dst_plane, int64_t ld, const wick_conv_geom *g) {  \
    memset(dst_plane, 0, sizeof(T) * (size_t)(g->H * g->W));                                   \
    for (int64_t ki = 0; ki < g->KH; ki++)                                                     \
      for (int64_t kj = 0; kj < g->KW; kj++) {                                                 \
        const T *row = col + (ki * g->KW + kj) * ld;                                           \
        int64_t lo, hi;                                                                        \
        valid_range(g->W, g->OW, g->SW, g->PW, kj * g->DW, &lo, &hi);                          \
        for (int64_t oh = 0; oh < g->OH; oh++) {                                               \
          int64_t ih = oh * g->SH - g->PH + ki * g->DH;                                        \
          if (ih < 0 || ih >= g->H) continue;                                                  \
          const T *r = row + oh * g->OW;                                                       \
          T *d = dst_plane + ih * g->W - g->PW + kj * g->DW;                                   \
          if (g->SW == 1)                                                                      \
            for (int64_t ow = lo; ow < hi; ow++) d[ow] += r[ow];                               \
          else                                                                                 \
            for (int64_t ow = lo; ow < hi; ow++) d[ow * g->SW] += r[ow];                       \
        }                                                                                      \
      }                                                                                        \
  }

DEF_IM2COL(float, f32)
DEF_IM2COL(double, f64)

/* The per-chunk loops over (image, channel) or (image, out channel) pairs. */
#define DEF_CHUNK_LOOPS(T, SFX)                                                                \
  static void chunk_im2col_##SFX(const T *in, T *col, int64_t b0, int64_t nb,                  \
                                 const wick_conv_geom *g) {                                    \
    int64_t P = g->OH * g->OW, M = nb * P, KK = g->KH * g->KW;                                 \
    int64_t pairs = nb * g->C;                                                                 \
    _Pragma("omp parallel for schedule(static) if (pairs * KK * P >= PAR_WORK)")               \
    for (int64_t q = 0; q < pairs; q++) {                                                      \
      int64_t b = q / g->C, c = q % g->C;                                                      \
      im2col_##SFX(in + ((b0 + b) * g->C + c) * g->H * g->W, col + c * KK * M + b * P, M, g);  \
    }                                                                                          \
  }                                                                                            \
  static void chunk_col2im_##SFX(const T *col, T *gin, int64_t b0, int64_t nb,                 \
                                 const wick_conv_geom *g) {                                    \
    int64_t P = g->OH * g->OW, M = nb * P, KK = g->KH * g->KW;                                 \
    int64_t pairs = nb * g->C;                                                                 \
    _Pragma("omp parallel for schedule(static) if (pairs * KK * P >= PAR_WORK)")               \
    for (int64_t q = 0; q < pairs; q++) {                                                      \
      int64_t b = q / g->C, c = q % g->C;                                                      \
      col2im_##SFX(col + c * KK * M + b * P, gin + ((b0 + b) * g->C + c) * g->H * g->W, M, g); \
    }                                                                                          \
  }                                                                                            \
  /* out[b0 + b, o, p] = tmp[o, b*P + p] + bias[o] */                                          \
  static void chunk_scatter_##SFX(const T *tmp, T *out, const T *bias, int64_t b0, int64_t nb, \
                                  const wick_conv_geom *g) {                                   \
    int64_t P = g->OH * g->OW, M = nb * P, pairs = nb * g->O;                                  \
    _Pragma("omp parallel for schedule(static) if (pairs * P >= PAR_WORK)")                    \
    for (int64_t q = 0; q < pairs; q++) {                                                      \
      int64_t b = q / g->O, o = q % g->O;                                                      \
      const T *s = tmp + o * M + b * P;                                                        \
      T *d = out + ((b0 + b) * g->O + o) * P;                                                  \
      T bv = bias ? bias[o] : (T)0;                                                            \
      for (int64_t p = 0; p < P; p++) d[p] = s[p] + bv;                                        \
    }                                                                                          \
  }                                                                                            \
  static void chunk_bias_##SFX(T *out, const T *bias, int64_t b0, int64_t nb,                  \
                               const wick_conv_geom *g) {                                      \
    int64_t P = g->OH * g->OW, pairs = nb * g->O;                                              \
    _Pragma("omp parallel for schedule(static) if (pairs * P >= PAR_WORK)")                    \
    for (int64_t q = 0; q < pairs; q++) {                                                      \
      T *d = out + (b0 * g->O + q) * P, bv = bias[q % g->O];                                   \
      for (int64_t p = 0; p < P; p++) d[p] += bv;                                              \
    }                                                                                          \
  }                                                                                            \
  /* tmp[o, b*P + p] = gout[b0 + b, o, p] (the adjoint of the scatter) */                      \
  static void chunk_gather_##SFX(const T *gout, T *tmp, int64_t b0, int64_t nb,                \
                                 const wick_conv_geom *g) {                                    \
    int64_t P = g->OH * g->OW, M = nb * P, pairs = nb * g->O;                                  \
    _Pragma("omp parallel for schedule(static) if (pairs * P >= PAR_WORK)")                    \
    for (int64_t q = 0; q < pairs; q++) {                                                      \
      int64_t b = q / g->O, o = q % g->O;                                                      \
      memcpy(tmp + o * M + b * P, gout + ((b0 + b) * g->O + o) * P, sizeof(T) * (size_t)P);    \
    }                                                                                          \
  }

DEF_CHUNK_LOOPS(float, f32)
DEF_CHUNK_LOOPS(double, f64)

/* C[M, N] = alpha op(A) op(B) + beta C, row-major. */
static void gemm(bool f64, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const void *A,
                 int64_t lda, const void *B, int64_t ldb, double beta, void *C, int64_t ldc) {
  CBLAS_TRANSPOSE A_ = ta ? CblasTrans : CblasNoTrans, B_ = tb ? CblasTrans : CblasNoTrans;
  if (f64)
    cblas_dgemm(CblasRowMajor, A_, B_, (int)M, (int)N, (int)K, 1.0, A, (int)lda, B, (int)ldb, beta,
                C, (int)ldc);
  else
    cblas_sgemm(CblasRowMajor, A_, B_, (int)M, (int)N, (int)K, 1.0f, A, (int)lda, B, (int)ldb,
                (float)beta, C, (int)ldc);
}

/* Images per chunk: as many as fit in COL_LIMIT elements of column matrix (at least one). */
static int64_t chunk_images(const wick_conv_geom *g) {
  int64_t per = g->C * g->KH * g->KW * g->OH * g->OW;
  int64_t per_out = g->O * g->OH * g->OW;
  if (per_out > per) per = per_out;
  int64_t nb = per > 0 ? COL_LIMIT / per : g->N;
  if (nb < 1) nb = 1;
  return nb < g->N ? nb : g->N;
}

static wick_status oom(void) { return wick_errorf(WICK_ERR_OOM, "conv2d: out of memory for the column buffer"); }

wick_status wick_cpu_conv2d(wick_tensor *out, const wick_tensor *in, const wick_tensor *w,
                            const wick_tensor *bias, const wick_conv_geom *g) {
  if (g->N == 0 || g->O == 0 || g->OH * g->OW == 0) return WICK_OK;
  if (wick_dnnl_conv2d(out, in, w, bias, g)) return WICK_OK;
  bool f64 = in->dtype == WICK_DTYPE_F64;
  size_t es = f64 ? 8 : 4;
  int64_t P = g->OH * g->OW, Kg = g->C / g->G * g->KH * g->KW, Og = g->O / g->G;
  int64_t nbmax = chunk_images(g);
  bool per_image = P >= PER_IMAGE_P;
  size_t ncol = es * (size_t)(g->C * g->KH * g->KW * nbmax * P), ntmp = es * (size_t)(g->O * nbmax * P);
  void *col = wick_scratch_alloc(ncol);
  void *tmp = per_image ? NULL : wick_scratch_alloc(ntmp);
  if (!col || (!per_image && !tmp)) {
    wick_scratch_free(col, ncol);
    wick_scratch_free(tmp, ntmp);
    return oom();
  }
  const char *ip = wick_tensor_data(in), *wp = wick_tensor_data(w);
  const void *bp = bias ? wick_tensor_data(bias) : NULL;
  char *op = wick_tensor_data(out);
  for (int64_t b0 = 0; b0 < g->N; b0 += nbmax) {
    int64_t nb = g->N - b0 < nbmax ? g->N - b0 : nbmax, M = nb * P;
    if (f64) chunk_im2col_f64((const double *)ip, col, b0, nb, g);
    else chunk_im2col_f32((const float *)ip, col, b0, nb, g);
    if (per_image) { /* out[b, g] [Og, P] = W_g [Og, Kg] x col_g[:, b*P ...] [Kg, P] (ld M) */
      for (int64_t b = 0; b < nb; b++)
        for (int64_t gi = 0; gi < g->G; gi++)
          gemm(f64, false, false, Og, P, Kg, wp + (size_t)(gi * Og * Kg) * es, Kg,
               (char *)col + (size_t)(gi * Kg * M + b * P) * es, M, 0.0,
               op + (size_t)(((b0 + b) * g->O + gi * Og) * P) * es, P);
      if (bp && f64) chunk_bias_f64((double *)op, bp, b0, nb, g);
      else if (bp) chunk_bias_f32((float *)op, bp, b0, nb, g);
      continue;
    }
    for (int64_t gi = 0; gi < g->G; gi++)
      gemm(f64, false, false, Og, M, Kg, wp + (size_t)(gi * Og * Kg) * es, Kg,
           (char *)col + (size_t)(gi * Kg * M) * es, M, 0.0, (char *)tmp + (size_t)(gi * Og * M) * es, M);
    if (f64) chunk_scatter_f64(tmp, (double *)op, bp, b0, nb, g);
    else chunk_scatter_f32(tmp, (float *)op, bp, b0, nb, g);
  }
  wick_scratch_free(col, ncol);
  wick_scratch_free(tmp, ntmp);
  return WICK_OK;
}

/* gb[o] = sum over images and positions of gout[n, o, :] (accumulated in double). */
static void bias_grad(const wick_tensor *gout, wick_tensor *gb, const wick_conv_geom *g) {
  bool f64 = gout->dtype == WICK_DTYPE_F64;
  int64_t P = g->OH * g->OW;
  const void *gp = wick_tensor_data(gout);
  void *bp = wick_tensor_data(gb);
#pragma omp parallel for schedule(static) if (g->N * g->O * P >= PAR_WORK)
  for (int64_t o = 0; o < g->O; o++) {
    double acc = 0;
    for (int64_t n = 0; n < g->N; n++) {
      int64_t base = (n * g->O + o) * P;
      if (f64) {
        const double *s = (const double *)gp + base;
#pragma omp simd reduction(+ : acc)
        for (int64_t p = 0; p < P; p++) acc += s[p];
      } else {
        const float *s = (const float *)gp + base;
        float part = 0;
#pragma omp simd reduction(+ : part)
        for (int64_t p = 0; p < P; p++) part += s[p];
        acc += part;
      }
    }
    if (f64) ((double *)bp)[o] = acc;
    else ((float *)bp)[o] = (float)acc;
  }
}

wick_status wick_cpu_conv2d_backward(const wick_tensor *gout, const wick_tensor *in,
                                     const wick_tensor *w, const wick_conv_geom *g,
                                     wick_tensor *gin, wick_tensor *gw, wick_tensor *gb) {
  bool f64 = in->dtype == WICK_DTYPE_F64;
  size_t es = f64 ? 8 : 4;
  int64_t P = g->OH * g->OW, Kg = g->C / g->G * g->KH * g->KW, Og = g->O / g->G;
  if (wick_dnnl_conv2d_backward(gout, in, w, g, gin, gw, gb)) return WICK_OK;
  if (gb) bias_grad(gout, gb, g);
  if (gw) memset(wick_tensor_data(gw), 0, es * (size_t)wick_tensor_numel(gw));
  if (g->N == 0 || P == 0 || g->O == 0 || (!gin && !gw)) {
    if (gin) memset(wick_tensor_data(gin), 0, es * (size_t)wick_tensor_numel(gin));
    return WICK_OK;
  }
  int64_t nbmax = chunk_images(g);
  bool per_image = P >= PER_IMAGE_P;
  size_t ncol = es * (size_t)(g->C * g->KH * g->KW * nbmax * P), ntmp = es * (size_t)(g->O * nbmax * P);
  void *col = wick_scratch_alloc(ncol);
  void *tmp = per_image ? NULL : wick_scratch_alloc(ntmp);
  if (!col || (!per_image && !tmp)) {
    wick_scratch_free(col, ncol);
    wick_scratch_free(tmp, ntmp);
    return oom();
  }
  const char *ip = wick_tensor_data(in), *wp = wick_tensor_data(w), *gp = wick_tensor_data(gout);
  char *gwp = gw ? wick_tensor_data(gw) : NULL, *gip = gin ? wick_tensor_data(gin) : NULL;
  for (int64_t b0 = 0; b0 < g->N; b0 += nbmax) {
    int64_t nb = g->N - b0 < nbmax ? g->N - b0 : nbmax, M = nb * P;
    /* the gradient of image b, group gi as [Og, ...] with leading dim ldg */
    const char *gsrc = per_image ? gp : (const char *)tmp;
    int64_t ldg = per_image ? P : M;
#define GOUT(b, gi) \
  (gsrc + (size_t)(per_image ? ((b0 + (b)) * g->O + (gi) * Og) * P : (gi) * Og * M + (b) * P) * es)
    if (!per_image) {
      if (f64) chunk_gather_f64((const double *)gp, tmp, b0, nb, g);
      else chunk_gather_f32((const float *)gp, tmp, b0, nb, g);
    }
    /* per image: nb GEMMs over P columns each; else one over M (b = 0 covers all) */
    int64_t nimg = per_image ? nb : 1, cols = per_image ? P : M;
    if (gw) { /* gW_g [Og, Kg] += gout_g [Og, cols] x col_g^T [cols, Kg] */
      if (f64) chunk_im2col_f64((const double *)ip, col, b0, nb, g);
      else chunk_im2col_f32((const float *)ip, col, b0, nb, g);
      for (int64_t b = 0; b < nimg; b++)
        for (int64_t gi = 0; gi < g->G; gi++)
          gemm(f64, false, true, Og, Kg, cols, GOUT(b, gi), ldg, (char *)col + (size_t)(gi * Kg * M + b * P) * es,
               M, 1.0, gwp + (size_t)(gi * Og * Kg) * es, Kg);
    }
    if (gin) { /* gcol_g [Kg, cols] = W_g^T [Kg, Og] x gout_g [Og, cols], then col2im */
      for (int64_t b = 0; b < nimg; b++)
        for (int64_t gi = 0; gi < g->G; gi++)
          gemm(f64, true, false, Kg, cols, Og, wp + (size_t)(gi * Og * Kg) * es, Kg, GOUT(b, gi), ldg, 0.0,
               (char *)col + (size_t)(gi * Kg * M + b * P) * es, M);
      if (f64) chunk_col2im_f64(col, (double *)gip, b0, nb, g);
      else chunk_col2im_f32(col, (float *)gip, b0, nb, g);
    }
#undef GOUT
  }
  wick_scratch_free(col, ncol);
  wick_scratch_free(tmp, ntmp);
  return WICK_OK;
}
