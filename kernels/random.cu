// Random fills on the GPU from Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC'11), a counter-based generator: element group g of a call draws
// philox(counter = g, key), so threads need no state and any launch shape gives the same
// numbers. The key is 64 bits taken from the tensor's CPU generator per call (register.c), so
// manual_seed makes CUDA fills reproducible, but CUDA and CPU streams differ (as in PyTorch).
#include <math.h>

#include "common.cuh"

struct Philox { uint32_t v[4]; };

__host__ __device__ __forceinline__ uint32_t mulhi32(uint32_t a, uint32_t b) {
  return (uint32_t)(((uint64_t)a * b) >> 32);
}

__host__ __device__ __forceinline__ Philox philox4x32_10(uint64_t counter, uint64_t key) {
  uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
  for (int r = 0; r < 10; r++) {
    uint32_t hi0 = mulhi32(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    uint32_t hi1 = mulhi32(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  Philox p = {{c0, c1, c2, c3}};
  return p;
}

__device__ __forceinline__ double u53(uint32_t hi, uint32_t lo) {
  return (double)((((uint64_t)hi << 32) | lo) & ((UINT64_C(1) << 53) - 1)) * 0x1p-53;
}
__device__ __forceinline__ float u24(uint32_t r) { return (float)(r & 0xffffffu) * 0x1p-24f; }

struct RandArgs {
  int kind, dt;
  int vpc;              // values per Philox call: 4 (32-bit draws) or 2 (64-bit draws)
  double p0, p1;
  int64_t from;         // integers: from and range (to - from, may exceed 2^63)
  uint64_t range;
  uint64_t key;
};

__global__ void random_kernel(char *dst, int esize, Geom<1> g, RandArgs a) {
  int64_t n = g.numel, groups = (n + a.vpc - 1) / a.vpc, step = (int64_t)gridDim.x * blockDim.x;
  bool flat = g.ndim == 1 && g.strides[0][0] == 1;
  for (int64_t grp = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; grp < groups; grp += step) {
    Philox r = philox4x32_10((uint64_t)grp, a.key);
    double vals[4];
    int64_t ivals[4];
    bool is_int = false;
    switch (a.kind) {
      case WICK_RANDOM_UNIFORM:
        if (a.vpc == 4) {
          float f = (float)a.p0, rg = (float)a.p1 - (float)a.p0;
          for (int j = 0; j < 4; j++) vals[j] = fmaf(u24(r.v[j]), rg, f);
        } else {
          for (int j = 0; j < 2; j++) vals[j] = u53(r.v[2 * j], r.v[2 * j + 1]) * (a.p1 - a.p0) + a.p0;
        }
        break;
      case WICK_RANDOM_NORMAL:
        if (a.vpc == 4) {
          for (int j = 0; j < 4; j += 2) {
            float rad = sqrtf(-2.0f * logf(1.0f - u24(r.v[j])));
            float s, c;
            sincospif(2.0f * u24(r.v[j + 1]), &s, &c);
            vals[j] = (float)a.p0 + (float)a.p1 * (rad * c);
            vals[j + 1] = (float)a.p0 + (float)a.p1 * (rad * s);
          }
        } else {
          double rad = sqrt(-2.0 * log(1.0 - u53(r.v[0], r.v[1])));
          double s, c;
          sincospi(2.0 * u53(r.v[2], r.v[3]), &s, &c);
          vals[0] = a.p0 + a.p1 * (rad * c);
          vals[1] = a.p0 + a.p1 * (rad * s);
        }
        break;
      case WICK_RANDOM_INTEGERS:
        is_int = true;
        if (a.vpc == 4) {
          for (int j = 0; j < 4; j++) ivals[j] = (int64_t)((uint64_t)r.v[j] % a.range + (uint64_t)a.from);
        } else {
          for (int j = 0; j < 2; j++) {
            uint64_t v = ((uint64_t)r.v[2 * j] << 32) | r.v[2 * j + 1];
            ivals[j] = (int64_t)(v % a.range + (uint64_t)a.from);
          }
        }
        break;
      case WICK_RANDOM_BERNOULLI:
        is_int = true;
        for (int j = 0; j < 2; j++) ivals[j] = u53(r.v[2 * j], r.v[2 * j + 1]) < a.p0;
        break;
      default: // exponential
        for (int j = 0; j < 2; j++) vals[j] = (-1.0 / a.p0) * log(1.0 - u53(r.v[2 * j], r.v[2 * j + 1]));
        break;
    }
    for (int j = 0; j < a.vpc; j++) {
      int64_t e = grp * a.vpc + j;
      if (e >= n) break;
      int64_t off;
      if (flat) off = e;
      else wk_offsets<1, uint64_t>(g, (uint64_t)e, &off);
      char *p = dst + off * esize;
      if (is_int) wk_store_i(p, a.dt, ivals[j]);
      else wk_store_f(p, a.dt, vals[j]);
    }
  }
}

extern "C" wick_status wick_k_random(const wick_kview *dst, uint64_t key, int kind, double p0, double p1,
                                     cudaStream_t s) {
  const wick_kview *all[1] = {dst};
  Geom<1> g = wk_geom<1>(all);
  if (g.numel == 0) return WICK_OK;
  RandArgs a;
  a.kind = kind;
  a.dt = dst->dtype;
  a.p0 = p0;
  a.p1 = p1;
  a.key = key;
  a.from = 0;
  a.range = 1;
  bool f64 = dst->dtype == WICK_DTYPE_F64;
  switch (kind) {
    case WICK_RANDOM_UNIFORM: case WICK_RANDOM_NORMAL: a.vpc = f64 ? 2 : 4; break;
    case WICK_RANDOM_INTEGERS: {
      a.from = (int64_t)p0;
      uint64_t to = p1 >= 0x1p63 ? (uint64_t)p1 : (uint64_t)(int64_t)p1;
      a.range = to - (uint64_t)a.from;
      if (a.range == 0) return wick_errorf(WICK_ERR_ARG, "random_: empty range [%g, %g)", p0, p1);
      a.vpc = a.range >= (UINT64_C(1) << 32) ? 2 : 4;
      break;
    }
    case WICK_RANDOM_BERNOULLI: case WICK_RANDOM_EXPONENTIAL: a.vpc = 2; break;
    default: return wick_errorf(WICK_ERR_UNSUPPORTED, "random: unknown kind %d", kind);
  }
  int64_t groups = (g.numel + a.vpc - 1) / a.vpc;
  random_kernel<<<WK_GRID(random_kernel, groups, 256, dst->device), 256, 0, s>>>(
      (char *)dst->data, (int)wick_dtype_size((wick_dtype)dst->dtype), g, a);
  return wick_cuda_launch_check("random");
}
