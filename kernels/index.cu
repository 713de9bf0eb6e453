// Indexing kernels: "take" (index_select and gather: out[i] = a[i + idx[i] * sd]) and
// scatter (assign / add), as src/cpu/index.c. Indices arrive range-checked by core. Scatter
// gives a thread to each index row (all coordinates but dim) and walks dim inside it: two rows
// never write one element, and duplicates within a row apply in order, so the result is
// deterministic and equal to the CPU's (the last duplicate wins; sums add in order). When an
// add has too few rows to fill the GPU (index_add_ of embedding gradients: rows = D, dim = N
// tokens) every element gets a thread and adds atomically, as PyTorch does: integer sums are
// still exact; float sums may round differently in the last bits from run to run.
#include "common.cuh"

template <typename E>
__global__ void take_kernel(E *out, const E *a, const int64_t *idx, int64_t sd, Geom<3> g) {
  int64_t n = g.numel, step = (int64_t)gridDim.x * blockDim.x;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[3];
    if (n <= (int64_t)UINT32_MAX) wk_offsets<3, uint32_t>(g, (uint32_t)i, off);
    else wk_offsets<3, uint64_t>(g, (uint64_t)i, off);
    out[off[0]] = a[off[1] + idx[off[2]] * sd];
  }
}

template <typename E>
static void launch_take(const wick_kview *out, const wick_kview *a, const wick_kview *idx, int64_t sd,
                        const Geom<3> &g, cudaStream_t s) {
  take_kernel<E><<<WK_GRID(take_kernel<E>, g.numel, 256, out->device), 256, 0, s>>>(
      (E *)out->data, (const E *)a->data, (const int64_t *)idx->data, sd, g);
}

extern "C" wick_status wick_k_take(const wick_kview *out, const wick_kview *a, const wick_kview *idx,
                                   int64_t sd, cudaStream_t s) {
  const wick_kview *all[3] = {out, a, idx};
  Geom<3> g = wk_geom<3>(all);
  if (g.numel == 0) return WICK_OK;
  switch (wick_dtype_size((wick_dtype)out->dtype)) {
    case 1: launch_take<uint8_t>(out, a, idx, sd, g, s); break;
    case 2: launch_take<uint16_t>(out, a, idx, sd, g, s); break;
    case 4: launch_take<uint32_t>(out, a, idx, sd, g, s); break;
    default: launch_take<uint64_t>(out, a, idx, sd, g, s); break;
  }
  return wick_cuda_launch_check("index");
}

// ---- scatter: g covers the rows (operands 0 idx, 1 src, 2 dst); k elements along dim
struct ScDim { int64_t k, kst_idx, kst_src, dsd; };

template <int DT>
__global__ void scatter_kernel(typename Tr<DT>::S *dst, const int64_t *idx, const typename Tr<DT>::S *src,
                               Geom<3> g, ScDim d, int add) {
  int64_t rows = g.numel, step = (int64_t)gridDim.x * blockDim.x;
  for (int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += step) {
    int64_t off[3];
    wk_offsets<3, uint64_t>(g, (uint64_t)r, off);
    const int64_t *ip = idx + off[0];
    const typename Tr<DT>::S *sp = src + off[1];
    typename Tr<DT>::S *dp = dst + off[2];
    for (int64_t k = 0; k < d.k; k++) {
      typename Tr<DT>::S *x = dp + ip[k * d.kst_idx] * d.dsd;
      typename Tr<DT>::S y = sp[k * d.kst_src];
      *x = add ? Tr<DT>::st(Tr<DT>::ld(*x) + Tr<DT>::ld(y)) : y;
    }
  }
}

// atomicAdd for the dtypes that have one (bytes have none: those stay on the row kernel).
template <int DT> struct ScAtomic { enum { ok = 0 }; static __device__ void add(void *, typename Tr<DT>::S) {} };
template <> struct ScAtomic<WICK_DTYPE_I32> {
  enum { ok = 1 };
  static __device__ void add(int32_t *x, int32_t y) { atomicAdd((unsigned *)x, (unsigned)y); }
};
template <> struct ScAtomic<WICK_DTYPE_I64> {
  enum { ok = 1 };
  static __device__ void add(int64_t *x, int64_t y) {
    atomicAdd((unsigned long long *)x, (unsigned long long)y);
  }
};
template <> struct ScAtomic<WICK_DTYPE_F16> {
  enum { ok = 1 };
  static __device__ void add(uint16_t *x, uint16_t y) { atomicAdd((__half *)x, __ushort_as_half(y)); }
};
template <> struct ScAtomic<WICK_DTYPE_BF16> {
  enum { ok = 1 };
  static __device__ void add(uint16_t *x, uint16_t y) {
    atomicAdd((__nv_bfloat16 *)x, __ushort_as_bfloat16(y));
  }
};
template <> struct ScAtomic<WICK_DTYPE_F32> {
  enum { ok = 1 };
  static __device__ void add(float *x, float y) { atomicAdd(x, y); }
};
template <> struct ScAtomic<WICK_DTYPE_F64> {
  enum { ok = 1 };
  static __device__ void add(double *x, double y) { atomicAdd(x, y); }
};

// Thread per (row, k): neighbouring threads take neighbouring rows.
template <int DT>
__global__ void scatter_add_atomic(typename Tr<DT>::S *dst, const int64_t *idx,
                                   const typename Tr<DT>::S *src, Geom<3> g, ScDim d) {
  int64_t rows = g.numel, n = rows * d.k, step = (int64_t)gridDim.x * blockDim.x;
  for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
    int64_t k = e / rows, r = e - k * rows, off[3];
    wk_offsets<3, uint64_t>(g, (uint64_t)r, off);
    int64_t i = idx[off[0] + k * d.kst_idx];
    ScAtomic<DT>::add(dst + off[2] + i * d.dsd, src[off[1] + k * d.kst_src]);
  }
}

template <int DT>
static wick_status run_scatter(const wick_kview *dst, int dim, const wick_kview *idx, const wick_kview *src,
                               int reduce, cudaStream_t s) {
  // views of the three operands without dim, over idx's sizes
  wick_kview v[3];
  const wick_kview *ops[3] = {idx, src, dst};
  for (int o = 0; o < 3; o++) {
    v[o] = *ops[o];
    v[o].ndim = 0;
    for (int d = 0; d < idx->ndim; d++) {
      if (d == dim) continue;
      v[o].sizes[v[o].ndim] = idx->sizes[d];
      v[o].strides[v[o].ndim] = ops[o]->strides[d];
      v[o].ndim++;
    }
  }
  const wick_kview *all[3] = {&v[0], &v[1], &v[2]};
  Geom<3> g = wk_geom<3>(all);
  ScDim d;
  d.k = idx->ndim ? idx->sizes[dim] : 1;
  d.kst_idx = idx->ndim ? idx->strides[dim] : 0;
  d.kst_src = src->ndim ? src->strides[dim] : 0;
  d.dsd = dst->ndim ? dst->strides[dim] : 0;
  if (g.numel == 0 || d.k == 0) return WICK_OK;
  typedef typename Tr<DT>::S S;
  if (reduce && ScAtomic<DT>::ok && d.k > 1 && g.numel < (int64_t)wk_sm_count(dst->device) * 1024) {
    scatter_add_atomic<DT><<<WK_GRID(scatter_add_atomic<DT>, g.numel * d.k, 256, dst->device), 256, 0, s>>>(
        (S *)dst->data, (const int64_t *)idx->data, (const S *)src->data, g, d);
    return wick_cuda_launch_check("scatter");
  }
  scatter_kernel<DT><<<WK_GRID(scatter_kernel<DT>, g.numel, 128, dst->device), 128, 0, s>>>(
      (S *)dst->data, (const int64_t *)idx->data, (const S *)src->data, g, d, reduce != 0);
  return wick_cuda_launch_check("scatter");
}

extern "C" wick_status wick_k_scatter(const wick_kview *dst, int dim, const wick_kview *idx,
                                      const wick_kview *src, int reduce, cudaStream_t s) {
  return WK_DISPATCH(dst->dtype, run_scatter, dst, dim, idx, src, reduce, s);
}
