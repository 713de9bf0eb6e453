/* Histogram bucketing (histogram.h), following torch/utils/tensorboard/summary.py make_histogram
 * so that buckets and limits equal PyTorch's bit for bit for the same float64 values. */
#include "tb/histogram.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static double tf_edges[1549];
static size_t tf_nedges;
static pthread_once_t tf_once = PTHREAD_ONCE_INIT;

static void tf_init(void) {
  double pos[800];
  size_t k = 0;
  for (double v = 1e-12; v < 1e20; v *= 1.1) pos[k++] = v;
  size_t n = 0;
  for (size_t i = k; i-- > 0;) tf_edges[n++] = -pos[i];
  tf_edges[n++] = 0.0;
  for (size_t i = 0; i < k; i++) tf_edges[n++] = pos[i];
  tf_nedges = n;
}

const double *wick_tb_default_edges(size_t *n) {
  pthread_once(&tf_once, tf_init);
  *n = tf_nedges;
  return tf_edges;
}

void wick_tb_uniform_edges(double lo, double hi, size_t nbins, double *edges) {
  if (lo == hi) { lo -= 0.5; hi += 0.5; }
  double step = (hi - lo) / (double)nbins; /* numpy.linspace: start + i*step, last = stop */
  for (size_t i = 0; i < nbins; i++) edges[i] = lo + (double)i * step;
  edges[nbins] = hi;
}

/* Number of edges < x (side "left") or <= x (side "right"). */
static size_t search(const double *e, size_t n, double x, int right) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (right ? e[mid] <= x : e[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

wick_status wick_tb_histogram(const char *op, const double *values, size_t n, const double *edges,
                              size_t nedges, size_t max_bins, wick_tb_histo *h, double **storage) {
  *storage = NULL;
  if (n == 0) return wick_errorf(WICK_ERR_ARG, "%s: the input has no element", op);
  if (nedges < 2) return wick_errorf(WICK_ERR_ARG, "%s: bins need at least 2 edges (got %zu)", op, nedges);
  for (size_t i = 0; i + 1 < nedges; i++)
    if (!(edges[i] < edges[i + 1]))
      return wick_errorf(WICK_ERR_ARG, "%s: bin edges must increase strictly (edge %zu = %g, edge %zu = %g)",
                         op, i, edges[i], i + 1, edges[i + 1]);
  size_t nb = nedges - 1;
  double *buf = calloc(3 * nedges + 2, sizeof(double));
  if (!buf) return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op);
  double *counts = buf, *limits = buf + nedges + 1;
  double mn = INFINITY, mx = -INFINITY, sum = 0, sq = 0;
  for (size_t i = 0; i < n; i++) {
    double v = values[i];
    if (isnan(v)) {
      free(buf);
      return wick_errorf(WICK_ERR_ARG, "%s: values contain NaN (at index %zu)", op, i);
    }
    if (v < mn) mn = v;
    if (v > mx) mx = v;
    sum += v;
    sq += v * v;
    if (v < edges[0] || v > edges[nb]) continue;
    size_t b = search(edges, nedges, v, 1); /* edges <= v: bin b-1 is [e[b-1], e[b]) */
    if (b > nb) b = nb;                      /* v == last edge: the closed last bin */
    counts[b - 1] += 1;
  }
  for (size_t i = 0; i < nedges; i++) limits[i] = edges[i];
  if (max_bins && nb > max_bins) { /* merge groups of nb / max_bins bins, padding with zeros */
    size_t g = nb / max_bins, m = (nb + g - 1) / g;
    for (size_t j = 0; j < m; j++) {
      double c = 0;
      for (size_t k = j * g; k < (j + 1) * g && k < nb; k++) c += counts[k];
      counts[j] = c;
      limits[j] = edges[j * g];
    }
    limits[m] = edges[nb];
    nb = m;
  }
  size_t start = nb, end = 0;
  for (size_t i = 0; i < nb; i++)
    if (counts[i] > 0) {
      if (start == nb) start = i;
      end = i;
    }
  if (start == nb) {
    free(buf);
    return wick_errorf(WICK_ERR_ARG, "%s: the histogram is empty (no value lies within the bins [%g, %g])",
                       op, edges[0], edges[nedges - 1]);
  }
  end += 1;
  /* counts[start-1 : end] (or [0] + counts[:end]) with limits[start : end + 1] */
  double *oc = buf + 2 * nedges + 1;
  size_t k = 0;
  if (start > 0) {
    for (size_t i = start - 1; i < end; i++) oc[k++] = counts[i];
  } else {
    oc[k++] = 0;
    for (size_t i = 0; i < end; i++) oc[k++] = counts[i];
  }
  memmove(limits, limits + start, (end + 1 - start) * sizeof(double));
  h->n = end + 1 - start;
  if (k < h->n) h->n = k;
  h->min = mn;
  h->max = mx;
  h->num = (double)n;
  h->sum = sum;
  h->sum_squares = sq;
  h->limits = limits;
  h->counts = oc;
  *storage = buf;
  return WICK_OK;
}

wick_status wick_tb_values_f64(const char *op, const wick_tensor *t, double **out, size_t *n) {
  *out = NULL;
  if (t->device.type != WICK_DEVICE_CPU) return wick_errorf(WICK_ERR_DEVICE, "%s: expected a CPU tensor", op);
  int64_t numel = wick_tensor_numel(t);
  double *v = malloc((size_t)(numel ? numel : 1) * sizeof(double));
  if (!v) return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op);
  size_t es = wick_dtype_size(t->dtype);
  const char *base = (const char *)t->storage->data;
  int64_t idx[WICK_MAX_DIMS] = {0};
  for (int64_t i = 0; i < numel; i++) {
    int64_t off = t->offset;
    for (int d = 0; d < t->ndim; d++) off += idx[d] * t->strides[d];
    v[i] = wick_load_f64(base + (size_t)off * es, t->dtype);
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++idx[d] < t->sizes[d]) break;
      idx[d] = 0;
    }
  }
  *out = v;
  *n = (size_t)numel;
  return WICK_OK;
}
