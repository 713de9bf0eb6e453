/* A minimal PNG encoder (8-bit gray, gray+alpha, RGB, RGBA; filter 0; zlib deflate). */
#ifndef WICK_TB_PNG_H
#define WICK_TB_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Encodes h x w pixels of c (1..4) interleaved channels, rows top to bottom. *out is malloc'ed. */
wick_status wick_png_encode(const uint8_t *pixels, int64_t h, int64_t w, int c, uint8_t **out,
                            size_t *n);

#endif
