/* conv2d on CUDA through cuDNN: forward, backward data, backward filter (with groups, so
 * depthwise convolutions are one call) and the bias through cudnnAddTensor /
 * cudnnConvolutionBackwardBias. Algorithms come from cuDNN's v7 heuristics
 * (cudnnGet*Algorithm_v7), are cached per geometry, and fall back to the next candidate when
 * its workspace cannot be allocated from the caching allocator. f32 runs in plain FMA math
 * (no TF32), so results match the CPU twin to f32 rounding; docs/cuda.md says so.
 * cuDNN pads symmetrically; padding="same" with an even kernel pads one more row/column at
 * the end, so such a convolution runs with the larger padding on both sides into a work
 * output one row/column bigger, whose last OH x OW block is the result (and the gradient
 * enters that block of a zeroed work gradient). */
#include <pthread.h>
#include <string.h>

#include "cuda/cuda_rt.h"
#include "nn_kernels.h"

/* ---- descriptors for one call ---- */

/* y: the work output [N, O, OH + eh, OW + ew]; yr: the result [N, O, OH, OW]; ys: the
 * result's block inside the work output (strided). eh = ew = 0 for symmetric padding. */
typedef struct {
  cudnnTensorDescriptor_t x, y, yr, ys, b;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
  cudnnDataType_t type;
  cudnnMathType_t math;
  int64_t eh, ew;
} conv_desc;

static void desc_free(conv_desc *d) {
  if (d->x) cudnnDestroyTensorDescriptor(d->x);
  if (d->y) cudnnDestroyTensorDescriptor(d->y);
  if (d->yr) cudnnDestroyTensorDescriptor(d->yr);
  if (d->ys) cudnnDestroyTensorDescriptor(d->ys);
  if (d->b) cudnnDestroyTensorDescriptor(d->b);
  if (d->w) cudnnDestroyFilterDescriptor(d->w);
  if (d->conv) cudnnDestroyConvolutionDescriptor(d->conv);
}

static wick_status desc_make(const char *op, const wick_conv_geom *g, wick_dtype dt, conv_desc *d) {
  memset(d, 0, sizeof *d);
  /* the extra row/column at the end that symmetric padding would miss */
  d->eh = g->OH - ((g->H + 2 * g->PH - ((g->KH - 1) * g->DH + 1)) / g->SH + 1);
  d->ew = g->OW - ((g->W + 2 * g->PW - ((g->KW - 1) * g->DW + 1)) / g->SW + 1);
  if (d->eh < 0 || d->eh > 1 || d->ew < 0 || d->ew > 1 || (d->eh && g->SH != 1) || (d->ew && g->SW != 1))
    return wick_errorf(WICK_ERR_SHAPE, "%s: cannot express this padding to cuDNN", op);
  int64_t WH = g->OH + d->eh, WW = g->OW + d->ew; /* the work output's plane */
  const int64_t dims[] = {g->N, g->C, g->H, g->W, g->O, WH, WW, g->KH, g->KW, g->N * g->O * WH * WW};
  for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
    if (dims[i] > 0x7fffffff)
      return wick_errorf(WICK_ERR_SHAPE, "%s: sizes too large for cuDNN", op);
  d->type = dt == WICK_DTYPE_F64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  d->math = dt == WICK_DTYPE_F64 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  cudnnStatus_t e;
#define CK(call)                                                   \
  do {                                                             \
    if ((e = (call)) != CUDNN_STATUS_SUCCESS) {                    \
      desc_free(d);                                                \
      return wick_cudnn_status(e, op);                             \
    }                                                              \
  } while (0)
  CK(cudnnCreateTensorDescriptor(&d->x));
  CK(cudnnCreateTensorDescriptor(&d->y));
  CK(cudnnCreateTensorDescriptor(&d->yr));
  CK(cudnnCreateTensorDescriptor(&d->ys));
  CK(cudnnCreateTensorDescriptor(&d->b));
  CK(cudnnCreateFilterDescriptor(&d->w));
  CK(cudnnCreateConvolutionDescriptor(&d->conv));
  CK(cudnnSetTensor4dDescriptor(d->x, CUDNN_TENSOR_NCHW, d->type, (int)g->N, (int)g->C, (int)g->H, (int)g->W));
  CK(cudnnSetTensor4dDescriptor(d->y, CUDNN_TENSOR_NCHW, d->type, (int)g->N, (int)g->O, (int)WH, (int)WW));
  CK(cudnnSetTensor4dDescriptor(d->yr, CUDNN_TENSOR_NCHW, d->type, (int)g->N, (int)g->O, (int)g->OH, (int)g->OW));
  CK(cudnnSetTensor4dDescriptorEx(d->ys, d->type, (int)g->N, (int)g->O, (int)g->OH, (int)g->OW,
                                  (int)(g->O * WH * WW), (int)(WH * WW), (int)WW, 1));
  CK(cudnnSetTensor4dDescriptor(d->b, CUDNN_TENSOR_NCHW, d->type, 1, (int)g->O, 1, 1));
  CK(cudnnSetFilter4dDescriptor(d->w, d->type, CUDNN_TENSOR_NCHW, (int)g->O, (int)(g->C / g->G), (int)g->KH, (int)g->KW));
  CK(cudnnSetConvolution2dDescriptor(d->conv, (int)(g->PH + d->eh), (int)(g->PW + d->ew), (int)g->SH, (int)g->SW, (int)g->DH,
                                     (int)g->DW, CUDNN_CROSS_CORRELATION, d->type));
  CK(cudnnSetConvolutionGroupCount(d->conv, (int)g->G));
  CK(cudnnSetConvolutionMathType(d->conv, d->math));
  /* cuDNN must agree on the output size (it does for symmetric padding) */
  int on, oc, oh, ow;
  CK(cudnnGetConvolution2dForwardOutputDim(d->conv, d->x, d->w, &on, &oc, &oh, &ow));
#undef CK
  if (on != g->N || oc != g->O || oh != WH || ow != WW) {
    desc_free(d);
    return wick_errorf(WICK_ERR_SHAPE, "%s: cuDNN computes an output of [%d, %d, %d, %d], expected [%lld, %lld, %lld, %lld]",
                       op, on, oc, oh, ow, (long long)g->N, (long long)g->O, (long long)WH, (long long)WW);
  }
  return WICK_OK;
}

/* ---- algorithm cache: geometry + dtype -> the algorithms that last worked ---- */

enum { PASS_FWD, PASS_BWD_DATA, PASS_BWD_FILTER, PASS_COUNT };
#define CACHE_SIZE 64
#define MAX_ALGOS 16

typedef struct {
  wick_conv_geom g;
  int dtype, device;
  int algo[PASS_COUNT]; /* -1: not chosen yet */
} algo_entry;

static algo_entry cache[CACHE_SIZE];
static int cache_n, cache_next;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static algo_entry *cache_find(const wick_conv_geom *g, int dtype, int device) {
  for (int i = 0; i < cache_n; i++)
    if (cache[i].dtype == dtype && cache[i].device == device && !memcmp(&cache[i].g, g, sizeof *g))
      return &cache[i];
  return NULL;
}

static int cached_algo(const wick_conv_geom *g, int dtype, int device, int pass) {
  pthread_mutex_lock(&cache_lock);
  algo_entry *e = cache_find(g, dtype, device);
  int a = e ? e->algo[pass] : -1;
  pthread_mutex_unlock(&cache_lock);
  return a;
}

static void cache_algo(const wick_conv_geom *g, int dtype, int device, int pass, int algo) {
  pthread_mutex_lock(&cache_lock);
  algo_entry *e = cache_find(g, dtype, device);
  if (!e) {
    int slot = cache_n < CACHE_SIZE ? cache_n++ : (cache_next++ % CACHE_SIZE); /* round-robin eviction */
    e = &cache[slot];
    memset(e, 0, sizeof *e);
    e->g = *g;
    e->dtype = dtype;
    e->device = device;
    for (int p = 0; p < PASS_COUNT; p++) e->algo[p] = -1;
  }
  e->algo[pass] = algo;
  pthread_mutex_unlock(&cache_lock);
}

/* The candidate algorithms of one pass, best first (the cached one alone when known). */
static wick_status candidates(const char *op, cudnnHandle_t h, const conv_desc *d, int pass,
                              const wick_conv_geom *g, int dtype, int device, int *algos, int *n) {
  int a = cached_algo(g, dtype, device, pass);
  if (a >= 0) { algos[0] = a; *n = 1; return WICK_OK; }
  int got = 0, k = 0;
  cudnnStatus_t e;
  if (pass == PASS_FWD) {
    cudnnConvolutionFwdAlgoPerf_t perf[MAX_ALGOS];
    e = cudnnGetConvolutionForwardAlgorithm_v7(h, d->x, d->w, d->conv, d->y, MAX_ALGOS, &got, perf);
    if (e != CUDNN_STATUS_SUCCESS) return wick_cudnn_status(e, op);
    for (int i = 0; i < got; i++)
      if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType == d->math) algos[k++] = (int)perf[i].algo;
  } else if (pass == PASS_BWD_DATA) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[MAX_ALGOS];
    e = cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d->w, d->y, d->conv, d->x, MAX_ALGOS, &got, perf);
    if (e != CUDNN_STATUS_SUCCESS) return wick_cudnn_status(e, op);
    for (int i = 0; i < got; i++)
      if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType == d->math) algos[k++] = (int)perf[i].algo;
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[MAX_ALGOS];
    e = cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d->x, d->y, d->conv, d->w, MAX_ALGOS, &got, perf);
    if (e != CUDNN_STATUS_SUCCESS) return wick_cudnn_status(e, op);
    for (int i = 0; i < got; i++)
      if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType == d->math) algos[k++] = (int)perf[i].algo;
  }
  if (k == 0) return wick_errorf(WICK_ERR_CUDA, "%s: cuDNN offers no algorithm for this convolution", op);
  *n = k;
  return WICK_OK;
}

static cudnnStatus_t workspace_size(cudnnHandle_t h, const conv_desc *d, int pass, int algo, size_t *ws) {
  if (pass == PASS_FWD)
    return cudnnGetConvolutionForwardWorkspaceSize(h, d->x, d->w, d->conv, d->y, (cudnnConvolutionFwdAlgo_t)algo, ws);
  if (pass == PASS_BWD_DATA)
    return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d->w, d->y, d->conv, d->x,
                                                        (cudnnConvolutionBwdDataAlgo_t)algo, ws);
  return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d->x, d->y, d->conv, d->w,
                                                        (cudnnConvolutionBwdFilterAlgo_t)algo, ws);
}

/* cuDNN's alpha = 1 and beta = 0, in double for f64 tensors and float otherwise. */
static const double k_one_zero_d[2] = {1, 0};
static const float k_one_zero_f[2] = {1, 0};
static void scalars_for(int dtype, const void **one, const void **zero) {
  bool f64 = dtype == WICK_DTYPE_F64;
  *one = f64 ? (const void *)&k_one_zero_d[0] : (const void *)&k_one_zero_f[0];
  *zero = f64 ? (const void *)&k_one_zero_d[1] : (const void *)&k_one_zero_f[1];
}

/* Runs one pass with the first candidate whose workspace can be had. */
static wick_status run_pass(const char *op, cudnnHandle_t h, const conv_desc *d, int pass,
                            const wick_conv_geom *g, int dtype, int device, const void *x,
                            const void *w, const void *y, void *out) {
  int algos[MAX_ALGOS], n = 0;
  WICK_TRY(candidates(op, h, d, pass, g, dtype, device, algos, &n));
  const void *one, *zero;
  scalars_for(dtype, &one, &zero);
  for (int i = 0; i < n; i++) {
    size_t ws = 0;
    cudnnStatus_t e = workspace_size(h, d, pass, algos[i], &ws);
    if (e != CUDNN_STATUS_SUCCESS) continue;
    void *wp = ws ? wick_cuda_alloc(ws, device) : NULL;
    if (ws && !wp) continue; /* too big now: try a leaner algorithm */
    if (pass == PASS_FWD)
      e = cudnnConvolutionForward(h, one, d->x, x, d->w, w, d->conv, (cudnnConvolutionFwdAlgo_t)algos[i], wp, ws,
                                  zero, d->y, out);
    else if (pass == PASS_BWD_DATA)
      e = cudnnConvolutionBackwardData(h, one, d->w, w, d->y, y, d->conv, (cudnnConvolutionBwdDataAlgo_t)algos[i],
                                       wp, ws, zero, d->x, out);
    else
      e = cudnnConvolutionBackwardFilter(h, one, d->x, x, d->y, y, d->conv,
                                         (cudnnConvolutionBwdFilterAlgo_t)algos[i], wp, ws, zero, d->w, out);
    if (wp) wick_cuda_free(wp, ws, device); /* stream-ordered: reused only after this call's work */
    if (e == CUDNN_STATUS_SUCCESS) {
      cache_algo(g, dtype, device, pass, algos[i]);
      return WICK_OK;
    }
    if (e != CUDNN_STATUS_NOT_SUPPORTED && e != CUDNN_STATUS_ALLOC_FAILED) return wick_cudnn_status(e, op);
  }
  return wick_errorf(WICK_ERR_OOM, "%s: no cuDNN algorithm could run (out of CUDA memory for its workspace?)", op);
}

/* The work output of an asymmetric convolution (p NULL when padding is symmetric). */
typedef struct { void *p; size_t n; int device; } work_buf;

static wick_status work_new(const char *op, const conv_desc *d, const wick_conv_geom *g, const wick_tensor *in,
                            work_buf *wk) {
  wk->p = NULL;
  wk->n = 0;
  wk->device = in->device.index;
  if (!d->eh && !d->ew) return WICK_OK;
  wk->n = (size_t)(g->N * g->O * (g->OH + d->eh) * (g->OW + d->ew)) * wick_dtype_size(in->dtype);
  wk->p = wick_cuda_alloc(wk->n, wk->device);
  if (!wk->p) return wick_errorf(WICK_ERR_OOM, "%s: out of CUDA memory for %zu bytes", op, wk->n);
  return WICK_OK;
}

static void work_free(work_buf *wk) {
  if (wk->p) wick_cuda_free(wk->p, wk->n, wk->device);
  wk->p = NULL;
}

/* The address of the result block [.., eh:, ew:] inside the work output. */
static void *block_of(const conv_desc *d, const wick_conv_geom *g, const work_buf *wk) {
  size_t es = d->type == CUDNN_DATA_DOUBLE ? 8 : 4;
  return (char *)wk->p + (size_t)(d->eh * (g->OW + d->ew) + d->ew) * es;
}

static wick_status handle_for(const char *op, int device, cudnnHandle_t *h) {
  *h = wick_cuda_cudnn(device);
  if (!*h) return wick_errorf(WICK_ERR_CUDA, "%s: no cuDNN handle (%s)", op, wick_last_error());
  return WICK_OK;
}

wick_status wick_cuda_conv2d(wick_tensor *out, const wick_tensor *in, const wick_tensor *w,
                             const wick_tensor *bias, const wick_conv_geom *g) {
  const char *op = "conv2d";
  int device = in->device.index;
  if (wick_tensor_numel(out) == 0) return WICK_OK;
  cudnnHandle_t h;
  WICK_TRY(handle_for(op, device, &h));
  conv_desc d;
  WICK_TRY(desc_make(op, g, in->dtype, &d));
  const void *one, *zero;
  scalars_for(in->dtype, &one, &zero);
  work_buf wk;
  wick_status s = work_new(op, &d, g, in, &wk);
  if (!s)
    s = run_pass(op, h, &d, PASS_FWD, g, in->dtype, device, wick_tensor_data(in), wick_tensor_data(w), NULL,
                 wk.p ? wk.p : wick_tensor_data(out));
  if (!s && wk.p) { /* the result is the work output's last OH x OW block */
    cudnnStatus_t e = cudnnTransformTensor(h, one, d.ys, block_of(&d, g, &wk), zero, d.yr, wick_tensor_data(out));
    if (e != CUDNN_STATUS_SUCCESS) s = wick_cudnn_status(e, op);
  }
  if (!s && bias) {
    cudnnStatus_t e = cudnnAddTensor(h, one, d.b, wick_tensor_data(bias), one, d.yr, wick_tensor_data(out));
    if (e != CUDNN_STATUS_SUCCESS) s = wick_cudnn_status(e, op);
  }
  work_free(&wk);
  desc_free(&d);
  return s;
}

wick_status wick_cuda_conv2d_backward(const wick_tensor *gout, const wick_tensor *in,
                                      const wick_tensor *w, const wick_conv_geom *g,
                                      wick_tensor *gin, wick_tensor *gw, wick_tensor *gb) {
  const char *op = "conv2d backward";
  int device = in->device.index;
  cudnnHandle_t h;
  WICK_TRY(handle_for(op, device, &h));
  wick_status s = WICK_OK;
  /* with nothing flowing back every gradient is zero (cuDNN rejects empty tensors) */
  if (wick_tensor_numel(gout) == 0 || wick_tensor_numel(in) == 0) {
    cudaStream_t st = wick_cuda_current_stream(device);
    wick_tensor *z[3] = {gin, gw, gb};
    for (int i = 0; i < 3 && !s; i++)
      if (z[i] && wick_tensor_numel(z[i]))
        s = wick_cuda_status(cudaMemsetAsync(wick_tensor_data(z[i]), 0,
                                             (size_t)wick_tensor_numel(z[i]) * wick_dtype_size(z[i]->dtype), st), op);
    return s;
  }
  conv_desc d;
  WICK_TRY(desc_make(op, g, in->dtype, &d));
  const void *one, *zero;
  scalars_for(in->dtype, &one, &zero);
  /* asymmetric padding: the gradient enters the last block of a zeroed work gradient */
  work_buf wk;
  const void *gy = wick_tensor_data(gout);
  s = (gin || gw) ? work_new(op, &d, g, in, &wk) : (wk.p = NULL, WICK_OK);
  if (!s && wk.p) {
    s = wick_cuda_status(cudaMemsetAsync(wk.p, 0, wk.n, wick_cuda_current_stream(device)), op);
    cudnnStatus_t e = s ? CUDNN_STATUS_SUCCESS : cudnnTransformTensor(h, one, d.yr, gy, zero, d.ys, block_of(&d, g, &wk));
    if (e != CUDNN_STATUS_SUCCESS) s = wick_cudnn_status(e, op);
    gy = wk.p;
  }
  if (!s && gin)
    s = run_pass(op, h, &d, PASS_BWD_DATA, g, in->dtype, device, NULL, wick_tensor_data(w), gy,
                 wick_tensor_data(gin));
  if (!s && gw)
    s = run_pass(op, h, &d, PASS_BWD_FILTER, g, in->dtype, device, wick_tensor_data(in), NULL, gy,
                 wick_tensor_data(gw));
  if (!s && gb) {
    cudnnStatus_t e = cudnnConvolutionBackwardBias(h, one, d.yr, wick_tensor_data(gout), zero, d.b,
                                                   wick_tensor_data(gb));
    if (e != CUDNN_STATUS_SUCCESS) s = wick_cudnn_status(e, op);
  }
  work_free(&wk);
  desc_free(&d);
  return s;
}
