/* Convolution, pooling, embedding: argument checks with PyTorch's wording, output shapes,
 * and the calls into the device row's nn slots (backend.h; CPU kernels in src/cpu/). */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "nn.h"
#include "nn_check.h"

wick_status wick_nn_check_float(const char *op, const char *what, const wick_tensor *t,
                                const wick_tensor *like) {
  if (like) WICK_TRY(wick_check_same_device(op, like->device, t->device));
  if (like && t->dtype != like->dtype)
    return wick_errorf(WICK_ERR_DTYPE, "%s: expected %s to have dtype %s (the input's), but got %s",
                       op, what, wick_dtype_name(like->dtype), wick_dtype_name(t->dtype));
  if (t->dtype != WICK_DTYPE_F32 && t->dtype != WICK_DTYPE_F64)
    return wick_errorf(WICK_ERR_DTYPE, "%s: expected %s of dtype f32 or f64, but got %s", op, what,
                       wick_dtype_name(t->dtype));
  return WICK_OK;
}

wick_status wick_nn_backend(const char *op, const wick_tensor *t, const wick_backend **b) {
  return wick_backend_for(op, t->device, b);
}

const char *wick_nn_shape(const wick_tensor *t, char *buf, int n) {
  return wick_shape_str(t->ndim, t->sizes, buf, n);
}

/* Contiguous copies (or retained originals) of up to 4 optional tensors. */
wick_status wick_nn_contig(int n, const wick_tensor *const *in, wick_tensor **out) {
  for (int i = 0; i < n; i++) out[i] = NULL;
  for (int i = 0; i < n; i++) {
    if (!in[i]) continue;
    wick_status s = wick_contiguous(in[i], &out[i]);
    if (s) {
      for (int j = 0; j < i; j++) wick_tensor_release(out[j]);
      return s;
    }
  }
  return WICK_OK;
}

void wick_nn_release(int n, wick_tensor **ts) {
  for (int i = 0; i < n; i++) { wick_tensor_release(ts[i]); ts[i] = NULL; }
}

/* A contiguous tensor of `like`'s dtype with the given shape (not initialised). */
static wick_status new_as(const wick_tensor *like, int ndim, const int64_t *sizes, wick_tensor **out) {
  return wick_tensor_new(like->dtype, like->device, ndim, sizes, out);
}

/* ---- conv2d ---- */

static wick_status conv_geom(const wick_tensor *in, const wick_tensor *w, const wick_tensor *bias,
                             const wick_conv2d_opts *o, wick_conv_geom *g) {
  const char *op = "conv2d";
  char b1[128], b2[128];
  for (int i = 0; i < 2; i++) {
    if (o->stride[i] <= 0)
      return wick_errorf(WICK_ERR_ARG, "%s: non-positive stride is not supported (got %lld)", op, (long long)o->stride[i]);
    if (!o->same && o->padding[i] < 0)
      return wick_errorf(WICK_ERR_ARG, "%s: negative padding is not supported (got %lld)", op, (long long)o->padding[i]);
    if (o->dilation[i] <= 0)
      return wick_errorf(WICK_ERR_ARG, "%s: dilation should be greater than zero (got %lld)", op, (long long)o->dilation[i]);
  }
  if (o->groups <= 0)
    return wick_errorf(WICK_ERR_ARG, "%s: non-positive groups is not supported (got %lld)", op, (long long)o->groups);
  if (o->same && (o->stride[0] != 1 || o->stride[1] != 1))
    return wick_errorf(WICK_ERR_ARG, "%s: padding='same' is not supported for strided convolutions", op);
  if (in->ndim != 3 && in->ndim != 4)
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected 3D (unbatched) or 4D (batched) input, but got input of size: %s",
                       op, wick_nn_shape(in, b1, sizeof b1));
  if (w->ndim != 4)
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected weight to be 4D [out_channels, in_channels/groups, kH, kW], "
                       "but got weight of size %s", op, wick_nn_shape(w, b1, sizeof b1));
  WICK_TRY(wick_nn_check_float(op, "input", in, NULL));
  WICK_TRY(wick_nn_check_float(op, "weight", w, in));
  if (bias) WICK_TRY(wick_nn_check_float(op, "bias", bias, in));
  int b = in->ndim == 4;
  g->N = b ? in->sizes[0] : 1;
  g->C = in->sizes[b];
  g->H = in->sizes[b + 1];
  g->W = in->sizes[b + 2];
  g->O = w->sizes[0];
  g->G = o->groups;
  g->KH = w->sizes[2];
  g->KW = w->sizes[3];
  if (g->O % g->G != 0)
    return wick_errorf(WICK_ERR_SHAPE, "%s: given groups=%lld, expected weight to be divisible by %lld at dimension 0, "
                       "but got weight of size %s instead", op, (long long)g->G, (long long)g->G,
                       wick_nn_shape(w, b1, sizeof b1));
  if (g->C != w->sizes[1] * g->G || w->sizes[1] == 0)
    return wick_errorf(WICK_ERR_SHAPE, "%s: given groups=%lld, weight of size %s, expected input%s to have %lld channels, "
                       "but got %lld channels instead", op, (long long)g->G, wick_nn_shape(w, b1, sizeof b1),
                       wick_nn_shape(in, b2, sizeof b2), (long long)(w->sizes[1] * g->G), (long long)g->C);
  if (bias && (bias->ndim != 1 || bias->sizes[0] != g->O))
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected bias to be 1-D with %lld elements, but got bias of size %s", op,
                       (long long)g->O, wick_nn_shape(bias, b1, sizeof b1));
  g->SH = o->stride[0]; g->SW = o->stride[1];
  g->DH = o->dilation[0]; g->DW = o->dilation[1];
  int64_t ekh = g->DH * (g->KH - 1) + 1, ekw = g->DW * (g->KW - 1) + 1; /* dilated kernel */
  int64_t padded_h, padded_w;
  if (o->same) { /* extra padding, if odd, goes after the last row/column as in PyTorch */
    g->PH = (ekh - 1) / 2;
    g->PW = (ekw - 1) / 2;
    padded_h = g->H + ekh - 1;
    padded_w = g->W + ekw - 1;
  } else {
    g->PH = o->padding[0];
    g->PW = o->padding[1];
    padded_h = g->H + 2 * g->PH;
    padded_w = g->W + 2 * g->PW;
  }
  if (padded_h < ekh || padded_w < ekw)
    return wick_errorf(WICK_ERR_SHAPE, "%s: calculated padded input size per channel: (%lld x %lld). Kernel size: "
                       "(%lld x %lld). Kernel size can't be greater than actual input size", op,
                       (long long)padded_h, (long long)padded_w, (long long)ekh, (long long)ekw);
  g->OH = (padded_h - ekh) / g->SH + 1;
  g->OW = (padded_w - ekw) / g->SW + 1;
  int64_t K = g->C / g->G * g->KH * g->KW;
  if (K > 0x7fffffff || g->N * g->OH * g->OW > 0x7fffffff || g->O > 0x7fffffff)
    return wick_errorf(WICK_ERR_SHAPE, "%s: sizes too large for BLAS", op);
  return WICK_OK;
}

static void conv_out_sizes(const wick_tensor *in, const wick_conv_geom *g, int64_t *sizes) {
  int b = in->ndim == 4;
  if (b) sizes[0] = g->N;
  sizes[b] = g->O;
  sizes[b + 1] = g->OH;
  sizes[b + 2] = g->OW;
}

wick_status wick_conv2d(const wick_tensor *input, const wick_tensor *weight,
                        const wick_tensor *bias, const wick_conv2d_opts *o, wick_tensor **out) {
  wick_conv_geom g;
  const wick_backend *be;
  WICK_TRY(conv_geom(input, weight, bias, o, &g));
  WICK_TRY(wick_nn_backend("conv2d", input, &be));
  WICK_NEED_SLOT(be, conv2d, "conv2d");
  int64_t sizes[4];
  conv_out_sizes(input, &g, sizes);
  const wick_tensor *ins[3] = {input, weight, bias};
  wick_tensor *c[3], *r;
  WICK_TRY(new_as(input, input->ndim, sizes, &r));
  wick_status s = wick_nn_contig(3, ins, c);
  if (!s) s = be->conv2d(r, c[0], c[1], c[2], &g);
  wick_nn_release(3, c);
  if (s) { wick_tensor_release(r); return s; }
  *out = r;
  return WICK_OK;
}

wick_status wick_conv2d_backward(const wick_tensor *gout, const wick_tensor *input,
                                 const wick_tensor *weight, const wick_conv2d_opts *o,
                                 bool need_in, bool need_w, bool need_b, wick_tensor **gin,
                                 wick_tensor **gw, wick_tensor **gb) {
  wick_conv_geom g;
  const wick_backend *be;
  WICK_TRY(conv_geom(input, weight, NULL, o, &g));
  WICK_TRY(wick_check_same_device("conv2d", input->device, gout->device));
  WICK_TRY(wick_nn_backend("conv2d", input, &be));
  WICK_NEED_SLOT(be, conv2d_backward, "conv2d");
  wick_tensor *r[3] = {NULL, NULL, NULL}, *c[3];
  const wick_tensor *ins[3] = {gout, input, weight};
  int64_t ob = g.O;
  wick_status s = WICK_OK;
  if (need_in) s = new_as(input, input->ndim, input->sizes, &r[0]);
  if (!s && need_w) s = new_as(input, 4, weight->sizes, &r[1]);
  if (!s && need_b) s = new_as(input, 1, &ob, &r[2]);
  if (s) { wick_nn_release(3, r); return s; }
  if ((s = wick_nn_contig(3, ins, c))) { wick_nn_release(3, r); return s; }
  if (c[0]->dtype != input->dtype) { /* the engine hands gradients in the output's dtype */
    wick_tensor *t;
    s = wick_to(c[0], input->dtype, c[0]->device, false, &t);
    wick_tensor_release(c[0]);
    c[0] = t;
  }
  if (!s) s = be->conv2d_backward(c[0], c[1], c[2], &g, r[0], r[1], r[2]);
  wick_nn_release(3, c);
  if (s) { wick_nn_release(3, r); return s; }
  *gin = r[0]; *gw = r[1]; *gb = r[2];
  return WICK_OK;
}

/* ---- pooling ---- */

static wick_status pool_dims(const char *op, int ndim, const int64_t *sizes, int64_t *P, int64_t *H,
                             int64_t *W) {
  if (ndim != 3 && ndim != 4) {
    char b[128];
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected 3D or 4D input, but got input of size: %s", op,
                       wick_shape_str(ndim, sizes, b, sizeof b));
  }
  *P = sizes[0] * (ndim == 4 ? sizes[1] : 1);
  *H = sizes[ndim - 2];
  *W = sizes[ndim - 1];
  return WICK_OK;
}

/* PyTorch's pooling_output_shape: floor or ceil division, and in ceil mode the last window
 * must start inside the input or the left padding. */
static int64_t pool_out(int64_t in, int64_t k, int64_t pad, int64_t s, int64_t d, bool ceil_mode) {
  int64_t num = in + 2 * pad - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int64_t q = num >= 0 ? num / s : -((-num + s - 1) / s); /* division rounding down */
  int64_t out = q + 1;
  if (ceil_mode && (out - 1) * s >= in + pad) out--;
  return out;
}

static wick_status pool_geom(const char *op, int ndim, const int64_t *sizes, const wick_pool2d_opts *o,
                             wick_pool_geom *g) {
  WICK_TRY(pool_dims(op, ndim, sizes, &g->P, &g->H, &g->W));
  for (int i = 0; i < 2; i++) {
    if (o->kernel[i] <= 0)
      return wick_errorf(WICK_ERR_ARG, "%s: kernel_size should be greater than zero, but got %lld", op, (long long)o->kernel[i]);
    if (o->stride[i] <= 0)
      return wick_errorf(WICK_ERR_ARG, "%s: stride should be greater than zero, but got %lld", op, (long long)o->stride[i]);
    if (o->dilation[i] <= 0)
      return wick_errorf(WICK_ERR_ARG, "%s: dilation should be greater than zero, but got %lld", op, (long long)o->dilation[i]);
    if (o->padding[i] < 0)
      return wick_errorf(WICK_ERR_ARG, "%s: padding should be non-negative, but got %lld", op, (long long)o->padding[i]);
    if (o->padding[i] > o->kernel[i] / 2)
      return wick_errorf(WICK_ERR_ARG, "%s: pad should be at most half of kernel size, but got pad=%lld and kernel_size=%lld",
                         op, (long long)o->padding[i], (long long)o->kernel[i]);
  }
  g->KH = o->kernel[0]; g->KW = o->kernel[1];
  g->SH = o->stride[0]; g->SW = o->stride[1];
  g->PH = o->padding[0]; g->PW = o->padding[1];
  g->DH = o->dilation[0]; g->DW = o->dilation[1];
  g->count_include_pad = o->count_include_pad;
  g->divisor = o->divisor_override;
  g->OH = pool_out(g->H, g->KH, g->PH, g->SH, g->DH, o->ceil_mode);
  g->OW = pool_out(g->W, g->KW, g->PW, g->SW, g->DW, o->ceil_mode);
  if (g->OH < 1 || g->OW < 1) {
    char k[48];
    if (g->KH == g->KW) snprintf(k, sizeof k, "%lld", (long long)g->KH);
    else snprintf(k, sizeof k, "%lldx%lld", (long long)g->KH, (long long)g->KW);
    return wick_errorf(WICK_ERR_SHAPE, "%s: output size is too small (computed %lldx%lld for input %lldx%lld with kernel %s)",
                       op, (long long)(g->OH < 0 ? 0 : g->OH), (long long)(g->OW < 0 ? 0 : g->OW),
                       (long long)g->H, (long long)g->W, k);
  }
  return WICK_OK;
}

static void pool_out_sizes(int ndim, const int64_t *in, const wick_pool_geom *g, int64_t *sizes) {
  memcpy(sizes, in, sizeof(int64_t) * (size_t)ndim);
  sizes[ndim - 2] = g->OH;
  sizes[ndim - 1] = g->OW;
}

typedef enum { POOL_MAX, POOL_AVG, POOL_ADAPTIVE } pool_kind;

static wick_status pool_forward(pool_kind kind, const char *op, const wick_tensor *input,
                                const wick_pool_geom *g, wick_tensor **out, wick_tensor **indices) {
  WICK_TRY(wick_nn_check_float(op, "input", input, NULL));
  const wick_backend *be;
  WICK_TRY(wick_nn_backend(op, input, &be));
  if (kind == POOL_MAX) WICK_NEED_SLOT(be, max_pool2d, op);
  else if (kind == POOL_AVG) WICK_NEED_SLOT(be, avg_pool2d, op);
  else WICK_NEED_SLOT(be, adaptive_avg_pool2d, op);
  int64_t sizes[4];
  pool_out_sizes(input->ndim, input->sizes, g, sizes);
  wick_tensor *r, *ix = NULL, *c;
  WICK_TRY(new_as(input, input->ndim, sizes, &r));
  wick_status s = WICK_OK;
  if (kind == POOL_MAX) s = wick_tensor_new(WICK_DTYPE_I64, input->device, input->ndim, sizes, &ix);
  if (!s) s = wick_contiguous(input, &c);
  if (s) { wick_tensor_release(r); wick_tensor_release(ix); return s; }
  if (kind == POOL_MAX) s = be->max_pool2d(r, ix, c, g);
  else if (kind == POOL_AVG) s = be->avg_pool2d(r, c, g);
  else s = be->adaptive_avg_pool2d(r, c, g);
  wick_tensor_release(c);
  if (s) { wick_tensor_release(r); wick_tensor_release(ix); return s; }
  *out = r;
  if (indices) *indices = ix;
  else wick_tensor_release(ix);
  return WICK_OK;
}

static wick_status pool_backward(pool_kind kind, const char *op, const wick_tensor *gout,
                                 const wick_tensor *indices, int ndim, const int64_t *in_sizes,
                                 const wick_pool_geom *g, wick_tensor **gin) {
  int64_t sizes[4];
  pool_out_sizes(ndim, in_sizes, g, sizes);
  if (gout->ndim != ndim || memcmp(gout->sizes, sizes, sizeof(int64_t) * (size_t)ndim)) {
    char b1[128], b2[128];
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected a gradient of size %s, but got %s", op,
                       wick_shape_str(ndim, sizes, b1, sizeof b1), wick_nn_shape(gout, b2, sizeof b2));
  }
  WICK_TRY(wick_nn_check_float(op, "grad", gout, NULL));
  if (indices) WICK_TRY(wick_check_same_device(op, gout->device, indices->device));
  const wick_backend *be;
  WICK_TRY(wick_nn_backend(op, gout, &be));
  if (kind == POOL_MAX) WICK_NEED_SLOT(be, max_pool2d_backward, op);
  else if (kind == POOL_AVG) WICK_NEED_SLOT(be, avg_pool2d_backward, op);
  else WICK_NEED_SLOT(be, adaptive_avg_pool2d_backward, op);
  wick_tensor *r, *c, *ic = NULL;
  WICK_TRY(new_as(gout, ndim, in_sizes, &r));
  wick_status s = wick_contiguous(gout, &c);
  if (!s && indices) s = wick_contiguous(indices, &ic);
  if (s) { wick_tensor_release(r); wick_tensor_release(c); return s; }
  if (kind == POOL_MAX) s = be->max_pool2d_backward(r, c, ic, g);
  else if (kind == POOL_AVG) s = be->avg_pool2d_backward(r, c, g);
  else s = be->adaptive_avg_pool2d_backward(r, c, g);
  wick_tensor_release(c);
  wick_tensor_release(ic);
  if (s) { wick_tensor_release(r); return s; }
  *gin = r;
  return WICK_OK;
}

wick_status wick_max_pool2d(const wick_tensor *input, const wick_pool2d_opts *o,
                            wick_tensor **out, wick_tensor **indices) {
  wick_pool_geom g;
  WICK_TRY(pool_geom("max_pool2d", input->ndim, input->sizes, o, &g));
  return pool_forward(POOL_MAX, "max_pool2d", input, &g, out, indices);
}

wick_status wick_max_pool2d_backward(const wick_tensor *gout, const wick_tensor *indices,
                                     int ndim, const int64_t *in_sizes, const wick_pool2d_opts *o,
                                     wick_tensor **gin) {
  wick_pool_geom g;
  WICK_TRY(pool_geom("max_pool2d", ndim, in_sizes, o, &g));
  return pool_backward(POOL_MAX, "max_pool2d", gout, indices, ndim, in_sizes, &g, gin);
}

wick_status wick_avg_pool2d(const wick_tensor *input, const wick_pool2d_opts *o, wick_tensor **out) {
  wick_pool_geom g;
  if (o->divisor_override < 0)
    return wick_errorf(WICK_ERR_ARG, "avg_pool2d: divisor must be not zero (got %lld)", (long long)o->divisor_override);
  WICK_TRY(pool_geom("avg_pool2d", input->ndim, input->sizes, o, &g));
  return pool_forward(POOL_AVG, "avg_pool2d", input, &g, out, NULL);
}

wick_status wick_avg_pool2d_backward(const wick_tensor *gout, int ndim, const int64_t *in_sizes,
                                     const wick_pool2d_opts *o, wick_tensor **gin) {
  wick_pool_geom g;
  WICK_TRY(pool_geom("avg_pool2d", ndim, in_sizes, o, &g));
  return pool_backward(POOL_AVG, "avg_pool2d", gout, NULL, ndim, in_sizes, &g, gin);
}

static wick_status adaptive_geom(int ndim, const int64_t *sizes, int64_t oh, int64_t ow, wick_pool_geom *g) {
  const char *op = "adaptive_avg_pool2d";
  memset(g, 0, sizeof *g);
  WICK_TRY(pool_dims(op, ndim, sizes, &g->P, &g->H, &g->W));
  if (oh < 1 || ow < 1)
    return wick_errorf(WICK_ERR_ARG, "%s: output_size must be positive, but got [%lld, %lld]", op, (long long)oh, (long long)ow);
  if (g->H < 1 || g->W < 1) {
    char b[128];
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected input with non-zero height and width, but got input of size: %s",
                       op, wick_shape_str(ndim, sizes, b, sizeof b));
  }
  g->OH = oh;
  g->OW = ow;
  return WICK_OK;
}

wick_status wick_adaptive_avg_pool2d(const wick_tensor *input, int64_t oh, int64_t ow, wick_tensor **out) {
  wick_pool_geom g;
  WICK_TRY(adaptive_geom(input->ndim, input->sizes, oh, ow, &g));
  return pool_forward(POOL_ADAPTIVE, "adaptive_avg_pool2d", input, &g, out, NULL);
}

wick_status wick_adaptive_avg_pool2d_backward(const wick_tensor *gout, int ndim,
                                              const int64_t *in_sizes, wick_tensor **gin) {
  wick_pool_geom g;
  if (gout->ndim != ndim)
    return wick_errorf(WICK_ERR_SHAPE, "adaptive_avg_pool2d: the gradient has %d dims, expected %d", gout->ndim, ndim);
  WICK_TRY(adaptive_geom(ndim, in_sizes, gout->sizes[ndim - 2], gout->sizes[ndim - 1], &g));
  return pool_backward(POOL_ADAPTIVE, "adaptive_avg_pool2d", gout, NULL, ndim, in_sizes, &g, gin);
}

/* ---- embedding, dropout ---- */

/* indices as a contiguous 1-D i64 tensor on dev, range-checked against V on a host copy (a
 * bad index must be an error, not a device-side fault); device indices stay on the device. */
static wick_status flat_indices(const wick_tensor *indices, int64_t V, wick_device dev, wick_tensor **out) {
  if (indices->dtype != WICK_DTYPE_I64 && indices->dtype != WICK_DTYPE_I32)
    return wick_errorf(WICK_ERR_DTYPE, "embedding: expected indices of dtype i64 or i32, but got %s",
                       wick_dtype_name(indices->dtype));
  int64_t n = wick_tensor_numel(indices);
  wick_tensor *i64, *flat, *c, *h = NULL;
  WICK_TRY(wick_to(indices, WICK_DTYPE_I64, dev, false, &i64));
  wick_status s = wick_reshape(i64, 1, &n, &flat);
  wick_tensor_release(i64);
  if (s) return s;
  s = wick_contiguous(flat, &c);
  wick_tensor_release(flat);
  if (s) return s;
  if ((s = wick_to(c, WICK_DTYPE_I64, wick_cpu(), false, &h))) {
    wick_tensor_release(c);
    return s;
  }
  const int64_t *p = wick_tensor_data(h);
  for (int64_t i = 0; i < n && !s; i++)
    if (p[i] < 0 || p[i] >= V)
      s = wick_errorf(WICK_ERR_INDEX, "embedding: index %lld is out of range for %lld embeddings",
                      (long long)p[i], (long long)V);
  wick_tensor_release(h);
  if (s) { wick_tensor_release(c); return s; }
  *out = c;
  return WICK_OK;
}

wick_status wick_embedding(const wick_tensor *indices, const wick_tensor *weight, wick_tensor **out) {
  char b[128];
  if (weight->ndim != 2)
    return wick_errorf(WICK_ERR_SHAPE, "embedding: expected weight to be 2-D [num_embeddings, embedding_dim], "
                       "but got weight of size %s", wick_nn_shape(weight, b, sizeof b));
  if (indices->ndim + 1 > WICK_MAX_DIMS)
    return wick_errorf(WICK_ERR_SHAPE, "embedding: indices have too many dims (%d)", indices->ndim);
  WICK_TRY(wick_check_same_device("embedding", weight->device, indices->device));
  wick_tensor *flat, *rows;
  WICK_TRY(flat_indices(indices, weight->sizes[0], weight->device, &flat));
  wick_status s = wick_index_select(weight, 0, flat, &rows);
  wick_tensor_release(flat);
  if (s) return s;
  int64_t sizes[WICK_MAX_DIMS];
  memcpy(sizes, indices->sizes, sizeof(int64_t) * (size_t)indices->ndim);
  sizes[indices->ndim] = weight->sizes[1];
  s = wick_view(rows, indices->ndim + 1, sizes, out);
  wick_tensor_release(rows);
  return s;
}

wick_status wick_embedding_backward(const wick_tensor *g, const wick_tensor *indices, int64_t V,
                                    bool has_padding, int64_t padding_idx, wick_tensor **gw) {
  int64_t D = g->ndim > 0 ? g->sizes[g->ndim - 1] : 1;
  int64_t shape[2] = {V, D}, rows2[2] = {wick_tensor_numel(indices), D};
  wick_tensor *flat, *gz, *g2 = NULL;
  WICK_TRY(flat_indices(indices, V, g->device, &flat));
  wick_status s = wick_tensor_zeros(g->dtype, g->device, 2, shape, &gz);
  if (!s) s = wick_reshape(g, 2, rows2, &g2);
  if (!s) s = wick_index_add_(gz, 0, flat, g2, 1.0);
  if (!s && has_padding) {
    wick_tensor *row;
    if (!(s = wick_select(gz, 0, padding_idx, &row))) {
      s = wick_fill_(row, 0, 0);
      wick_tensor_release(row);
    }
  }
  wick_tensor_release(flat);
  wick_tensor_release(g2);
  if (s) { wick_tensor_release(gz); return s; }
  *gw = gz;
  return WICK_OK;
}

wick_status wick_dropout_check(double p) {
  if (!(p >= 0 && p <= 1))
    return wick_errorf(WICK_ERR_ARG, "dropout: dropout probability has to be between 0 and 1, but got %g", p);
  return WICK_OK;
}
