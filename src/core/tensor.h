/* wick_tensor: a strided, reference-counted view of a reference-counted storage.
 * Ownership: functions named *_new or taking `wick_tensor **out` hand back a NEW reference
 * that the caller releases; arguments are borrowed. */
#ifndef WICK_TENSOR_H
#define WICK_TENSOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#define WICK_MAX_DIMS 8

typedef enum { WICK_DEVICE_CPU = 0, WICK_DEVICE_CUDA = 1, WICK_DEVICE_TYPE_COUNT } wick_device_type;

typedef struct {
  int8_t type;   /* wick_device_type */
  int16_t index; /* 0 for cpu */
} wick_device;

static inline wick_device wick_cpu(void) { wick_device d = {WICK_DEVICE_CPU, 0}; return d; }
static inline bool wick_device_eq(wick_device a, wick_device b) {
  return a.type == b.type && a.index == b.index;
}
/* "cpu", "cuda:0" */
void wick_device_format(wick_device d, char *buf, int n);
wick_status wick_device_parse(const char *s, wick_device *out);
/* PyTorch's "expected all tensors to be on the same device" error, naming op and both devices. */
wick_status wick_check_same_device(const char *op, wick_device a, wick_device b);

typedef struct wick_storage {
  _Atomic int refcount;
  _Atomic uint32_t version; /* bumped by in-place writes; autograd checks saved tensors */
  void *data;
  size_t nbytes;
  wick_device device;
  /* When set, called instead of the device free (external memory: mmap, shared memory). */
  void (*deleter)(void *ctx, void *data, size_t nbytes);
  void *deleter_ctx;
} wick_storage;

struct wick_autograd_meta;

typedef struct wick_tensor {
  _Atomic int refcount;
  int ndim;
  wick_dtype dtype;
  wick_device device;
  bool wrapped_number; /* a Lua number turned into a 0-d tensor: weak in type promotion */
  int64_t offset;      /* in elements */
  int64_t sizes[WICK_MAX_DIMS];
  int64_t strides[WICK_MAX_DIMS]; /* in elements */
  wick_storage *storage;
  struct wick_autograd_meta *autograd; /* owned by src/autograd; NULL for plain tensors */
} wick_tensor;

/* Contiguous tensor with uninitialised memory. */
wick_status wick_tensor_new(wick_dtype dtype, wick_device dev, int ndim, const int64_t *sizes,
                            wick_tensor **out);
wick_status wick_tensor_new_like(const wick_tensor *t, wick_tensor **out);
wick_status wick_tensor_zeros(wick_dtype dtype, wick_device dev, int ndim, const int64_t *sizes,
                              wick_tensor **out);
/* 0-d tensor from a number (kept as int64 for integer dtypes, double otherwise). */
wick_status wick_tensor_scalar(wick_dtype dtype, double v, int64_t iv, wick_tensor **out);
/* A new tensor object sharing t's storage with the given geometry. */
wick_status wick_tensor_as_strided(const wick_tensor *t, int ndim, const int64_t *sizes,
                                   const int64_t *strides, int64_t offset, wick_tensor **out);
/* Wraps external memory; deleter(ctx, data, nbytes) runs when the last view goes. */
wick_status wick_tensor_from_blob(void *data, size_t nbytes, wick_dtype dtype, int ndim,
                                  const int64_t *sizes,
                                  void (*deleter)(void *, void *, size_t), void *ctx,
                                  wick_tensor **out);

wick_tensor *wick_tensor_retain(wick_tensor *t);
void wick_tensor_release(wick_tensor *t); /* NULL is fine */

int64_t wick_tensor_numel(const wick_tensor *t);
bool wick_tensor_is_contiguous(const wick_tensor *t);
static inline void *wick_tensor_data(const wick_tensor *t) {
  return (char *)t->storage->data + t->offset * (int64_t)wick_dtype_size(t->dtype);
}
static inline void wick_tensor_bump_version(wick_tensor *t) {
  atomic_fetch_add(&t->storage->version, 1);
}
bool wick_shape_eq(const wick_tensor *a, const wick_tensor *b);
/* "[2, 3]" into buf. */
const char *wick_shape_str(int ndim, const int64_t *sizes, char *buf, int n);
/* Normalises a possibly negative dim against ndim (use ndim+1 for unsqueeze). */
wick_status wick_dim_wrap(const char *op, int64_t dim, int ndim, int *out);

/* Hook for the autograd module: called when a tensor object dies. */
extern void (*wick_autograd_free_hook)(struct wick_autograd_meta *);

#endif
