/* TFRecord framing: u64le length, masked CRC-32C of the length, payload, masked CRC-32C of it. */
#ifndef WICK_TB_RECORD_H
#define WICK_TB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define WICK_TB_RECORD_OVERHEAD 16

/* Writes the framed record (n + 16 bytes) into out. */
void wick_tb_record_frame(uint8_t *out, const uint8_t *payload, size_t n);

/* Walks the records of an event file held in memory. Returns the number of complete records
 * whose both CRCs match, stopping at the first bad or incomplete one; *valid_bytes is where
 * that prefix ends (== n when the whole buffer is well formed). */
size_t wick_tb_records_scan(const uint8_t *data, size_t n, size_t *valid_bytes);

#endif
