/* Image tensor -> HWC u8 (image.h), after torch/utils/tensorboard/_utils.py convert_to_HWC and
 * make_grid, and summary.image's scaling: (x * 255).clip(0, 255).astype(uint8). */
#include "tb/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint8_t to_u8(const wick_tensor *t, int64_t off, int scale) {
  const char *base = (const char *)t->storage->data + (size_t)(t->offset + off) * wick_dtype_size(t->dtype);
  if (!scale) return *(const uint8_t *)base;
  float v = (float)wick_load_f64(base, t->dtype) * 255.0f;
  if (!(v > 0)) return 0; /* also NaN */
  if (v >= 255.0f) return 255;
  return (uint8_t)v;
}

wick_status wick_tb_image_hwc(const char *op, const wick_tensor *t, const char *fmt, int ncols,
                              int square, uint8_t **pixels, int64_t *h, int64_t *w, int *c) {
  *pixels = NULL;
  size_t nf = strlen(fmt);
  if (t->device.type != WICK_DEVICE_CPU)
    return wick_errorf(WICK_ERR_DEVICE, "%s: expected a CPU tensor", op);
  int ok = nf >= 2 && nf <= 4;
  int pos[4] = {-1, -1, -1, -1}; /* where N, C, H, W are in the tensor */
  for (size_t i = 0; ok && i < nf; i++) {
    const char *k = strchr("NCHW", fmt[i]);
    if (!k || fmt[i] == 0 || pos[k - "NCHW"] >= 0) ok = 0;
    else pos[k - "NCHW"] = (int)i;
  }
  if (ok) ok = pos[2] >= 0 && pos[3] >= 0 && (nf != 4 || (pos[0] >= 0 && pos[1] >= 0)) &&
               (nf != 3 || pos[1] >= 0) && (nf != 2 || (pos[0] < 0 && pos[1] < 0));
  if (!ok)
    return wick_errorf(WICK_ERR_ARG, "%s: dataformats \"%s\" is not one of the letters N, C, H, W once each with H and W (e.g. \"CHW\", \"HWC\", \"HW\", \"NCHW\")", op, fmt);
  if ((size_t)t->ndim != nf)
    return wick_errorf(WICK_ERR_SHAPE, "%s: dataformats \"%s\" needs a %zu-d tensor (got %d-d)", op, fmt, nf, t->ndim);
  int64_t N = pos[0] >= 0 ? t->sizes[pos[0]] : 1, C = pos[1] >= 0 ? t->sizes[pos[1]] : 1;
  int64_t H = t->sizes[pos[2]], W = t->sizes[pos[3]];
  int64_t sN = pos[0] >= 0 ? t->strides[pos[0]] : 0, sC = pos[1] >= 0 ? t->strides[pos[1]] : 0;
  int64_t sH = t->strides[pos[2]], sW = t->strides[pos[3]];
  if (nf == 4 ? (C != 1 && C != 3) : (C != 1 && C != 3 && C != 4))
    return wick_errorf(WICK_ERR_SHAPE, "%s: images need %s channels (got %lld)", op,
                       nf == 4 ? "1 or 3" : "1, 3 or 4", (long long)C);
  if (N < 1 || H < 1 || W < 1)
    return wick_errorf(WICK_ERR_SHAPE, "%s: empty image (N=%lld, H=%lld, W=%lld)", op, (long long)N, (long long)H, (long long)W);
  if (ncols <= 0) ncols = 8;
  int64_t cols = N < ncols ? N : ncols, rows = (N + cols - 1) / cols;
  int64_t oh = H * rows, ow = W * cols;
  if (square && oh < ow) oh = ow;
  int oc = C == 1 ? 3 : (int)C;
  if (oh > 65535 || ow > 65535)
    return wick_errorf(WICK_ERR_SHAPE, "%s: image of %lldx%lld pixels is too large (at most 65535 per side)", op, (long long)oh, (long long)ow);
  uint8_t *p = calloc((size_t)(oh * ow * oc), 1);
  if (!p) return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op);
  int scale = t->dtype != WICK_DTYPE_U8;
  for (int64_t n = 0; n < N; n++) {
    int64_t y0 = (n / cols) * H, x0 = (n % cols) * W;
    for (int64_t y = 0; y < H; y++)
      for (int64_t x = 0; x < W; x++) {
        uint8_t *dst = p + ((y0 + y) * ow + x0 + x) * oc;
        for (int k = 0; k < oc; k++) {
          int64_t ck = C == 1 ? 0 : k;
          dst[k] = to_u8(t, n * sN + ck * sC + y * sH + x * sW, scale);
        }
      }
  }
  *pixels = p;
  *h = oh;
  *w = ow;
  *c = oc;
  return WICK_OK;
}
