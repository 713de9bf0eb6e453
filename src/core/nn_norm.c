/* Batch and layer normalisation: argument checks with PyTorch's wording, shapes, and the
 * calls into the device row's batch_norm / layer_norm slots (CPU: src/cpu/norm.c). */
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "nn_check.h"

/* A per-channel tensor (running stat, weight, bias) must be 1-D with C elements. */
static wick_status check_channel(const char *op, const char *what, const wick_tensor *t,
                                 const wick_tensor *input, int64_t C) {
  if (!t) return WICK_OK;
  if (wick_tensor_numel(t) != C || t->ndim != 1)
    return wick_errorf(WICK_ERR_SHAPE, "%s: %s should contain %lld elements not %lld", op, what,
                       (long long)C, (long long)wick_tensor_numel(t));
  return wick_nn_check_float(op, what, t, input);
}

wick_status wick_batch_norm(const wick_tensor *input, wick_tensor *running_mean,
                            wick_tensor *running_var, const wick_tensor *weight,
                            const wick_tensor *bias, bool training, double momentum, double eps,
                            wick_tensor **out, wick_tensor **save_mean, wick_tensor **save_invstd) {
  const char *op = "batch_norm";
  char b[128];
  if (input->ndim < 2)
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected input with at least 2 dims [N, C, ...], but got input of size: %s",
                       op, wick_nn_shape(input, b, sizeof b));
  WICK_TRY(wick_nn_check_float(op, "input", input, NULL));
  int64_t N = input->sizes[0], C = input->sizes[1], S = 1;
  for (int d = 2; d < input->ndim; d++) S *= input->sizes[d];
  WICK_TRY(check_channel(op, "running_mean", running_mean, input, C));
  WICK_TRY(check_channel(op, "running_var", running_var, input, C));
  WICK_TRY(check_channel(op, "weight", weight, input, C));
  WICK_TRY(check_channel(op, "bias", bias, input, C));
  if (!training && (!running_mean || !running_var))
    return wick_errorf(WICK_ERR_ARG, "%s: running_mean and running_var are required when training is false", op);
  if (training && N * S == 1)
    return wick_errorf(WICK_ERR_SHAPE, "%s: expected more than 1 value per channel when training, got input size %s",
                       op, wick_nn_shape(input, b, sizeof b));
  const wick_backend *be;
  WICK_TRY(wick_nn_backend(op, input, &be));
  WICK_NEED_SLOT(be, batch_norm, op);
  /* the kernel writes running stats in place: work on contiguous stand-ins, copy back */
  const wick_tensor *ins[5] = {input, weight, bias, running_mean, running_var};
  wick_tensor *c[5], *r = NULL, *m = NULL, *is = NULL;
  WICK_TRY(wick_nn_contig(5, ins, c));
  wick_status s = wick_tensor_new(input->dtype, input->device, input->ndim, input->sizes, &r);
  if (!s) s = wick_tensor_new(input->dtype, input->device, 1, &C, &m);
  if (!s) s = wick_tensor_new(input->dtype, input->device, 1, &C, &is);
  if (!s) s = be->batch_norm(r, c[0], c[1], c[2], c[3], c[4], m, is, N, C, S, training, momentum, eps);
  if (!s && training) {
    if (running_mean) {
      if (c[3] != running_mean) s = wick_copy_(running_mean, c[3]);
      wick_tensor_bump_version(running_mean);
    }
    if (!s && running_var) {
      if (c[4] != running_var) s = wick_copy_(running_var, c[4]);
      wick_tensor_bump_version(running_var);
    }
  }
  wick_nn_release(5, c);
  if (s) {
    wick_tensor_release(r); wick_tensor_release(m); wick_tensor_release(is);
    return s;
  }
  *out = r;
  *save_mean = m;
  *save_invstd = is;
  return WICK_OK;
}

wick_status wick_batch_norm_backward(const wick_tensor *gout, const wick_tensor *input,
                                     const wick_tensor *weight, const wick_tensor *save_mean,
                                     const wick_tensor *save_invstd, bool training, bool need_in,
                                     bool need_w, bool need_b, wick_tensor **gin, wick_tensor **gw,
                                     wick_tensor **gb) {
  int64_t N = input->sizes[0], C = input->sizes[1], S = 1;
  for (int d = 2; d < input->ndim; d++) S *= input->sizes[d];
  const wick_backend *be;
  WICK_TRY(wick_check_same_device("batch_norm", input->device, gout->device));
  WICK_TRY(wick_nn_backend("batch_norm", input, &be));
  WICK_NEED_SLOT(be, batch_norm_backward, "batch_norm");
  wick_tensor *r[3] = {NULL, NULL, NULL}, *c[5];
  wick_status s = WICK_OK;
  if (need_in) s = wick_tensor_new(input->dtype, input->device, input->ndim, input->sizes, &r[0]);
  if (!s && need_w) s = wick_tensor_new(input->dtype, input->device, 1, &C, &r[1]);
  if (!s && need_b) s = wick_tensor_new(input->dtype, input->device, 1, &C, &r[2]);
  if (s) { wick_nn_release(3, r); return s; }
  wick_tensor *g = NULL;
  if ((s = wick_to(gout, input->dtype, input->device, false, &g))) { wick_nn_release(3, r); return s; }
  const wick_tensor *ins[5] = {g, input, weight, save_mean, save_invstd};
  s = wick_nn_contig(5, ins, c);
  wick_tensor_release(g);
  if (s) { wick_nn_release(3, r); return s; }
  s = be->batch_norm_backward(r[0], r[1], r[2], c[0], c[1], c[2], c[3], c[4], N, C, S, training);
  wick_nn_release(5, c);
  if (s) { wick_nn_release(3, r); return s; }
  *gin = r[0]; *gw = r[1]; *gb = r[2];
  return WICK_OK;
}

wick_status wick_layer_norm(const wick_tensor *input, int nnorm, const int64_t *shape,
                            const wick_tensor *weight, const wick_tensor *bias, double eps,
                            wick_tensor **out, wick_tensor **mean, wick_tensor **rstd) {
  const char *op = "layer_norm";
  char b1[128], b2[128], b3[128];
  WICK_TRY(wick_nn_check_float(op, "input", input, NULL));
  bool ok = nnorm >= 1 && nnorm <= input->ndim;
  for (int i = 0; ok && i < nnorm; i++) ok = input->sizes[input->ndim - nnorm + i] == shape[i];
  if (!ok) {
    wick_shape_str(nnorm, shape, b1, sizeof b1);
    wick_shape_str(nnorm, shape, b2, sizeof b2);
    return wick_errorf(WICK_ERR_SHAPE, "%s: given normalized_shape=%s, expected input with shape [*, %s, but got input of size %s",
                       op, b1, b2 + 1, wick_nn_shape(input, b3, sizeof b3));
  }
  const wick_tensor *wb[2] = {weight, bias};
  const char *names[2] = {"weight", "bias"};
  for (int k = 0; k < 2; k++) {
    const wick_tensor *t = wb[k];
    if (!t) continue;
    if (t->ndim != nnorm || memcmp(t->sizes, shape, sizeof(int64_t) * (size_t)nnorm))
      return wick_errorf(WICK_ERR_SHAPE, "%s: expected %s of shape %s, but got %s", op, names[k],
                         wick_shape_str(nnorm, shape, b1, sizeof b1), wick_nn_shape(t, b2, sizeof b2));
    WICK_TRY(wick_nn_check_float(op, names[k], t, input));
  }
  const wick_backend *be;
  WICK_TRY(wick_nn_backend(op, input, &be));
  WICK_NEED_SLOT(be, layer_norm, op);
  int64_t D = 1;
  for (int i = 0; i < nnorm; i++) D *= shape[i];
  int64_t M = 1;
  for (int d = 0; d < input->ndim - nnorm; d++) M *= input->sizes[d];
  const wick_tensor *ins[3] = {input, weight, bias};
  wick_tensor *c[3], *r = NULL, *m = NULL, *rs = NULL;
  WICK_TRY(wick_nn_contig(3, ins, c));
  wick_status s = wick_tensor_new(input->dtype, input->device, input->ndim, input->sizes, &r);
  if (!s) s = wick_tensor_new(input->dtype, input->device, 1, &M, &m);
  if (!s) s = wick_tensor_new(input->dtype, input->device, 1, &M, &rs);
  if (!s) s = be->layer_norm(r, c[0], c[1], c[2], m, rs, M, D, eps);
  wick_nn_release(3, c);
  if (s) {
    wick_tensor_release(r); wick_tensor_release(m); wick_tensor_release(rs);
    return s;
  }
  *out = r;
  *mean = m;
  *rstd = rs;
  return WICK_OK;
}

wick_status wick_layer_norm_backward(const wick_tensor *gout, const wick_tensor *input, int nnorm,
                                     const wick_tensor *weight, const wick_tensor *mean,
                                     const wick_tensor *rstd, bool need_in, bool need_w,
                                     bool need_b, wick_tensor **gin, wick_tensor **gw,
                                     wick_tensor **gb) {
  int64_t M = wick_tensor_numel(mean), D = 1;
  const int64_t *shape = input->sizes + input->ndim - nnorm;
  for (int i = 0; i < nnorm; i++) D *= shape[i];
  const wick_backend *be;
  WICK_TRY(wick_check_same_device("layer_norm", input->device, gout->device));
  WICK_TRY(wick_nn_backend("layer_norm", input, &be));
  WICK_NEED_SLOT(be, layer_norm_backward, "layer_norm");
  wick_tensor *r[3] = {NULL, NULL, NULL}, *c[5], *g = NULL;
  wick_status s = WICK_OK;
  if (need_in) s = wick_tensor_new(input->dtype, input->device, input->ndim, input->sizes, &r[0]);
  if (!s && need_w) s = wick_tensor_new(input->dtype, input->device, nnorm, shape, &r[1]);
  if (!s && need_b) s = wick_tensor_new(input->dtype, input->device, nnorm, shape, &r[2]);
  if (!s) s = wick_to(gout, input->dtype, input->device, false, &g);
  if (s) { wick_nn_release(3, r); return s; }
  const wick_tensor *ins[5] = {g, input, weight, mean, rstd};
  s = wick_nn_contig(5, ins, c);
  wick_tensor_release(g);
  if (s) { wick_nn_release(3, r); return s; }
  s = be->layer_norm_backward(r[0], r[1], r[2], c[0], c[1], c[2], c[3], c[4], M, D);
  wick_nn_release(5, c);
  if (s) { wick_nn_release(3, r); return s; }
  *gin = r[0]; *gw = r[1]; *gb = r[2];
  return WICK_OK;
}
