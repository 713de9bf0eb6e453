/* wick_batch_gather: the DataLoader's fast path for in-memory datasets (one pass from the
 * stored samples to the batch, no intermediate tensors). */
#include "batch.h"

#include <string.h>

#include "core/ops.h"

static int64_t load_index(const wick_tensor *idx, int64_t i) {
  const char *p = (const char *)wick_tensor_data(idx);
  int64_t st = idx->ndim ? idx->strides[0] : 0;
  if (idx->dtype == WICK_DTYPE_I64) return ((const int64_t *)p)[i * st];
  return ((const int32_t *)p)[i * st];
}

static void gather_rows(const wick_tensor *src, const int64_t *rows, int64_t b, int64_t row,
                        double scale, double shift, wick_tensor *out) {
  const unsigned char *s = wick_tensor_data(src);
  unsigned char *o = wick_tensor_data(out);
  wick_dtype sd = src->dtype, od = out->dtype;
  size_t ses = wick_dtype_size(sd), oes = wick_dtype_size(od);
  bool plain = scale == 1.0 && shift == 0.0;
  int64_t total = b * row;
  (void)total;
  if (sd == od && plain) {
    #pragma omp parallel for if (total > (1 << 20))
    for (int64_t i = 0; i < b; i++)
      memcpy(o + i * row * (int64_t)oes, s + rows[i] * row * (int64_t)ses, (size_t)row * ses);
  } else if (sd == WICK_DTYPE_U8 && od == WICK_DTYPE_F32) {
    float a = (float)scale, c = (float)shift;
    #pragma omp parallel for if (total > (1 << 18))
    for (int64_t i = 0; i < b; i++) {
      const uint8_t *x = s + rows[i] * row;
      float *y = (float *)o + i * row;
      for (int64_t j = 0; j < row; j++) y[j] = (float)x[j] * a + c;
    }
  } else if (sd == WICK_DTYPE_U8 && od == WICK_DTYPE_F64) {
    #pragma omp parallel for if (total > (1 << 18))
    for (int64_t i = 0; i < b; i++) {
      const uint8_t *x = s + rows[i] * row;
      double *y = (double *)o + i * row;
      for (int64_t j = 0; j < row; j++) y[j] = (double)x[j] * scale + shift;
    }
  } else if (!wick_dtype_is_float(od)) {
    for (int64_t i = 0; i < b; i++)
      for (int64_t j = 0; j < row; j++)
        wick_store_i64(o + (i * row + j) * (int64_t)oes, od,
                       wick_load_i64(s + (rows[i] * row + j) * (int64_t)ses, sd));
  } else {
    for (int64_t i = 0; i < b; i++)
      for (int64_t j = 0; j < row; j++)
        wick_store_f64(o + (i * row + j) * (int64_t)oes, od,
                       wick_load_f64(s + (rows[i] * row + j) * (int64_t)ses, sd) * scale + shift);
  }
}

wick_status wick_batch_gather(const wick_tensor *src, const wick_tensor *idx, double scale,
                              double shift, wick_tensor *out) {
  if (src->device.type != WICK_DEVICE_CPU || idx->device.type != WICK_DEVICE_CPU ||
      out->device.type != WICK_DEVICE_CPU)
    return wick_errorf(WICK_ERR_DEVICE, "batch_gather: expected CPU tensors");
  if (src->ndim < 1)
    return wick_errorf(WICK_ERR_SHAPE, "batch_gather: samples must have at least 1 dim (got a 0-d tensor)");
  if (idx->dtype != WICK_DTYPE_I64 && idx->dtype != WICK_DTYPE_I32)
    return wick_errorf(WICK_ERR_DTYPE, "batch_gather: indices must be i64 or i32 (got %s)",
                       wick_dtype_name(idx->dtype));
  if (idx->ndim > 1)
    return wick_errorf(WICK_ERR_SHAPE, "batch_gather: indices must be 0-d or 1-d (got %d dims)", idx->ndim);
  if (!wick_tensor_is_contiguous(out))
    return wick_errorf(WICK_ERR_ARG, "batch_gather: the output must be contiguous");
  if (!wick_dtype_is_float(out->dtype) && (scale != 1.0 || shift != 0.0))
    return wick_errorf(WICK_ERR_DTYPE, "batch_gather: cannot scale into an integer output (%s)",
                       wick_dtype_name(out->dtype));
  int64_t n = src->sizes[0], b = idx->ndim ? idx->sizes[0] : 1;
  int64_t row = 1;
  for (int d = 1; d < src->ndim; d++) row *= src->sizes[d];
  if (wick_tensor_numel(out) != b * row) {
    char ss[128], os[128];
    wick_shape_str(src->ndim, src->sizes, ss, sizeof ss);
    wick_shape_str(out->ndim, out->sizes, os, sizeof os);
    return wick_errorf(WICK_ERR_SHAPE, "batch_gather: output %s cannot hold %lld rows of samples %s",
                       os, (long long)b, ss);
  }
  int64_t stack_rows[256];
  int64_t *rows = b <= 256 ? stack_rows : NULL;
  wick_tensor *scratch = NULL;
  if (!rows) {
    int64_t sz = b;
    WICK_TRY(wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 1, &sz, &scratch));
    rows = wick_tensor_data(scratch);
  }
  for (int64_t i = 0; i < b; i++) {
    int64_t r = load_index(idx, i);
    if (r < -n || r >= n) {
      wick_tensor_release(scratch);
      return wick_errorf(WICK_ERR_INDEX, "index %lld is out of range for %lld samples", (long long)r,
                         (long long)n);
    }
    rows[i] = r < 0 ? r + n : r;
  }
  wick_tensor *c = NULL;
  wick_status s = wick_contiguous(src, &c);
  if (s == WICK_OK) {
    gather_rows(c, rows, b, row, scale, shift, out);
    wick_tensor_bump_version(out);
  }
  wick_tensor_release(c);
  wick_tensor_release(scratch);
  return s;
}
