// Prefix sums and products along one dim (cumsum, cumprod), as src/cpu/cumulative.c: f16/bf16
// accumulate in float, f32/f64 in double, integers in int64 (wrapping). Lines whose scanned
// dim is the fastest in memory and long get a block each (cub::BlockScan over 256-element
// tiles with a running carry; a few very long lines are split into parts scanned in three
// passes); otherwise a thread scans each line, so neighbouring threads read neighbouring lines
// (cumsum(0) of [N, C]).
#include <cub/block/block_scan.cuh>

#include <type_traits>

#include "common.cuh"

template <int DT> struct SAcc {
  typedef typename std::conditional<
      Tr<DT>::is_float,
      typename std::conditional<DT == WICK_DTYPE_F16 || DT == WICK_DTYPE_BF16, float, double>::type,
      int64_t>::type A;
};

template <typename A> struct ScanOp {
  bool prod;
  __device__ __forceinline__ A operator()(const A &x, const A &y) const { return prod ? x * y : x + y; }
};
template <> struct ScanOp<int64_t> { // wrapping, without signed-overflow UB
  bool prod;
  __device__ __forceinline__ int64_t operator()(const int64_t &x, const int64_t &y) const {
    return (int64_t)(prod ? (uint64_t)x * (uint64_t)y : (uint64_t)x + (uint64_t)y);
  }
};

template <typename A> __device__ __forceinline__ void s_store(char *p, int odt, A v) {
  if (std::is_same<A, int64_t>::value) wk_store_i(p, odt, (int64_t)v);
  else wk_store_f(p, odt, (double)v);
}

struct SGeom {
  Geom<2> lines; // the other dims: operand 0 input, 1 output
  int64_t n, as, os; // length and element strides along dim
  int osize, odt;
};

template <int DT>
__global__ void scan_lines(const typename Tr<DT>::S *in, char *out, SGeom g, bool prod) {
  typedef typename SAcc<DT>::A A;
  ScanOp<A> f{prod};
  int64_t nl = g.lines.numel, step = (int64_t)gridDim.x * blockDim.x;
  for (int64_t l = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; l < nl; l += step) {
    int64_t off[2];
    wk_offsets<2, uint64_t>(g.lines, (uint64_t)l, off);
    const typename Tr<DT>::S *p = in + off[0];
    char *o = out + off[1] * g.osize;
    A acc = prod ? (A)1 : (A)0;
    for (int64_t k = 0; k < g.n; k++) {
      acc = f(acc, (A)Tr<DT>::ld(p[k * g.as]));
      s_store<A>(o + k * g.os * g.osize, g.odt, acc);
    }
  }
}

#define SCAN_THREADS 256

// Block (line = blockIdx.x, part = blockIdx.y) scans elements [part * chunk, ...) of its line
// in tiles. With carries (the third pass of a split line) the running value starts from the
// part's carry-in; with totals (the first pass) nothing is stored but the part's total.
template <int DT>
__global__ void scan_block(const typename Tr<DT>::S *in, char *out, SGeom g, bool prod, int64_t chunk,
                           const typename SAcc<DT>::A *carries, typename SAcc<DT>::A *totals) {
  typedef typename SAcc<DT>::A A;
  typedef cub::BlockScan<A, SCAN_THREADS> Scan;
  __shared__ typename Scan::TempStorage tmp;
  ScanOp<A> f{prod};
  int64_t off[2];
  wk_offsets<2, uint64_t>(g.lines, (uint64_t)blockIdx.x, off);
  const typename Tr<DT>::S *p = in + off[0];
  char *o = out + off[1] * g.osize;
  int64_t part = (int64_t)blockIdx.x * gridDim.y + blockIdx.y;
  int64_t k0 = (int64_t)blockIdx.y * chunk, k1 = k0 + chunk < g.n ? k0 + chunk : g.n;
  A carry = carries ? carries[part] : (prod ? (A)1 : (A)0);
  for (int64_t base = k0; base < k1; base += SCAN_THREADS) {
    int64_t k = base + threadIdx.x;
    A x = k < k1 ? (A)Tr<DT>::ld(p[k * g.as]) : (prod ? (A)1 : (A)0);
    A y, total;
    Scan(tmp).InclusiveScan(x, y, f, total);
    y = f(carry, y);
    if (!totals && k < k1) s_store<A>(o + k * g.os * g.osize, g.odt, y);
    carry = f(carry, total);
    __syncthreads(); // tmp is reused by the next tile
  }
  if (totals && threadIdx.x == 0) totals[part] = carry;
}

// Second pass of a split line: carries[i] = the combination of totals[0 .. i) of its line.
template <typename A>
__global__ void scan_carries(const A *totals, A *carries, int64_t lines, int64_t parts, bool prod) {
  int64_t l = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (l >= lines) return;
  ScanOp<A> f{prod};
  A c = prod ? (A)1 : (A)0;
  for (int64_t i = 0; i < parts; i++) {
    carries[l * parts + i] = c;
    c = f(c, totals[l * parts + i]);
  }
}

template <int DT>
static wick_status run_cumulative(const wick_kview *out, const wick_kview *a, int dim, int prod,
                                  cudaStream_t s) {
  typedef typename Tr<DT>::S S;
  SGeom g;
  g.osize = (int)wick_dtype_size((wick_dtype)out->dtype);
  g.odt = out->dtype;
  wick_kview v[2] = {*a, *out};
  if (a->ndim == 0) { // a 0-d tensor is its own prefix
    g.n = 1; g.as = 0; g.os = 0;
    v[0].ndim = v[1].ndim = 0;
  } else {
    g.n = a->sizes[dim];
    g.as = a->strides[dim];
    g.os = out->strides[dim];
    for (int o = 0; o < 2; o++) {
      const wick_kview *t = o ? out : a;
      v[o].ndim = 0;
      for (int d = 0; d < a->ndim; d++) {
        if (d == dim) continue;
        v[o].sizes[v[o].ndim] = a->sizes[d];
        v[o].strides[v[o].ndim] = t->strides[d];
        v[o].ndim++;
      }
    }
  }
  const wick_kview *all[2] = {&v[0], &v[1]};
  g.lines = wk_geom<2>(all);
  if (g.lines.numel == 0 || g.n == 0) return WICK_OK;
  int last = g.lines.ndim - 1;
  int64_t ls = g.lines.strides[0][last] < 0 ? -g.lines.strides[0][last] : g.lines.strides[0][last];
  int64_t as = g.as < 0 ? -g.as : g.as;
  bool inner = g.lines.numel == 1 || g.lines.sizes[last] == 1 || as < ls;
  typedef typename SAcc<DT>::A A;
  if (inner && g.n >= 128 && g.lines.numel <= 2147483647) {
    // long lines and too few of them to fill the GPU: split each line into parts (a pass for
    // the parts' totals, one for their carries, one scanning each part from its carry)
    int64_t resident = (int64_t)wk_sm_count(a->device) * 8, parts = 1;
    if (g.lines.numel < resident && g.n >= 16 * SCAN_THREADS) {
      parts = resident / g.lines.numel;
      if (parts > g.n / (8 * SCAN_THREADS)) parts = g.n / (8 * SCAN_THREADS);
      if (parts > 65535) parts = 65535;
    }
    int64_t chunk = (g.n + parts - 1) / parts;
    parts = (g.n + chunk - 1) / chunk;
    dim3 grid((unsigned)g.lines.numel, (unsigned)parts);
    if (parts == 1) {
      scan_block<DT><<<grid, SCAN_THREADS, 0, s>>>((const S *)a->data, (char *)out->data, g, prod != 0,
                                                   chunk, nullptr, nullptr);
      return wick_cuda_launch_check(prod ? "cumprod" : "cumsum");
    }
    size_t nb = (size_t)(g.lines.numel * parts) * sizeof(A);
    A *tot = (A *)wick_cuda_alloc(2 * nb, a->device);
    if (!tot) return wick_errorf(WICK_ERR_OOM, "%s: out of CUDA memory for partial sums", prod ? "cumprod" : "cumsum");
    A *car = tot + g.lines.numel * parts;
    scan_block<DT><<<grid, SCAN_THREADS, 0, s>>>((const S *)a->data, (char *)out->data, g, prod != 0,
                                                 chunk, nullptr, tot);
    wick_status st = wick_cuda_launch_check(prod ? "cumprod" : "cumsum");
    if (!st) {
      scan_carries<A><<<(unsigned)((g.lines.numel + 127) / 128), 128, 0, s>>>(tot, car, g.lines.numel,
                                                                                parts, prod != 0);
      st = wick_cuda_launch_check(prod ? "cumprod" : "cumsum");
    }
    if (!st) {
      scan_block<DT><<<grid, SCAN_THREADS, 0, s>>>((const S *)a->data, (char *)out->data, g, prod != 0,
                                                   chunk, car, nullptr);
      st = wick_cuda_launch_check(prod ? "cumprod" : "cumsum");
    }
    wick_cuda_free(tot, 2 * nb, a->device);
    return st;
  } else {
    scan_lines<DT><<<WK_GRID(scan_lines<DT>, g.lines.numel, 128, a->device), 128, 0, s>>>(
        (const S *)a->data, (char *)out->data, g, prod != 0);
  }
  return wick_cuda_launch_check(prod ? "cumprod" : "cumsum");
}

extern "C" wick_status wick_k_cumulative(const wick_kview *out, const wick_kview *a, int dim, int prod,
                                         cudaStream_t s) {
  return WK_DISPATCH(a->dtype, run_cumulative, out, a, dim, prod, s);
}
