/* The strided iterator behind every CPU elementwise kernel. */
#include "iter.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int wick_num_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void wick_iter_init(wick_iter *it, int nops, const wick_tensor *const *ts) {
  const wick_tensor *t0 = ts[0];
  it->nops = nops;
  it->numel = wick_tensor_numel(t0);
  int nd = 0;
  /* drop size-1 dims, then merge neighbours that are contiguous for all operands */
  for (int d = 0; d < t0->ndim; d++) {
    if (t0->sizes[d] == 1) continue;
    it->sizes[nd] = t0->sizes[d];
    for (int k = 0; k < nops; k++)
      it->strides[k][nd] = ts[k]->strides[d] * (int64_t)wick_dtype_size(ts[k]->dtype);
    if (nd > 0) {
      int merge = 1;
      for (int k = 0; k < nops && merge; k++)
        merge = it->strides[k][nd - 1] == it->strides[k][nd] * it->sizes[nd];
      if (merge) {
        it->sizes[nd - 1] *= it->sizes[nd];
        for (int k = 0; k < nops; k++) it->strides[k][nd - 1] = it->strides[k][nd];
        continue;
      }
    }
    nd++;
  }
  if (nd == 0) {
    it->sizes[0] = 1;
    for (int k = 0; k < nops; k++) it->strides[k][0] = 0;
    nd = 1;
  }
  it->ndim = nd;
  for (int k = 0; k < nops; k++) it->data[k] = (char *)wick_tensor_data(ts[k]);
}

/* Runs elements [begin, end) of the flattened index space. */
static void run_range(const wick_iter *it, wick_inner_fn fn, void *ctx, int64_t begin, int64_t end) {
  int nd = it->ndim, nops = it->nops;
  int64_t inner = it->sizes[nd - 1];
  int64_t idx[WICK_MAX_DIMS];
  int64_t rem = begin;
  for (int d = nd - 1; d >= 0; d--) {
    idx[d] = rem % it->sizes[d];
    rem /= it->sizes[d];
  }
  char *ptr[WICK_ITER_MAX_OPS];
  int64_t istr[WICK_ITER_MAX_OPS];
  for (int k = 0; k < nops; k++) {
    ptr[k] = it->data[k];
    for (int d = 0; d < nd; d++) ptr[k] += idx[d] * it->strides[k][d];
    istr[k] = it->strides[k][nd - 1];
  }
  int64_t pos = begin;
  while (pos < end) {
    int64_t n = inner - idx[nd - 1];
    if (n > end - pos) n = end - pos;
    fn(ptr, istr, n, ctx);
    pos += n;
    if (pos >= end) break;
    /* advance to the start of the next row */
    for (int k = 0; k < nops; k++) ptr[k] += (n - 0) * istr[k];
    idx[nd - 1] += n;
    for (int d = nd - 1; d > 0 && idx[d] == it->sizes[d]; d--) {
      idx[d] = 0;
      idx[d - 1]++;
      for (int k = 0; k < nops; k++)
        ptr[k] += it->strides[k][d - 1] - it->sizes[d] * it->strides[k][d];
    }
  }
}

void wick_iter_run(const wick_iter *it, wick_inner_fn fn, void *ctx, int work_per_elem) {
  int64_t n = it->numel;
  if (n == 0) return;
#ifdef _OPENMP
  int nt = omp_get_max_threads();
  if (nt > 1 && n * (work_per_elem > 0 ? work_per_elem : 1) >= WICK_GRAIN && !omp_in_parallel()) {
    int64_t chunks = nt;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
      int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
      if (b < e) run_range(it, fn, ctx, b, e);
    }
    return;
  }
#endif
  run_range(it, fn, ctx, 0, n);
}
