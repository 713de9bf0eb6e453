/* Histogram bucketing as PyTorch's add_histogram does it (make_histogram over np.histogram). */
#ifndef WICK_TB_HISTOGRAM_H
#define WICK_TB_HISTOGRAM_H

#include <stddef.h>

#include "core/status.h"
#include "tb/event.h"

/* The default bins="tensorflow" edges: -1e20..-1e-12, 0, 1e-12..1e20 by factors of 1.1 (1549
 * edges, built by repeated multiplication exactly like PyTorch's SummaryWriter). */
const double *wick_tb_default_edges(size_t *n);
/* numpy.histogram_bin_edges(values, bins=n): n equal bins over [min, max] (±0.5 if equal). */
void wick_tb_uniform_edges(double lo, double hi, size_t nbins, double *edges);

/* Fills h from values and ascending edges (nedges >= 2): np.histogram counts (half-open bins,
 * last one closed, values outside not counted), optional max_bins merging (0 = none), then
 * PyTorch's crop to the support with one empty leading bucket. h->limits/h->counts point into
 * *storage (free it). Raises on empty input, NaN values or a histogram with no counted value. */
wick_status wick_tb_histogram(const char *op, const double *values, size_t n, const double *edges,
                              size_t nedges, size_t max_bins, wick_tb_histo *h, double **storage);

/* All elements of a CPU tensor as float64, in row-major order (*out malloc'ed). */
#include "core/tensor.h"
wick_status wick_tb_values_f64(const char *op, const wick_tensor *t, double **out, size_t *n);

#endif
