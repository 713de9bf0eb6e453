// A host emulation of the CUDA execution model, enough to run wick's kernels (kernels/*.cu,
// rewritten by rewrite.py) on a machine without a GPU: every block runs its threads as real
// threads (so __syncthreads and warp shuffles are true barriers), blocks one after another;
// device memory is host memory; the runtime calls the launchers make are no-ops. It checks the
// kernels' index arithmetic and semantics against the CPU backend (driver.c), not their speed.
#ifndef WICK_EMU_H
#define WICK_EMU_H
#include <cuda_runtime_api.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <thread>
#include <vector>
#include <barrier>
#include <functional>
#include <memory>
#include <mutex>
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
struct emu3 { unsigned x = 0, y = 0, z = 0; };
extern thread_local emu3 threadIdx, blockIdx;
extern emu3 blockDim, gridDim;
// per-warp exchange
struct EmuWarp { std::barrier<> *bar; double slots_d[32]; long long slots_l[32]; };
struct EmuBlock { std::barrier<> *bar; std::vector<std::unique_ptr<std::barrier<>>> wbars; std::vector<EmuWarp> warps; int nthreads; };
extern thread_local EmuBlock *emu_block;
static inline int emu_lid() { return threadIdx.x + threadIdx.y * blockDim.x; }
static inline void __syncthreads() { emu_block->bar->arrive_and_wait(); }
template <typename T> static inline T __shfl_xor_sync(unsigned, T v, int m, int width) {
  int lid = emu_lid(), w = lid / 32, lane = lid % 32;
  EmuWarp &W = emu_block->warps[w];
  if constexpr (std::is_floating_point<T>::value) W.slots_d[lane] = (double)v; else W.slots_l[lane] = (long long)v;
  W.bar->arrive_and_wait();
  int seg = lane / width * width, partner = seg + ((lane - seg) ^ m);
  T r;
  if constexpr (std::is_floating_point<T>::value) r = (T)W.slots_d[partner]; else r = (T)W.slots_l[partner];
  W.bar->arrive_and_wait();
  return r;
}
template <typename T> static inline T atomicAdd(T *p, T v) { static std::mutex m; std::lock_guard<std::mutex> g(m); T o = *p; *p = o + v; return o; }
static inline __half atomicAdd(__half *p, __half v) { static std::mutex m; std::lock_guard<std::mutex> g(m); __half o = *p; *p = __float2half_rn(__half2float(o) + __half2float(v)); return o; }
static inline __nv_bfloat16 atomicAdd(__nv_bfloat16 *p, __nv_bfloat16 v) { static std::mutex m; std::lock_guard<std::mutex> g(m); __nv_bfloat16 o = *p; *p = __float2bfloat16_rn(__bfloat162float(o) + __bfloat162float(v)); return o; }
static inline void sincospif(float x, float *s, float *c) { *s = sinf((float)M_PI * x); *c = cosf((float)M_PI * x); }
static inline void sincospi(double x, double *s, double *c) { *s = sin(M_PI * x); *c = cos(M_PI * x); }
static inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
#define cudaMemsetAsync(p, v, n, s) (memset((p), (v), (n)), cudaSuccess)
#define cudaMemcpyAsync(d, sr, n, k, s) (memcpy((d), (sr), (n)), cudaSuccess)
#define cudaStreamSynchronize(s) cudaSuccess
#define cudaDeviceGetAttribute(p, a, d) (*(p) = 4, cudaSuccess)
#define cudaOccupancyMaxActiveBlocksPerMultiprocessor(p, k, t, s) (*(p) = 2, cudaSuccess)
#define cudaGetLastError() cudaSuccess
struct dim3e { unsigned x, y, z; dim3e(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {} dim3e(dim3 d) : x(d.x), y(d.y), z(d.z) {} };
template <typename K, typename... A> static void wk_emu_launch(K k, dim3e g, dim3e b, A... args) {
  gridDim = emu3{g.x, g.y, 1}; blockDim = emu3{b.x, b.y, 1};
  int nt = b.x * b.y;
  for (unsigned by = 0; by < g.y; by++)
    for (unsigned bx = 0; bx < g.x; bx++) {
      EmuBlock B; std::barrier<> bar(nt); B.bar = &bar; B.nthreads = nt;
      int nw = (nt + 31) / 32; B.warps.resize(nw);
      for (int w = 0; w < nw; w++) { int cnt = std::min(32, nt - w * 32); B.wbars.emplace_back(new std::barrier<>(cnt)); B.warps[w].bar = B.wbars.back().get(); }
      std::vector<std::thread> ts;
      for (int t = 0; t < nt; t++) ts.emplace_back([&, t]() {
        emu_block = &B; blockIdx = emu3{bx, by, 0}; threadIdx = emu3{(unsigned)(t % b.x), (unsigned)(t / b.x), 0};
        k(args...);
      });
      for (auto &t : ts) t.join();
    }
}

#endif
