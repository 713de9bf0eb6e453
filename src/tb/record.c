/* TFRecord framing (record.h). A record is built whole in memory and written with one write(),
 * so a crash leaves at most a torn tail, never a torn record followed by valid ones. */
#include "tb/record.h"

#include <string.h>

#include "tb/crc32c.h"
#include "tb/proto.h"

void wick_tb_record_frame(uint8_t *out, const uint8_t *payload, size_t n) {
  wick_put_le64(out, (uint64_t)n);
  wick_put_le32(out + 8, wick_crc32c_mask(wick_crc32c(0, out, 8)));
  memcpy(out + 12, payload, n);
  wick_put_le32(out + 12 + n, wick_crc32c_mask(wick_crc32c(0, payload, n)));
}

static uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t wick_tb_records_scan(const uint8_t *data, size_t n, size_t *valid_bytes) {
  size_t off = 0, count = 0;
  while (n - off >= WICK_TB_RECORD_OVERHEAD) {
    const uint8_t *p = data + off;
    uint64_t len = (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
    if (get_le32(p + 8) != wick_crc32c_mask(wick_crc32c(0, p, 8))) break;
    if (len > n - off - WICK_TB_RECORD_OVERHEAD) break;
    if (get_le32(p + 12 + len) != wick_crc32c_mask(wick_crc32c(0, p + 12, (size_t)len))) break;
    off += WICK_TB_RECORD_OVERHEAD + (size_t)len;
    count++;
  }
  if (valid_bytes) *valid_bytes = off;
  return count;
}
