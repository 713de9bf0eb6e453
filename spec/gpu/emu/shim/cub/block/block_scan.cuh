// cub::BlockScan for the host emulator (emu.h): a serial scan by thread 0 between barriers.
#pragma once
namespace cub {
template <typename T, int N> struct BlockScan {
  struct TempStorage { T v[N]; T total; };
  TempStorage &t;
  BlockScan(TempStorage &s) : t(s) {}
  template <class F> void InclusiveScan(T x, T &y, F f, T &agg) {
    int i = emu_lid();
    t.v[i] = x;
    __syncthreads();
    if (i == 0) { for (int k = 1; k < N; k++) t.v[k] = f(t.v[k - 1], t.v[k]); t.total = t.v[N - 1]; }
    __syncthreads();
    y = t.v[i];
    agg = t.total;
    __syncthreads();
  }
};
}
