/* Fused SGD and Adam/AdamW updates: argument checks, contiguous operands, and the call into
 * the device row's sgd_step / adam_step slot (src/cpu/optim.c holds the CPU loops and their
 * PyTorch arithmetic; kernels/nn_optim.cu the CUDA ones). */
#include "optim.h"

#include <stdlib.h>

#include "backend.h"
#include "ops.h"

static wick_status check_param(const char *op, const wick_tensor *p, const wick_tensor *g) {
  char b1[128], b2[128];
  if (p->dtype != WICK_DTYPE_F32 && p->dtype != WICK_DTYPE_F64)
    return wick_errorf(WICK_ERR_DTYPE, "%s: parameters must be f32 or f64 (got %s)", op,
                       wick_dtype_name(p->dtype));
  if (!wick_shape_eq(p, g))
    return wick_errorf(WICK_ERR_SHAPE, "%s: grad of shape %s does not match param of shape %s", op,
                       wick_shape_str(g->ndim, g->sizes, b1, sizeof b1),
                       wick_shape_str(p->ndim, p->sizes, b2, sizeof b2));
  if (g->dtype != p->dtype)
    return wick_errorf(WICK_ERR_DTYPE, "%s: grad of dtype %s does not match param of dtype %s", op,
                       wick_dtype_name(g->dtype), wick_dtype_name(p->dtype));
  if (!wick_device_eq(g->device, p->device))
    return wick_errorf(WICK_ERR_DEVICE, "%s: grad is on a different device than its param", op);
  return WICK_OK;
}

static wick_status check_state(const char *op, const char *name, const wick_tensor *p,
                               const wick_tensor *s) {
  char b1[128], b2[128];
  if (!wick_shape_eq(p, s))
    return wick_errorf(WICK_ERR_SHAPE, "%s: state %s of shape %s does not match param of shape %s",
                       op, name, wick_shape_str(s->ndim, s->sizes, b1, sizeof b1),
                       wick_shape_str(p->ndim, p->sizes, b2, sizeof b2));
  if (s->dtype != p->dtype)
    return wick_errorf(WICK_ERR_DTYPE, "%s: state %s of dtype %s does not match param of dtype %s",
                       op, name, wick_dtype_name(s->dtype), wick_dtype_name(p->dtype));
  if (!wick_device_eq(s->device, p->device))
    return wick_errorf(WICK_ERR_DEVICE, "%s: state %s is on a different device than its param",
                       op, name);
  return WICK_OK;
}

/* Contiguous operands for the loops: a non-contiguous one is copied in (and back by
 * finish_operand when written). Returns a new reference. */
static wick_status operand(const wick_tensor *t, wick_tensor **out) {
  return wick_contiguous(t, out);
}

static wick_status finish_operand(wick_tensor *orig, wick_tensor *c) {
  wick_status s = WICK_OK;
  if (c != orig) s = wick_copy_(orig, c);
  else wick_tensor_bump_version(orig);
  wick_tensor_release(c);
  return s;
}

/* Per-update scratch: n entries of `cols` tensor columns (contiguous operands etc.) and the
 * grouping buffers. */
typedef struct {
  int n;
  wick_tensor **t;       /* [cols][n] */
  const wick_tensor **g; /* [n]: grads for one slot call */
  int *idx;              /* [n]: the indices of one group */
  bool *done;
} scratch;

static wick_status scratch_new(const char *op, int n, int cols, scratch *sc) {
  sc->n = n;
  sc->t = calloc((size_t)n * (size_t)(cols + 6), sizeof(wick_tensor *));
  sc->g = calloc((size_t)n, sizeof(wick_tensor *));
  sc->idx = calloc((size_t)n, sizeof(int));
  sc->done = calloc((size_t)n, sizeof(bool));
  if (!sc->t || !sc->g || !sc->idx || !sc->done) {
    free(sc->t); free(sc->g); free(sc->idx); free(sc->done);
    return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op);
  }
  return WICK_OK;
}

static void scratch_free(scratch *sc) {
  free(sc->t); free(sc->g); free(sc->idx); free(sc->done);
}

/* The next group: every index not done with i's device, dtype and `flag`. Returns its size. */
static int next_group(scratch *sc, wick_tensor *const *params, const bool *flag, int i) {
  int k = 0;
  for (int j = i; j < sc->n; j++) {
    if (sc->done[j] || !wick_device_eq(params[j]->device, params[i]->device) ||
        params[j]->dtype != params[i]->dtype || (flag && flag[j] != flag[i]))
      continue;
    sc->done[j] = true;
    sc->idx[k++] = j;
  }
  return k;
}

/* Every param's device has `want` (1 sgd_step, 2 adam_step). */
static wick_status check_rows(const char *op, int n, wick_tensor *const *params, int want) {
  for (int i = 0; i < n; i++) {
    const wick_backend *be;
    WICK_TRY(wick_backend_for(op, params[i]->device, &be));
    if (want == 1) WICK_NEED_SLOT(be, sgd_step, op);
    else WICK_NEED_SLOT(be, adam_step, op);
  }
  return WICK_OK;
}

wick_status wick_sgd_update_many(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                                 wick_tensor **bufs, const wick_sgd_options *o) {
  const char *op = "SGD";
  int use_mom = o->momentum != 0;
  if (n <= 0) return WICK_OK;
  for (int i = 0; i < n; i++) {
    WICK_TRY(check_param(op, params[i], grads[i]));
    if (use_mom && bufs[i]) WICK_TRY(check_state(op, "momentum_buffer", params[i], bufs[i]));
  }
  WICK_TRY(check_rows(op, n, params, 1));
  scratch sc;
  WICK_TRY(scratch_new(op, n, 4, &sc));
  wick_tensor **cp = sc.t, **cg = sc.t + n, **cb = sc.t + 2 * n, **fresh = sc.t + 3 * n;
  wick_tensor **gp = sc.t + 4 * n, **gb = sc.t + 5 * n;
  bool *first = (bool *)(sc.t + 6 * n); /* n pointers' room is more than n bools */
  wick_status s = WICK_OK;
  for (int i = 0; i < n && !s; i++) {
    s = operand(params[i], &cp[i]);
    if (!s) s = operand(grads[i], &cg[i]);
    if (!s && use_mom) {
      if (bufs[i]) s = operand(bufs[i], &cb[i]);
      else if (!(s = wick_tensor_new(params[i]->dtype, params[i]->device, params[i]->ndim, params[i]->sizes, &fresh[i])))
        cb[i] = wick_tensor_retain(fresh[i]);
    }
    first[i] = fresh[i] != NULL;
  }
  for (int i = 0; i < n && !s; i++) {
    if (sc.done[i]) continue;
    int k = next_group(&sc, cp, first, i);
    for (int j = 0; j < k; j++) {
      gp[j] = cp[sc.idx[j]];
      sc.g[j] = cg[sc.idx[j]];
      gb[j] = cb[sc.idx[j]];
    }
    const wick_backend *be = wick_backend_get(cp[i]->device.type);
    s = be->sgd_step(k, gp, sc.g, use_mom ? gb : NULL, o, first[i]);
  }
  for (int i = 0; i < n; i++) { /* copy back (also after a failure: never leave a dangling copy) */
    wick_tensor_release(cg[i]);
    if (cp[i]) {
      wick_status sp = s ? (wick_tensor_release(cp[i]), WICK_OK) : finish_operand(params[i], cp[i]);
      if (!s) s = sp;
    }
    if (cb[i]) {
      wick_status sb = s ? (wick_tensor_release(cb[i]), WICK_OK) : finish_operand(fresh[i] ? fresh[i] : bufs[i], cb[i]);
      if (!s) s = sb;
    }
  }
  for (int i = 0; i < n; i++) {
    if (!fresh[i]) continue;
    if (s) wick_tensor_release(fresh[i]);
    else bufs[i] = fresh[i];
  }
  scratch_free(&sc);
  return s;
}

wick_status wick_sgd_update(wick_tensor *param, const wick_tensor *grad, wick_tensor **buf,
                            const wick_sgd_options *o) {
  return wick_sgd_update_many(1, &param, &grad, buf, o);
}

wick_status wick_adam_update_many(int n, wick_tensor *const *params, const wick_tensor *const *grads,
                                  wick_tensor *const *exp_avg, wick_tensor *const *exp_avg_sq,
                                  wick_tensor *const *max_exp_avg_sq, const wick_adam_options *o) {
  const char *op = o->decoupled ? "AdamW" : "Adam";
  if (n <= 0) return WICK_OK;
  for (int i = 0; i < n; i++) {
    WICK_TRY(check_param(op, params[i], grads[i]));
    if (!exp_avg[i] || !exp_avg_sq[i])
      return wick_errorf(WICK_ERR_ARG, "%s: missing state exp_avg or exp_avg_sq", op);
    if (o->amsgrad && (!max_exp_avg_sq || !max_exp_avg_sq[i]))
      return wick_errorf(WICK_ERR_ARG, "%s: amsgrad needs the state max_exp_avg_sq", op);
    if (o->step < 1)
      return wick_errorf(WICK_ERR_ARG, "%s: step must be at least 1 (got %lld)", op, (long long)o->step);
    WICK_TRY(check_state(op, "exp_avg", params[i], exp_avg[i]));
    WICK_TRY(check_state(op, "exp_avg_sq", params[i], exp_avg_sq[i]));
    if (o->amsgrad) WICK_TRY(check_state(op, "max_exp_avg_sq", params[i], max_exp_avg_sq[i]));
  }
  WICK_TRY(check_rows(op, n, params, 2));
  scratch sc;
  WICK_TRY(scratch_new(op, n, 10, &sc));
  wick_tensor **c[5], **gs[5]; /* operands p, g, m, v, vmax and one group's of each */
  for (int k = 0; k < 5; k++) { c[k] = sc.t + k * n; gs[k] = sc.t + (5 + k) * n; }
  wick_status s = WICK_OK;
  for (int i = 0; i < n && !s; i++) {
    wick_tensor *orig[5] = {params[i], (wick_tensor *)grads[i], exp_avg[i], exp_avg_sq[i],
                            o->amsgrad ? max_exp_avg_sq[i] : NULL};
    for (int k = 0; k < 5 && !s; k++)
      if (orig[k]) s = operand(orig[k], &c[k][i]);
  }
  for (int i = 0; i < n && !s; i++) {
    if (sc.done[i]) continue;
    int cnt = next_group(&sc, c[0], NULL, i);
    for (int j = 0; j < cnt; j++)
      for (int k = 0; k < 5; k++) gs[k][j] = c[k][sc.idx[j]];
    for (int j = 0; j < cnt; j++) sc.g[j] = gs[1][j];
    const wick_backend *be = wick_backend_get(c[0][i]->device.type);
    s = be->adam_step(cnt, gs[0], sc.g, gs[2], gs[3], o->amsgrad ? gs[4] : NULL, o);
  }
  for (int i = 0; i < n; i++) {
    wick_tensor *orig[5] = {params[i], NULL, exp_avg[i], exp_avg_sq[i], o->amsgrad ? max_exp_avg_sq[i] : NULL};
    for (int k = 0; k < 5; k++) {
      if (!c[k][i]) continue;
      if (k == 1 || s) { wick_tensor_release(c[k][i]); continue; }
      s = finish_operand(orig[k], c[k][i]);
    }
  }
  scratch_free(&sc);
  return s;
}

wick_status wick_adam_update(wick_tensor *param, const wick_tensor *grad, wick_tensor *exp_avg,
                             wick_tensor *exp_avg_sq, wick_tensor *max_exp_avg_sq,
                             const wick_adam_options *o) {
  return wick_adam_update_many(1, &param, &grad, &exp_avg, &exp_avg_sq, &max_exp_avg_sq, o);
}
