/* CRC-32C (Castagnoli) and the masked form that TFRecord framing stores. */
#ifndef WICK_TB_CRC32C_H
#define WICK_TB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC-32C over n bytes: crc = wick_crc32c(0, p, n) for a whole buffer. */
uint32_t wick_crc32c(uint32_t crc, const void *p, size_t n);
/* LevelDB/TensorFlow mask: rotate right by 15, add 0xA282EAD8 (uint32 arithmetic). */
static inline uint32_t wick_crc32c_mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

#endif
