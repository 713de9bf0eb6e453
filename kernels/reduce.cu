// Reductions (sum, prod, max, min, argmax, argmin, any, all) over the last nred dims, as the
// CPU backend (src/cpu/reduce.c): f16/bf16 accumulate in float, f32/f64 in double, integers
// in int64 (wrapping); max/min propagate NaN; argmax/argmin return the first extreme (a NaN
// counts as the extreme, the first NaN wins). Two layouts:
//  - rows: the reduced elements of one output are nearest in memory: a group of threads
//    (4..32 lanes, or a whole block for long rows) reduces each row with warp shuffles;
//  - cols: an output dim is nearer than every reduced one (sum(0) of [N, C]): a thread per
//    output walks the reduced elements while neighbouring threads read neighbouring columns.
// With few outputs the reduced range is split into parts (a two-pass reduction): partial
// states go to scratch memory and a second kernel combines them. Every combine is
// order-independent (arg* break ties by index), so the split cannot change which index wins.
#include <math.h>

#include <type_traits>

#include "common.cuh"
#include "cpu/runs.h" // wick_coalesce, wick_iabs: the CPU reduction's geometry

template <int DT> struct RAcc {
  typedef typename std::conditional<
      Tr<DT>::is_float,
      typename std::conditional<DT == WICK_DTYPE_F16 || DT == WICK_DTYPE_BF16, float, double>::type,
      int64_t>::type A;
};

template <typename A> struct RState { A v; int64_t i; };

template <typename A> __device__ __forceinline__ bool r_isnan(A v) { return v != v; }
template <> __device__ __forceinline__ bool r_isnan<int64_t>(int64_t) { return false; }
template <typename A> __device__ __forceinline__ A r_lowest();
template <> __device__ __forceinline__ float r_lowest<float>() { return -INFINITY; }
template <> __device__ __forceinline__ double r_lowest<double>() { return -INFINITY; }
template <> __device__ __forceinline__ int64_t r_lowest<int64_t>() { return INT64_MIN; }
template <typename A> __device__ __forceinline__ A r_highest();
template <> __device__ __forceinline__ float r_highest<float>() { return INFINITY; }
template <> __device__ __forceinline__ double r_highest<double>() { return INFINITY; }
template <> __device__ __forceinline__ int64_t r_highest<int64_t>() { return INT64_MAX; }

template <typename A> __device__ __forceinline__ A r_add(A x, A y) { return x + y; }
template <> __device__ __forceinline__ int64_t r_add<int64_t>(int64_t x, int64_t y) {
  return (int64_t)((uint64_t)x + (uint64_t)y);
}
template <typename A> __device__ __forceinline__ A r_mul(A x, A y) { return x * y; }
template <> __device__ __forceinline__ int64_t r_mul<int64_t>(int64_t x, int64_t y) {
  return (int64_t)((uint64_t)x * (uint64_t)y);
}

template <typename A> __device__ __forceinline__ RState<A> r_init(int op) {
  RState<A> s;
  s.i = INT64_MAX;
  switch (op) {
    case WICK_RED_PROD: case WICK_RED_ALL: s.v = 1; break;
    case WICK_RED_MAX: case WICK_RED_ARGMAX: s.v = r_lowest<A>(); break;
    case WICK_RED_MIN: case WICK_RED_ARGMIN: s.v = r_highest<A>(); break;
    default: s.v = 0; break;
  }
  return s;
}

// Does p beat s for argmax (want_max) / argmin? NaN beats numbers; ties go to the lower index.
template <typename A> __device__ __forceinline__ bool r_better(const RState<A> &p, const RState<A> &s,
                                                               bool want_max) {
  bool pn = r_isnan(p.v), sn = r_isnan(s.v);
  if (pn || sn) return pn && (!sn || p.i < s.i);
  if (p.v == s.v) return p.i < s.i;
  return want_max ? p.v > s.v : p.v < s.v;
}

template <typename A> __device__ __forceinline__ void r_combine(int op, RState<A> &s, const RState<A> &p) {
  switch (op) {
    case WICK_RED_SUM: s.v = r_add(s.v, p.v); break;
    case WICK_RED_PROD: s.v = r_mul(s.v, p.v); break;
    case WICK_RED_MAX: if (!r_isnan(s.v) && (r_isnan(p.v) || p.v > s.v)) s.v = p.v; break;
    case WICK_RED_MIN: if (!r_isnan(s.v) && (r_isnan(p.v) || p.v < s.v)) s.v = p.v; break;
    case WICK_RED_ARGMAX: if (r_better(p, s, true)) s = p; break;
    case WICK_RED_ARGMIN: if (r_better(p, s, false)) s = p; break;
    case WICK_RED_ANY: s.v = (s.v != 0 || p.v != 0) ? 1 : 0; break;
    case WICK_RED_ALL: s.v = (s.v != 0 && p.v != 0) ? 1 : 0; break;
    default: break;
  }
}

template <int DT> __device__ __forceinline__ void r_add_elem(int op, RState<typename RAcc<DT>::A> &s,
                                                             typename Tr<DT>::S x, int64_t k) {
  typedef typename RAcc<DT>::A A;
  RState<A> p;
  A v = (A)Tr<DT>::ld(x);
  p.v = (op == WICK_RED_ANY || op == WICK_RED_ALL) ? (A)(v != 0) : v;
  p.i = k;
  r_combine(op, s, p);
}

template <typename A> __device__ __forceinline__ RState<A> r_shfl(const RState<A> &s, int lane, int width) {
  RState<A> o;
  o.v = __shfl_xor_sync(0xffffffffu, s.v, lane, width);
  o.i = __shfl_xor_sync(0xffffffffu, s.i, lane, width);
  return o;
}

template <typename A> __device__ __forceinline__ void r_store(int op, void *p, int odt, const RState<A> &s) {
  if (op == WICK_RED_ARGMAX || op == WICK_RED_ARGMIN) *(int64_t *)p = s.i;
  else if (op == WICK_RED_ANY || op == WICK_RED_ALL) wk_store_i(p, odt, s.v != 0);
  else if (std::is_same<A, int64_t>::value) wk_store_i(p, odt, (int64_t)s.v);
  else wk_store_f(p, odt, (double)s.v);
}

struct RGeom {
  int nl, nr, osize; // osize: bytes per output element
  int64_t nout, nred, parts, chunk; // chunk: reduced elements per part
  int64_t lsz[WICK_KMAX_DIMS], lstr[WICK_KMAX_DIMS], ostr[WICK_KMAX_DIMS];
  int64_t rsz[WICK_KMAX_DIMS], rstr[WICK_KMAX_DIMS];
};

__device__ __forceinline__ void r_lead(const RGeom &g, int64_t o, int64_t *in_off, int64_t *out_off) {
  int64_t a = 0, b = 0;
  for (int d = g.nl - 1; d >= 0; d--) {
    int64_t r = o % g.lsz[d];
    o /= g.lsz[d];
    a += r * g.lstr[d];
    b += r * g.ostr[d];
  }
  *in_off = a;
  *out_off = b;
}

__device__ __forceinline__ int64_t r_red_off(const RGeom &g, int64_t k) {
  if (g.nr == 1) return k * g.rstr[0];
  int64_t off = 0;
  for (int d = g.nr - 1; d >= 0; d--) {
    off += (k % g.rsz[d]) * g.rstr[d];
    k /= g.rsz[d];
  }
  return off;
}

// OPC >= 0 compiles the kernel for that one op (the hot sum and max fold their switches away);
// OPC < 0 takes the op at run time.
// rows: blockDim = (tx, ty); row = blockIdx.x * ty + threadIdx.y, part = blockIdx.y.
template <int DT, int OPC>
__global__ void red_rows(int op_rt, const typename Tr<DT>::S *in, char *out, int odt, RGeom g,
                         RState<typename RAcc<DT>::A> *partial) {
  typedef typename RAcc<DT>::A A;
  const int op = OPC >= 0 ? OPC : op_rt;
  __shared__ RState<A> sh[32];
  int64_t row = (int64_t)blockIdx.x * blockDim.y + threadIdx.y;
  bool live = row < g.nout;
  int tx = blockDim.x, lane = threadIdx.x;
  RState<A> s = r_init<A>(op);
  int64_t ioff = 0, ooff = 0;
  if (live) {
    r_lead(g, row, &ioff, &ooff);
    int64_t k0 = blockIdx.y * g.chunk, k1 = k0 + g.chunk < g.nred ? k0 + g.chunk : g.nred;
    const typename Tr<DT>::S *base = in + ioff;
    if (g.nr == 1 && g.rstr[0] == 1) {
      int64_t k = k0 + lane;
      for (; k + 3 * tx < k1; k += 4 * tx) { // four loads in flight per thread
        typename Tr<DT>::S x0 = base[k], x1 = base[k + tx], x2 = base[k + 2 * tx], x3 = base[k + 3 * tx];
        r_add_elem<DT>(op, s, x0, k);
        r_add_elem<DT>(op, s, x1, k + tx);
        r_add_elem<DT>(op, s, x2, k + 2 * tx);
        r_add_elem<DT>(op, s, x3, k + 3 * tx);
      }
      for (; k < k1; k += tx) r_add_elem<DT>(op, s, base[k], k);
    } else {
      for (int64_t k = k0 + lane; k < k1; k += tx) r_add_elem<DT>(op, s, base[r_red_off(g, k)], k);
    }
  }
  int width = tx < 32 ? tx : 32;
  for (int m = width / 2; m > 0; m /= 2) r_combine(op, s, r_shfl(s, m, width));
  if (tx > 32) { // one block per row: combine the warps through shared memory
    int w = lane / 32, nw = tx / 32;
    if ((lane & 31) == 0) sh[w] = s;
    __syncthreads();
    if (w == 0) {
      s = (lane < nw) ? sh[lane] : r_init<A>(op);
      for (int m = 16; m > 0; m /= 2) r_combine(op, s, r_shfl(s, m, 32));
    }
  }
  if (!live || lane != 0) return;
  if (partial) partial[row * g.parts + blockIdx.y] = s;
  else r_store(op, out + ooff * g.osize, odt, s);
}

// cols: thread per output (x), part = blockIdx.y.
template <int DT, int OPC>
__global__ void red_cols(int op_rt, const typename Tr<DT>::S *in, char *out, int odt, RGeom g,
                         RState<typename RAcc<DT>::A> *partial) {
  typedef typename RAcc<DT>::A A;
  const int op = OPC >= 0 ? OPC : op_rt;
  int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= g.nout) return;
  int64_t ioff, ooff;
  r_lead(g, o, &ioff, &ooff);
  const typename Tr<DT>::S *base = in + ioff;
  int64_t k0 = blockIdx.y * g.chunk, k1 = k0 + g.chunk < g.nred ? k0 + g.chunk : g.nred;
  RState<A> s = r_init<A>(op);
  if (g.nr == 1) {
    int64_t st = g.rstr[0];
    for (int64_t k = k0; k < k1; k++) r_add_elem<DT>(op, s, base[k * st], k);
  } else {
    for (int64_t k = k0; k < k1; k++) r_add_elem<DT>(op, s, base[r_red_off(g, k)], k);
  }
  if (partial) partial[o * g.parts + blockIdx.y] = s;
  else r_store(op, out + ooff * g.osize, odt, s);
}

template <typename A>
__global__ void red_finish(int op, char *out, int odt, RGeom g, const RState<A> *partial) {
  int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= g.nout) return;
  int64_t ioff, ooff;
  r_lead(g, o, &ioff, &ooff);
  RState<A> s = partial[o * g.parts];
  for (int64_t p = 1; p < g.parts; p++) r_combine(op, s, partial[o * g.parts + p]);
  r_store(op, out + ooff * g.osize, odt, s);
}

// Blocks of `threads` that one SM holds at once for kernel k (1 when the query fails).
template <typename K> static int resident_blocks(K k, int threads) {
  int n = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, k, threads, 0) != cudaSuccess) {
    (void)cudaGetLastError();
    n = 0;
  }
  return n > 0 ? n : 1;
}

template <int DT>
static wick_status run_reduce(int op, const wick_kview *out, const wick_kview *a, int nred, cudaStream_t s) {
  typedef typename RAcc<DT>::A A;
  typedef typename Tr<DT>::S S;
  RGeom g;
  g.osize = (int)wick_dtype_size((wick_dtype)out->dtype);
  int nl = a->ndim - nred;
  g.nout = 1;
  for (int d = 0; d < nl; d++) {
    g.lsz[d] = a->sizes[d];
    g.lstr[d] = a->strides[d];
    g.ostr[d] = out->strides[d];
    g.nout *= a->sizes[d];
  }
  g.nred = 1;
  for (int d = 0; d < nred; d++) {
    g.rsz[d] = a->sizes[nl + d];
    g.rstr[d] = a->strides[nl + d];
    g.nred *= g.rsz[d];
  }
  if (g.nout == 0) return WICK_OK;
  g.nl = wick_coalesce(nl, g.lsz, g.lstr, g.ostr);
  g.nr = wick_coalesce(nred, g.rsz, g.rstr, NULL);
  if (g.nr == 0) { g.nr = 1; g.rsz[0] = 1; g.rstr[0] = 0; }
  int sm = wk_sm_count(a->device);
  bool cols = g.nl > 0 && g.lsz[g.nl - 1] > 1 && g.nred > 1 &&
              wick_iabs(g.lstr[g.nl - 1]) < wick_iabs(g.rstr[g.nr - 1]);
  typedef void (*KFn)(int, const S *, char *, int, RGeom, RState<A> *);
  KFn rows_k = op == WICK_RED_SUM ? (KFn)red_rows<DT, WICK_RED_SUM>
             : op == WICK_RED_MAX ? (KFn)red_rows<DT, WICK_RED_MAX> : (KFn)red_rows<DT, -1>;
  KFn cols_k = op == WICK_RED_SUM ? (KFn)red_cols<DT, WICK_RED_SUM>
             : op == WICK_RED_MAX ? (KFn)red_cols<DT, WICK_RED_MAX> : (KFn)red_cols<DT, -1>;
  // Split the reduced range when the outputs alone cannot fill the GPU: into as many parts as
  // keep the grid within one wave of resident blocks (all blocks then finish together).
  g.parts = 1;
  if (cols) {
    int64_t bx = (g.nout + 255) / 256, resident = (int64_t)sm * resident_blocks(cols_k, 256);
    if (bx < resident && g.nred >= 256) g.parts = resident / bx;
    if (g.parts > g.nred / 64) g.parts = g.nred / 64;
  } else if (g.nred >= 16384) {
    int64_t resident = (int64_t)sm * resident_blocks(rows_k, 512);
    if (g.nout < resident) g.parts = resident / g.nout;
    if (g.parts > g.nred / 4096) g.parts = g.nred / 4096;
  }
  if (g.parts > 65535) g.parts = 65535;
  if (g.parts < 1) g.parts = 1;
  g.chunk = (g.nred + g.parts - 1) / g.parts;
  g.parts = g.nred ? (g.nred + g.chunk - 1) / g.chunk : 1;
  if (g.chunk == 0) g.chunk = 1;
  RState<A> *partial = NULL;
  size_t pbytes = (size_t)(g.nout * g.parts) * sizeof(RState<A>);
  if (g.parts > 1 && !(partial = (RState<A> *)wick_cuda_alloc(pbytes, a->device)))
    return wick_errorf(WICK_ERR_OOM, "reduce: out of CUDA memory for %lld partial results",
                       (long long)(g.nout * g.parts));
  const S *in = (const S *)a->data;
  char *o = (char *)out->data;
  if (cols) {
    dim3 grid((unsigned)((g.nout + 255) / 256), (unsigned)g.parts);
    cols_k<<<grid, 256, 0, s>>>(op, in, o, out->dtype, g, partial);
  } else {
    int tx, ty;
    if (g.parts > 1 || g.nred >= 4096) { tx = 512; ty = 1; }
    else {
      tx = 4;
      while (tx < 32 && tx < g.nred) tx *= 2;
      ty = 256 / tx;
    }
    int64_t gx = (g.nout + ty - 1) / ty;
    if (gx > 2147483647) {
      if (partial) wick_cuda_free(partial, pbytes, a->device);
      return wick_errorf(WICK_ERR_ARG, "reduce: too many outputs (%lld)", (long long)g.nout);
    }
    dim3 grid((unsigned)gx, (unsigned)g.parts), block(tx, ty);
    rows_k<<<grid, block, 0, s>>>(op, in, o, out->dtype, g, partial);
  }
  wick_status st = wick_cuda_launch_check("reduce");
  if (!st && partial) {
    red_finish<A><<<(unsigned)((g.nout + 255) / 256), 256, 0, s>>>(op, o, out->dtype, g, partial);
    st = wick_cuda_launch_check("reduce");
  }
  if (partial) wick_cuda_free(partial, pbytes, a->device);
  return st;
}

extern "C" wick_status wick_k_reduce(int op, const wick_kview *out, const wick_kview *a, int nred,
                                     cudaStream_t s) {
  return WK_DISPATCH(a->dtype, run_reduce, op, out, a, nred, s);
}
