/* A read-only ZIP archive reader (stored and deflated members, ZIP64 sizes and offsets) for
 * PyTorch's .pt/.pth files. The whole file is read into memory; every offset is checked. */
#ifndef WICK_ZIP_H
#define WICK_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct wick_zip wick_zip;

/* Opens and indexes path; errors name `op` (e.g. "load_torch") and the file. */
wick_status wick_zip_open(const char *op, const char *path, wick_zip **out);
void wick_zip_free(wick_zip *z); /* NULL is fine */

size_t wick_zip_count(const wick_zip *z);
const char *wick_zip_name(const wick_zip *z, size_t i); /* NUL-terminated, owned by z */
/* Index of the member named `name`, or -1. */
long wick_zip_find(const wick_zip *z, const char *name);

/* The bytes of member i (CRC-checked). *data points into z for stored members; deflated ones
 * are inflated into *owned (malloc'd, free it; NULL for stored members). */
wick_status wick_zip_read(wick_zip *z, size_t i, const uint8_t **data, size_t *len, void **owned);

#endif
