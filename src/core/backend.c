/* The device table. The CPU row is always present; CUDA registers itself when built. */
#include "backend.h"

static const wick_backend *rows[WICK_DEVICE_TYPE_COUNT] = {&wick_cpu_backend};

const wick_backend *wick_backend_get(int device_type) {
  if (device_type < 0 || device_type >= WICK_DEVICE_TYPE_COUNT) return NULL;
  return rows[device_type];
}

void wick_backend_register(int device_type, const wick_backend *b) {
  if (device_type > 0 && device_type < WICK_DEVICE_TYPE_COUNT) rows[device_type] = b;
}

wick_status wick_backend_for(const char *op, wick_device dev, const wick_backend **out) {
  *out = wick_backend_get(dev.type);
  if (!*out) return wick_errorf(WICK_ERR_DEVICE, "%s: wick was built without CUDA", op);
  return WICK_OK;
}
