/* CRC-32C of a tensor's data (checksum.h): one pass over a contiguous tensor, else element by
 * element in row-major order. */
#include "io/checksum.h"

#include "core/dtype.h"
#include "tb/crc32c.h"

wick_status wick_tensor_crc32c(const wick_tensor *t, uint32_t *out) {
  if (t->device.type != WICK_DEVICE_CPU)
    return wick_errorf(WICK_ERR_DEVICE, "crc32c: expected a CPU tensor");
  size_t es = wick_dtype_size(t->dtype);
  int64_t n = wick_tensor_numel(t);
  const char *base = wick_tensor_data(t);
  if (wick_tensor_is_contiguous(t)) {
    *out = wick_crc32c(0, base, (size_t)n * es);
    return WICK_OK;
  }
  uint32_t crc = 0;
  int64_t idx[WICK_MAX_DIMS] = {0};
  for (int64_t k = 0; k < n; k++) {
    int64_t off = 0;
    for (int d = 0; d < t->ndim; d++) off += idx[d] * t->strides[d];
    crc = wick_crc32c(crc, base + off * (int64_t)es, es);
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++idx[d] < t->sizes[d]) break;
      idx[d] = 0;
    }
  }
  *out = crc;
  return WICK_OK;
}
