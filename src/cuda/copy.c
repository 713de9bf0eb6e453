/* The copy and fill slots of the CUDA row: host<->device, device<->device and peer copies, any
 * dtype pair, any strides. Layout work (gathering strided elements, converting dtypes) runs on
 * the device (kernels/copy.cu); DMA moves only dense bytes. Copies are ordered on the current
 * stream; from/to pinned memory with non_blocking they return before finishing. */
#include <math.h>
#include <string.h>

#include "core/exec_mode.h"
#include "cpu/runs.h"
#include "cuda/cuda_rt.h"

/* Drops size-1 dims and merges dims that are contiguous in both tensors (the CPU's
 * wick_coalesce), so that the kernels index fewer dims (a dense copy becomes one dim). */
static void make_geom(const wick_tensor *dst, const int64_t *src_strides, wick_cuda_copy_geom *g) {
  _Static_assert(WICK_CUDA_MAX_DIMS >= WICK_MAX_DIMS, "a tensor's dims fit the copy geometry");
  for (int i = 0; i < dst->ndim; i++) {
    g->sizes[i] = dst->sizes[i];
    g->dst_strides[i] = dst->strides[i];
    g->src_strides[i] = src_strides[i];
  }
  int k = wick_coalesce(dst->ndim, g->sizes, g->dst_strides, g->src_strides);
  if (k == 0) {
    g->sizes[0] = 1;
    g->dst_strides[0] = g->src_strides[0] = 1;
    k = 1;
  }
  g->ndim = k;
}

static size_t nbytes_of(const wick_tensor *t) {
  return (size_t)wick_tensor_numel(t) * wick_dtype_size(t->dtype);
}

/* dst = src (same device, the current one): a DMA when dense, else the convert kernel. */
static wick_status convert_on_device(wick_tensor *dst, const wick_tensor *src, cudaStream_t s) {
  if (dst->dtype == src->dtype && wick_tensor_is_contiguous(dst) && wick_tensor_is_contiguous(src)) {
    WICK_CUDA_TRY(cudaMemcpyAsync(wick_tensor_data(dst), wick_tensor_data(src), nbytes_of(dst),
                                  cudaMemcpyDeviceToDevice, s), "copy_");
    return WICK_OK;
  }
  wick_cuda_copy_geom g;
  make_geom(dst, src->strides, &g);
  return wick_cuda_launch_convert(wick_tensor_data(dst), dst->dtype, wick_tensor_data(src), src->dtype, &g,
                                  wick_tensor_numel(dst), s);
}

/* A new contiguous tensor of t's shape with the given dtype and device. */
static wick_status temp_like(const wick_tensor *t, wick_dtype dt, wick_device dev, wick_tensor **out) {
  return wick_tensor_new(dt, dev, t->ndim, t->sizes, out);
}

static wick_status copy_h2d(wick_tensor *dst, const wick_tensor *src) {
  int d = dst->device.index;
  WICK_TRY(wick_cuda_use_device(d));
  cudaStream_t s = wick_cuda_current_stream(d);
  bool pinned = wick_cuda_is_pinned(src);
  wick_tensor *hs = NULL, *tmp = NULL;
  wick_status st = WICK_OK;
  const wick_tensor *h = src;
  if (!wick_tensor_is_contiguous(src)) { /* gather on the host: DMA wants dense bytes */
    if ((st = temp_like(src, src->dtype, wick_cpu(), &hs)) || (st = wick_cpu_backend.copy(hs, src))) goto done;
    h = hs;
    pinned = false;
  }
  wick_tensor *target = dst;
  if (dst->dtype != src->dtype || !wick_tensor_is_contiguous(dst)) {
    if ((st = temp_like(src, src->dtype, dst->device, &tmp))) goto done;
    target = tmp;
  }
  if ((st = wick_cuda_status(cudaMemcpyAsync(wick_tensor_data(target), wick_tensor_data(h), nbytes_of(h),
                                             cudaMemcpyHostToDevice, s), "copy_ (host to device)")))
    goto done;
  if (tmp && (st = convert_on_device(dst, tmp, s))) goto done;
  if (pinned) {
    /* pageable sources are staged before cudaMemcpyAsync returns; pinned ones are read by DMA */
    if (wick_copy_non_blocking()) wick_cuda_pinned_record(src->storage->data, s);
    else st = wick_cuda_status(cudaStreamSynchronize(s), "copy_ (host to device)");
  }
done:
  wick_tensor_release(hs);
  wick_tensor_release(tmp);
  return st;
}

static wick_status copy_d2h(wick_tensor *dst, const wick_tensor *src) {
  int d = src->device.index;
  WICK_TRY(wick_cuda_use_device(d));
  cudaStream_t s = wick_cuda_current_stream(d);
  wick_tensor *dense = NULL, *hd = NULL;
  wick_status st = WICK_OK;
  const wick_tensor *from = src;
  if (src->dtype != dst->dtype || !wick_tensor_is_contiguous(src)) { /* convert/gather on device */
    if ((st = temp_like(src, dst->dtype, src->device, &dense)) || (st = convert_on_device(dense, src, s)))
      goto done;
    from = dense;
  }
  bool dst_dense = wick_tensor_is_contiguous(dst);
  wick_tensor *target = dst;
  if (!dst_dense) {
    if ((st = temp_like(dst, dst->dtype, wick_cpu(), &hd))) goto done;
    target = hd;
  }
  if ((st = wick_cuda_status(cudaMemcpyAsync(wick_tensor_data(target), wick_tensor_data(from), nbytes_of(from),
                                             cudaMemcpyDeviceToHost, s), "copy_ (device to host)")))
    goto done;
  if (dst_dense && wick_copy_non_blocking() && wick_cuda_is_pinned(dst)) {
    wick_cuda_pinned_record(dst->storage->data, s);
  } else {
    if ((st = wick_cuda_status(cudaStreamSynchronize(s), "copy_ (device to host)"))) goto done;
    if (hd) st = wick_cpu_backend.copy(dst, hd);
  }
done:
  wick_tensor_release(dense);
  wick_tensor_release(hd);
  return st;
}

/* Between two devices: dense bytes move by a peer copy (synchronous: the two devices' streams
 * are not otherwise ordered), layout and dtype are handled on either side. */
static wick_status copy_peer(wick_tensor *dst, const wick_tensor *src) {
  int a = src->device.index, b = dst->device.index;
  wick_tensor *dense = NULL, *landing = NULL;
  wick_status st = WICK_OK;
  WICK_TRY(wick_cuda_use_device(b));
  cudaStream_t sb = wick_cuda_current_stream(b);
  WICK_CUDA_TRY(cudaStreamSynchronize(sb), "copy_ (between devices)");
  WICK_TRY(wick_cuda_use_device(a));
  cudaStream_t sa = wick_cuda_current_stream(a);
  const wick_tensor *from = src;
  if (!wick_tensor_is_contiguous(src)) {
    if ((st = temp_like(src, src->dtype, src->device, &dense)) || (st = convert_on_device(dense, src, sa)))
      goto done;
    from = dense;
  }
  wick_tensor *target = dst;
  if (dst->dtype != src->dtype || !wick_tensor_is_contiguous(dst)) {
    if ((st = temp_like(src, src->dtype, dst->device, &landing))) goto done;
    target = landing;
  }
  if ((st = wick_cuda_use_device(a)) ||
      (st = wick_cuda_status(cudaMemcpyPeerAsync(wick_tensor_data(target), b, wick_tensor_data(from), a,
                                                 nbytes_of(from), sa), "copy_ (between devices)")) ||
      (st = wick_cuda_status(cudaStreamSynchronize(sa), "copy_ (between devices)")))
    goto done;
  if (landing) {
    if ((st = wick_cuda_use_device(b))) goto done;
    st = convert_on_device(dst, landing, wick_cuda_current_stream(b));
  }
done:
  wick_tensor_release(dense);
  wick_tensor_release(landing);
  return st;
}

wick_status wick_cuda_copy(wick_tensor *dst, const wick_tensor *src) {
  if (wick_tensor_numel(dst) == 0) return WICK_OK;
  bool dc = dst->device.type == WICK_DEVICE_CUDA, sc = src->device.type == WICK_DEVICE_CUDA;
  if (dc && sc && dst->device.index == src->device.index) {
    WICK_TRY(wick_cuda_use_device(dst->device.index));
    return convert_on_device(dst, src, wick_cuda_current_stream(dst->device.index));
  }
  if (dc && sc) return copy_peer(dst, src);
  if (dc) return copy_h2d(dst, src);
  if (sc) return copy_d2h(dst, src);
  return wick_cpu_backend.copy(dst, src);
}

wick_status wick_cuda_fill(wick_tensor *dst, double v, int64_t iv) {
  int64_t n = wick_tensor_numel(dst);
  if (n == 0) return WICK_OK;
  int d = dst->device.index;
  WICK_TRY(wick_cuda_use_device(d));
  cudaStream_t s = wick_cuda_current_stream(d);
  bool zero = wick_dtype_is_float(dst->dtype) ? (v == 0.0 && !signbit(v)) : iv == 0;
  if (zero && wick_tensor_is_contiguous(dst)) {
    WICK_CUDA_TRY(cudaMemsetAsync(wick_tensor_data(dst), 0, nbytes_of(dst), s), "fill_");
    return WICK_OK;
  }
  wick_cuda_copy_geom g;
  make_geom(dst, dst->strides, &g);
  return wick_cuda_launch_fill(wick_tensor_data(dst), dst->dtype, v, iv, &g, n, s);
}
