/* Image tensors to 8-bit HWC pixels, as PyTorch's summary.image prepares them for PNG. */
#ifndef WICK_TB_IMAGE_H
#define WICK_TB_IMAGE_H

#include <stdint.h>

#include "core/tensor.h"

/* dataformats: a permutation of "CHW"/"HWC"/"HW"/"NCHW"/"NHWC"... matching t's rank. 2-D and
 * 1-channel images become RGB; 4-D batches are tiled 8 per row (black fill, 1 or 3 channels);
 * u8 is taken as is, any other dtype is scaled by 255, clipped to [0, 255] and truncated.
 * ncols (0 = 8) sets the images per row of a batch; square pads the canvas with black rows to a
 * square (the projector's sprite). *pixels is malloc'ed, h x w x c. */
wick_status wick_tb_image_hwc(const char *op, const wick_tensor *t, const char *dataformats,
                              int ncols, int square, uint8_t **pixels, int64_t *h, int64_t *w,
                              int *c);

#endif
