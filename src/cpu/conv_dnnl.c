/* Convolution through oneDNN (see conv_dnnl.h). A plan holds, for one geometry and direction,
 * the convolution primitive (its formats chosen by oneDNN: "any"), the reorders between the
 * user's plain NCHW/OIHW tensors and those formats, and the scratchpad size; plans are kept
 * in a small table for the life of the process (a training loop repeats a few shapes). */
#include "conv_dnnl.h"

#ifdef WICK_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"

enum { FWD, BWD_DATA, BWD_WEIGHTS };
#define NARG 3   /* the three tensors a plan reorders: fwd src/wei/dst, bwd-data ddst/wei/dsrc, */
#define MAX_PLANS 128 /* bwd-weights src/ddst/dwei */

typedef struct {
  wick_conv_geom g;
  int dir;
  bool bias;
  dnnl_primitive_t prim;
  dnnl_memory_desc_t user[NARG], inner[NARG]; /* plain layout, the primitive's layout */
  dnnl_primitive_t reorder[NARG];             /* NULL when the layouts are equal */
  dnnl_memory_desc_t bias_md;
  size_t scratch;
} plan;

static struct {
  pthread_mutex_t lock;
  int state; /* 0 untried, 1 ready, -1 unavailable */
  dnnl_engine_t eng;
  plan plans[MAX_PLANS];
  int n;
} dn = {PTHREAD_MUTEX_INITIALIZER};

static bool enabled(void) {
  if (dn.state) return dn.state > 0;
  const char *e = getenv("WICK_CONV");
  if (e && strcmp(e, "im2col") == 0) dn.state = -1;
  else dn.state = dnnl_engine_create(&dn.eng, dnnl_cpu, 0) == dnnl_success ? 1 : -1;
  return dn.state > 0;
}

const char *wick_dnnl_version(void) {
  static char buf[64];
  pthread_mutex_lock(&dn.lock);
  bool on = enabled();
  pthread_mutex_unlock(&dn.lock);
  if (!on) return NULL;
  const dnnl_version_t *v = dnnl_version();
  snprintf(buf, sizeof buf, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
  return buf;
}

static void md4(dnnl_memory_desc_t *md, int64_t a, int64_t b, int64_t c, int64_t d, dnnl_format_tag_t tag) {
  dnnl_dims_t dims = {a, b, c, d};
  dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag);
}

/* user layouts: activations nchw, weights oihw (goihw with groups) */
static void weights_md(dnnl_memory_desc_t *md, const wick_conv_geom *g, bool any) {
  if (g->G == 1) {
    md4(md, g->O, g->C, g->KH, g->KW, any ? dnnl_format_tag_any : dnnl_oihw);
    return;
  }
  dnnl_dims_t dims = {g->G, g->O / g->G, g->C / g->G, g->KH, g->KW};
  dnnl_memory_desc_init_by_tag(md, 5, dims, dnnl_f32, any ? dnnl_format_tag_any : dnnl_goihw);
}

static bool same_geom(const wick_conv_geom *a, const wick_conv_geom *b) { return memcmp(a, b, sizeof *a) == 0; }

/* user md of argument i, and whether it flows into the primitive (else out of it) */
static const dnnl_query_t inner_query[3][NARG] = {
  {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md},
  {dnnl_query_diff_dst_md, dnnl_query_weights_md, dnnl_query_diff_src_md},
  {dnnl_query_src_md, dnnl_query_diff_dst_md, dnnl_query_diff_weights_md},
};
static const int arg_id[3][NARG] = {
  {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
  {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
  {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS},
};

static bool make_plan(plan *p, const wick_conv_geom *g, int dir, bool bias) {
  memset(p, 0, sizeof *p);
  p->g = *g;
  p->dir = dir;
  p->bias = bias;
  dnnl_memory_desc_t src, wei, dst, b, src_u, wei_u, dst_u;
  md4(&src, g->N, g->C, g->H, g->W, dnnl_format_tag_any);
  md4(&dst, g->N, g->O, g->OH, g->OW, dnnl_format_tag_any);
  weights_md(&wei, g, true);
  md4(&src_u, g->N, g->C, g->H, g->W, dnnl_nchw);
  md4(&dst_u, g->N, g->O, g->OH, g->OW, dnnl_nchw);
  weights_md(&wei_u, g, false);
  dnnl_dims_t bd = {g->O};
  dnnl_memory_desc_init_by_tag(&b, 1, bd, dnnl_f32, dnnl_x);
  p->bias_md = b;
  dnnl_dims_t strides = {g->SH, g->SW}, dil = {g->DH - 1, g->DW - 1}, pl = {g->PH, g->PW};
  dnnl_dims_t pr = {(g->OH - 1) * g->SH + (g->KH - 1) * g->DH + 1 - g->H - g->PH,
                    (g->OW - 1) * g->SW + (g->KW - 1) * g->DW + 1 - g->W - g->PW};
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t fwd = NULL, pd = NULL;
  bool ok = false;
  if (dnnl_primitive_attr_create(&attr) != dnnl_success) return false;
  dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  dnnl_convolution_desc_t fd;
  if (dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
        &src, &wei, bias && dir == FWD ? &b : NULL, &dst, strides, dil, pl, pr) != dnnl_success)
    goto done;
  if (dnnl_primitive_desc_create(&fwd, &fd, dir == FWD ? attr : NULL, dn.eng, NULL) != dnnl_success)
    goto done;
  if (dir == FWD) {
    pd = fwd;
    fwd = NULL;
  } else if (dir == BWD_DATA) {
    dnnl_convolution_desc_t bd_;
    if (dnnl_dilated_convolution_backward_data_desc_init(&bd_, dnnl_convolution_direct, &src, &wei,
          &dst, strides, dil, pl, pr) != dnnl_success ||
        dnnl_primitive_desc_create(&pd, &bd_, attr, dn.eng, fwd) != dnnl_success)
      goto done;
  } else {
    dnnl_convolution_desc_t bd_;
    if (dnnl_dilated_convolution_backward_weights_desc_init(&bd_, dnnl_convolution_direct, &src, &wei,
          bias ? &b : NULL, &dst, strides, dil, pl, pr) != dnnl_success ||
        dnnl_primitive_desc_create(&pd, &bd_, attr, dn.eng, fwd) != dnnl_success)
      goto done;
  }
  const dnnl_memory_desc_t *users[3][NARG] = {
    {&src_u, &wei_u, &dst_u}, {&dst_u, &wei_u, &src_u}, {&src_u, &dst_u, &wei_u}};
  for (int i = 0; i < NARG; i++) {
    p->user[i] = *users[dir][i];
    p->inner[i] = *dnnl_primitive_desc_query_md(pd, inner_query[dir][i], 0);
    if (dnnl_memory_desc_equal(&p->user[i], &p->inner[i])) continue;
    bool in = i < 2; /* the first two flow in, the third out */
    dnnl_primitive_desc_t rpd;
    if (dnnl_reorder_primitive_desc_create(&rpd, in ? &p->user[i] : &p->inner[i], dn.eng,
          in ? &p->inner[i] : &p->user[i], dn.eng, NULL) != dnnl_success)
      goto done;
    dnnl_status_t st = dnnl_primitive_create(&p->reorder[i], rpd);
    dnnl_primitive_desc_destroy(rpd);
    if (st != dnnl_success) goto done;
  }
  p->scratch = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
  ok = dnnl_primitive_create(&p->prim, pd) == dnnl_success;
done:
  if (!ok)
    for (int i = 0; i < NARG; i++)
      if (p->reorder[i]) dnnl_primitive_destroy(p->reorder[i]);
  if (fwd) dnnl_primitive_desc_destroy(fwd);
  if (pd) dnnl_primitive_desc_destroy(pd);
  dnnl_primitive_attr_destroy(attr);
  return ok;
}

/* The plan for (g, dir, bias), made on first use; NULL when oneDNN refuses the shape (that is
 * remembered too, as a plan without a primitive). */
static plan *get_plan(const wick_conv_geom *g, int dir, bool bias) {
  pthread_mutex_lock(&dn.lock);
  plan *found = NULL;
  if (enabled()) {
    for (int i = 0; i < dn.n && !found; i++)
      if (dn.plans[i].dir == dir && dn.plans[i].bias == bias && same_geom(&dn.plans[i].g, g))
        found = &dn.plans[i];
    if (!found) {
      plan *p = &dn.plans[dn.n < MAX_PLANS ? dn.n++ : (dn.n = 1, 0)];
      if (p->prim) { /* the table is full: recycle the oldest slot */
        dnnl_primitive_destroy(p->prim);
        for (int i = 0; i < NARG; i++) if (p->reorder[i]) dnnl_primitive_destroy(p->reorder[i]);
      }
      if (!make_plan(p, g, dir, bias)) p->prim = NULL;
      found = p;
    }
  }
  pthread_mutex_unlock(&dn.lock);
  return found && found->prim ? found : NULL;
}

static dnnl_memory_t mem(const dnnl_memory_desc_t *md, void *data) {
  dnnl_memory_t m = NULL;
  if (dnnl_memory_create(&m, md, dn.eng, data) != dnnl_success) return NULL;
  return m;
}

/* Runs plan p on the user pointers ptr[0..2] (+ bias): reorders in, the primitive, reorder out. */
static bool run(plan *p, void *const ptr[NARG], void *bias) {
  dnnl_stream_t st;
  if (dnnl_stream_create(&st, dn.eng, dnnl_stream_default_flags) != dnnl_success) return false;
  dnnl_memory_t user[NARG] = {0}, inner[NARG] = {0}, bm = NULL, sm = NULL;
  void *buf[NARG] = {0}, *scratch = NULL;
  size_t bufsz[NARG] = {0};
  bool ok = true;
  for (int i = 0; i < NARG && ok; i++) {
    user[i] = mem(&p->user[i], ptr[i]);
    ok = user[i] != NULL;
    if (!ok || !p->reorder[i]) { inner[i] = user[i]; continue; }
    bufsz[i] = dnnl_memory_desc_get_size(&p->inner[i]);
    buf[i] = wick_scratch_alloc(bufsz[i]);
    inner[i] = buf[i] ? mem(&p->inner[i], buf[i]) : NULL;
    ok = inner[i] != NULL;
  }
  if (ok && bias) ok = (bm = mem(&p->bias_md, bias)) != NULL;
  if (ok && p->scratch) {
    dnnl_memory_desc_t smd;
    dnnl_dims_t d = {(int64_t)p->scratch};
    dnnl_memory_desc_init_by_tag(&smd, 1, d, dnnl_u8, dnnl_x);
    scratch = wick_scratch_alloc(p->scratch);
    ok = scratch && (sm = mem(&smd, scratch)) != NULL;
  }
  for (int i = 0; i < 2 && ok; i++)
    if (p->reorder[i]) {
      dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, user[i]}, {DNNL_ARG_TO, inner[i]}};
      ok = dnnl_primitive_execute(p->reorder[i], st, 2, a) == dnnl_success;
    }
  if (ok) {
    dnnl_exec_arg_t a[5];
    int n = 0;
    for (int i = 0; i < NARG; i++) a[n++] = (dnnl_exec_arg_t){arg_id[p->dir][i], inner[i]};
    if (bm) a[n++] = (dnnl_exec_arg_t){p->dir == FWD ? DNNL_ARG_BIAS : DNNL_ARG_DIFF_BIAS, bm};
    if (sm) a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sm};
    ok = dnnl_primitive_execute(p->prim, st, n, a) == dnnl_success;
  }
  if (ok && p->reorder[2]) {
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, inner[2]}, {DNNL_ARG_TO, user[2]}};
    ok = dnnl_primitive_execute(p->reorder[2], st, 2, a) == dnnl_success;
  }
  if (ok) ok = dnnl_stream_wait(st) == dnnl_success;
  for (int i = 0; i < NARG; i++) {
    if (inner[i] && inner[i] != user[i]) dnnl_memory_destroy(inner[i]);
    if (user[i]) dnnl_memory_destroy(user[i]);
    if (buf[i]) wick_scratch_free(buf[i], bufsz[i]);
  }
  if (bm) dnnl_memory_destroy(bm);
  if (sm) dnnl_memory_destroy(sm);
  if (scratch) wick_scratch_free(scratch, p->scratch);
  dnnl_stream_destroy(st);
  return ok;
}

static bool usable(const wick_conv_geom *g, const wick_tensor *t) {
  return t->dtype == WICK_DTYPE_F32 && g->N > 0 && g->O > 0 && g->OH * g->OW > 0 && g->C > 0;
}

bool wick_dnnl_conv2d(wick_tensor *out, const wick_tensor *in, const wick_tensor *w,
                      const wick_tensor *bias, const wick_conv_geom *g) {
  if (!usable(g, in)) return false;
  plan *p = get_plan(g, FWD, bias != NULL);
  if (!p) return false;
  void *ptr[NARG] = {wick_tensor_data(in), wick_tensor_data(w), wick_tensor_data(out)};
  return run(p, ptr, bias ? wick_tensor_data(bias) : NULL);
}

bool wick_dnnl_conv2d_backward(const wick_tensor *gout, const wick_tensor *in, const wick_tensor *w,
                               const wick_conv_geom *g, wick_tensor *gin, wick_tensor *gw,
                               wick_tensor *gb) {
  if (!usable(g, in)) return false;
  plan *pd = gin ? get_plan(g, BWD_DATA, false) : NULL;
  plan *pw = gw || gb ? get_plan(g, BWD_WEIGHTS, gb != NULL) : NULL;
  if ((gin && !pd) || ((gw || gb) && !pw)) return false;
  if (gb && !gw) return false; /* oneDNN computes the bias gradient only with the weights' */
  if (pd) {
    void *ptr[NARG] = {wick_tensor_data(gout), wick_tensor_data(w), wick_tensor_data(gin)};
    if (!run(pd, ptr, NULL)) return false;
  }
  if (pw) {
    void *ptr[NARG] = {wick_tensor_data(in), wick_tensor_data(gout), wick_tensor_data(gw)};
    if (!run(pw, ptr, gb ? wick_tensor_data(gb) : NULL)) return false;
  }
  return true;
}

#else

bool wick_dnnl_conv2d(wick_tensor *out, const wick_tensor *in, const wick_tensor *w,
                      const wick_tensor *bias, const wick_conv_geom *g) {
  (void)out; (void)in; (void)w; (void)bias; (void)g;
  return false;
}

bool wick_dnnl_conv2d_backward(const wick_tensor *gout, const wick_tensor *in, const wick_tensor *w,
                               const wick_conv_geom *g, wick_tensor *gin, wick_tensor *gw,
                               wick_tensor *gb) {
  (void)gout; (void)in; (void)w; (void)g; (void)gin; (void)gw; (void)gb;
  return false;
}

const char *wick_dnnl_version(void) { return NULL; }

#endif
