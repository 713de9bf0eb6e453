// Fused optimizer steps on CUDA, one launch per parameter list (per batch of kBatch tensors):
// the launch's argument carries a table of (pointers, length, first block) per tensor, so no
// table is staged in device memory; each block finds its tensor by binary search over the
// first-block column and updates one chunk of it. The arithmetic is the CPU loops'
// (src/cpu/optim.c: PyTorch's single-tensor SGD/Adam/AdamW, every line in the tensor's dtype
// with the scalars rounded to it).
#include "nn_launch.h"

#include <math.h>

namespace {

const int kThreads = 256;
const int64_t kChunk = 256 * 16;  // elements per block
const int kBatch = 40;            // tensors per launch: the argument stays under 4 KiB

struct Entry {
  void *p;
  const void *g;
  void *a, *b, *c;  // sgd: buf; adam: m, v, vmax
  int64_t len;
  int64_t first_block;
};

struct Batch {
  Entry e[kBatch];
  int n;
};

__device__ const Entry &find_entry(const Batch &t, int64_t blk) {
  int lo = 0, hi = t.n - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (t.e[mid].first_block <= blk) lo = mid;
    else hi = mid - 1;
  }
  return t.e[lo];
}

template <typename T>
__global__ void sgd_k(const __grid_constant__ Batch tab, wick_ksgd o) {
  const Entry &e = find_entry(tab, blockIdx.x);  int64_t start = (blockIdx.x - e.first_block) * kChunk, end = start + kChunk < e.len ? start + kChunk : e.len;
  T *p = (T *)e.p, *buf = (T *)e.a;
  const T *g = (const T *)e.g;
  const T wd = (T)o.weight_decay, mom = (T)o.momentum, damp1 = (T)(1 - o.dampening), neg_lr = (T)(-o.lr);
  const bool use_wd = o.weight_decay != 0, use_mom = o.momentum != 0;
  for (int64_t i = start + threadIdx.x; i < end; i += blockDim.x) {
    T d = o.maximize ? -g[i] : g[i];
    if (use_wd) d = d + wd * p[i];
    if (use_mom) {
      T b = o.first ? d : buf[i] * mom + damp1 * d;
      buf[i] = b;
      d = o.nesterov ? d + mom * b : b;
    }
    p[i] = p[i] + neg_lr * d;
  }
}

template <typename T>
__global__ void adam_k(const __grid_constant__ Batch tab, wick_kadam o, T neg_step, T bc2_sqrt) {
  const Entry &e = find_entry(tab, blockIdx.x);
  int64_t start = (blockIdx.x - e.first_block) * kChunk, end = start + kChunk < e.len ? start + kChunk : e.len;
  T *p = (T *)e.p, *m = (T *)e.a, *v = (T *)e.b, *vmax = (T *)e.c;
  const T *g = (const T *)e.g;
  const T eps = (T)o.eps, b1 = (T)o.beta1, b2 = (T)o.beta2, b1c = (T)(1 - o.beta1), b2c = (T)(1 - o.beta2);
  const T wd = (T)o.weight_decay, decay = (T)(1 - o.lr * o.weight_decay);
  const bool l2 = o.weight_decay != 0 && !o.decoupled, decoupled = o.weight_decay != 0 && o.decoupled;
  for (int64_t i = start + threadIdx.x; i < end; i += blockDim.x) {
    T gi = o.maximize ? -g[i] : g[i];
    T pi = p[i];
    if (l2) gi = gi + wd * pi;
    if (decoupled) pi = pi * decay;
    T mi = m[i] * b1 + b1c * gi;
    T vi = v[i] * b2 + b2c * gi * gi;
    m[i] = mi;
    v[i] = vi;
    if (o.amsgrad) {
      T w = vmax[i];
      if (vi > w || vi != vi) w = vi;  // torch.maximum propagates NaN
      vmax[i] = w;
      vi = w;
    }
    T denom = sqrt(vi) / bc2_sqrt + eps;
    p[i] = pi + neg_step * mi / denom;
  }
}

// Launches fn(batch, blocks) for each run of up to kBatch tensors with elements.
template <typename Fill, typename Launch>
wick_status batched(const char *op, int n, Fill fill, Launch launch) {
  Batch b;
  b.n = 0;
  int64_t nb = 0;
  for (int k = 0; k <= n; k++) {
    if (k == n || b.n == kBatch) {
      if (b.n > 0) {
        if (nb > 0x7fffffffLL) return wick_errorf(WICK_ERR_SHAPE, "%s: parameter too large for one launch", op);
        launch(b, (unsigned)nb);
        WICK_TRY(wick_cuda_launch_check(op));
      }
      b.n = 0;
      nb = 0;
      if (k == n) break;
    }
    Entry e = {};
    fill(k, &e);
    if (e.len == 0) continue;
    e.first_block = nb;
    nb += (e.len + kChunk - 1) / kChunk;
    b.e[b.n++] = e;
  }
  return WICK_OK;
}

}  // namespace

extern "C" wick_status wick_k_sgd_step(int dt, int n, void *const *p, const void *const *g,
                                       void *const *buf, const int64_t *len, const wick_ksgd *o,
                                       int device, cudaStream_t s) {
  (void)device;
  wick_ksgd ko = *o;
  return batched("SGD", n,
    [&](int k, Entry *e) { e->p = p[k]; e->g = g[k]; e->a = buf ? buf[k] : nullptr; e->len = len[k]; },
    [&](const Batch &b, unsigned nb) {
      if (dt == WICK_DTYPE_F64) sgd_k<double><<<nb, kThreads, 0, s>>>(b, ko);
      else sgd_k<float><<<nb, kThreads, 0, s>>>(b, ko);
    });
}

extern "C" wick_status wick_k_adam_step(int dt, int n, void *const *p, const void *const *g,
                                        void *const *m, void *const *v, void *const *vmax,
                                        const int64_t *len, const wick_kadam *o, int device,
                                        cudaStream_t s) {
  (void)device;
  wick_kadam ko = *o;
  double bc1 = 1 - pow(o->beta1, (double)o->step), bc2 = 1 - pow(o->beta2, (double)o->step);
  return batched(o->decoupled ? "AdamW" : "Adam", n,
    [&](int k, Entry *e) {
      e->p = p[k]; e->g = g[k]; e->a = m[k]; e->b = v[k]; e->c = vmax ? vmax[k] : nullptr; e->len = len[k];
    },
    [&](const Batch &b, unsigned nb) {
      if (dt == WICK_DTYPE_F64)
        adam_k<double><<<nb, kThreads, 0, s>>>(b, ko, -(o->lr / bc1), sqrt(bc2));
      else
        adam_k<float><<<nb, kThreads, 0, s>>>(b, ko, (float)(-(o->lr / bc1)), (float)sqrt(bc2));
    });
}
