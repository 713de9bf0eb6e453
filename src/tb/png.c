/* PNG encoder (png.h): signature, IHDR, one IDAT (zlib stream), IEND; chunk CRCs are CRC-32
 * from zlib (not the CRC-32C of the records). */
#include "tb/png.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Writes one chunk at p (12 + n bytes); returns the bytes written. */
static size_t chunk(uint8_t *p, const char *type, const uint8_t *data, size_t n) {
  put_be32(p, (uint32_t)n);
  memcpy(p + 4, type, 4);
  if (n) memcpy(p + 8, data, n);
  put_be32(p + 8 + n, (uint32_t)crc32(0L, p + 4, (uInt)(n + 4)));
  return 12 + n;
}

wick_status wick_png_encode(const uint8_t *pixels, int64_t h, int64_t w, int c, uint8_t **out,
                            size_t *n) {
  static const uint8_t color_type[5] = {0, 0, 4, 2, 6};
  *out = NULL;
  if (c < 1 || c > 4) return wick_errorf(WICK_ERR_ARG, "png: %d channels (expected 1 to 4)", c);
  if (h < 1 || w < 1 || h > 65535 || w > 65535)
    return wick_errorf(WICK_ERR_ARG, "png: image size %lldx%lld out of range (1 to 65535)", (long long)h, (long long)w);
  size_t row = (size_t)w * (size_t)c, raw_n = (size_t)h * (row + 1);
  uint8_t *raw = malloc(raw_n);
  uLongf zn = compressBound((uLong)raw_n);
  uint8_t *buf = malloc(8 + 25 + 12 + zn + 12);
  if (!raw || !buf) {
    free(raw);
    free(buf);
    return wick_errorf(WICK_ERR_OOM, "png: out of memory for a %lldx%lld image", (long long)h, (long long)w);
  }
  for (int64_t y = 0; y < h; y++) {
    raw[(size_t)y * (row + 1)] = 0; /* filter type None */
    memcpy(raw + (size_t)y * (row + 1) + 1, pixels + (size_t)y * row, row);
  }
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  memcpy(buf, sig, 8);
  uint8_t ihdr[13];
  put_be32(ihdr, (uint32_t)w);
  put_be32(ihdr + 4, (uint32_t)h);
  ihdr[8] = 8;
  ihdr[9] = color_type[c];
  ihdr[10] = ihdr[11] = ihdr[12] = 0;
  size_t off = 8 + chunk(buf + 8, "IHDR", ihdr, 13);
  /* compress straight into the IDAT body: 8 bytes of chunk header reserved before it */
  int zs = compress2(buf + off + 8, &zn, raw, (uLong)raw_n, 6);
  free(raw);
  if (zs != Z_OK) {
    free(buf);
    return wick_errorf(WICK_ERR_OOM, "png: zlib compression failed (%d)", zs);
  }
  put_be32(buf + off, (uint32_t)zn);
  memcpy(buf + off + 4, "IDAT", 4);
  put_be32(buf + off + 8 + zn, (uint32_t)crc32(0L, buf + off + 4, (uInt)(zn + 4)));
  off += 12 + zn;
  off += chunk(buf + off, "IEND", NULL, 0);
  *out = buf;
  *n = off;
  return WICK_OK;
}
