/* Neural-network functions for Lua (torch.nn.functional's): wick.conv2d, max_pool2d,
 * avg_pool2d, adaptive_avg_pool2d, batch_norm, layer_norm, embedding, dropout and the losses.
 * Positional arguments in PyTorch's order, keyword arguments in a trailing options table. */
#include <string.h>

#include "autograd/fn_nn.h"
#include "l_aux.h"

/* A tensor or nil at idx (NULL for nil/none). */
static wick_tensor *opt_tensor(lua_State *L, int idx, const char *op, const char *what) {
  if (lua_isnoneornil(L, idx)) return NULL;
  wick_tensor *t = l_testtensor(L, idx);
  if (!t) l_errorf(L, "%s: expected %s to be a tensor or nil (got %s)", op, what, luaL_typename(L, idx));
  return t;
}

/* An options-table field holding a tensor (the table keeps it alive during the call). */
static wick_tensor *field_tensor(lua_State *L, int opts, const char *key, const char *op) {
  if (lua_type(L, opts) != LUA_TTABLE) return NULL;
  lua_getfield(L, opts, key);
  wick_tensor *t = opt_tensor(L, -1, op, key);
  lua_pop(L, 1);
  return t;
}

/* An int or a {h, w} pair at stack index idx into out[2]. */
static void check_pair(lua_State *L, int idx, const char *op, const char *what, int64_t *out) {
  int isint;
  if (lua_type(L, idx) == LUA_TTABLE && !l_testtensor(L, idx)) {
    if (luaL_len(L, idx) == 2) {
      for (int i = 0; i < 2; i++) {
        lua_rawgeti(L, idx, i + 1);
        out[i] = (int64_t)lua_tointegerx(L, -1, &isint);
        lua_pop(L, 1);
        if (!isint) break;
      }
      if (isint) return;
    }
  } else {
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    if (isint) { out[0] = out[1] = (int64_t)v; return; }
  }
  l_errorf(L, "%s: %s must be an integer or a pair of integers {h, w}", op, what);
}

/* opts[key] as a pair; false when absent. */
static bool opt_pair(lua_State *L, int opts, const char *key, const char *op, int64_t *out) {
  if (lua_type(L, opts) != LUA_TTABLE) return false;
  if (lua_getfield(L, opts, key) == LUA_TNIL) { lua_pop(L, 1); return false; }
  check_pair(L, lua_gettop(L), op, key, out);
  lua_pop(L, 1);
  return true;
}

static wick_reduction opt_reduction(lua_State *L, int opts, const char *op) {
  if (lua_type(L, opts) != LUA_TTABLE || lua_getfield(L, opts, "reduction") == LUA_TNIL) {
    if (lua_type(L, opts) == LUA_TTABLE) lua_pop(L, 1);
    return WICK_REDUCTION_MEAN;
  }
  const char *r = lua_tostring(L, -1);
  wick_reduction v = WICK_REDUCTION_MEAN;
  if (r && strcmp(r, "sum") == 0) v = WICK_REDUCTION_SUM;
  else if (r && strcmp(r, "none") == 0) v = WICK_REDUCTION_NONE;
  else if (!r || strcmp(r, "mean") != 0)
    l_errorf(L, "%s: reduction must be 'mean', 'sum' or 'none' (got '%s')", op, r ? r : luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

/* The trailing options table: the first argument from `first` on that is a plain table
 * (tensors are userdata), else `last`. Arguments before it are positional. Callers first
 * lua_settop(L, last), so that every index up to `last` is a real (maybe nil) argument. */
static int find_opts(lua_State *L, int first, int last) {
  for (int i = first; i <= last; i++)
    if (lua_type(L, i) == LUA_TTABLE) return i;
  return last;
}

/* ---- conv2d(input, weight, bias?, {stride, padding, dilation, groups}) ---- */

static int l_conv2d(lua_State *L) {
  static const char *const keys[] = {"stride", "padding", "dilation", "groups", NULL};
  const char *op = "conv2d";
  lua_settop(L, 4);
  wick_tensor *x = l_checktensor(L, 1), *w = l_checktensor(L, 2);
  int opts = find_opts(L, 3, 4);
  wick_tensor *b = opts == 3 ? NULL : opt_tensor(L, 3, op, "bias");
  l_checkoptions(L, opts, op, keys);
  wick_conv2d_opts o = {{1, 1}, {0, 0}, {1, 1}, 1, false};
  opt_pair(L, opts, "stride", op, o.stride);
  opt_pair(L, opts, "dilation", op, o.dilation);
  o.groups = l_optinteger(L, opts, "groups", 1);
  if (lua_type(L, opts) == LUA_TTABLE && lua_getfield(L, opts, "padding") == LUA_TSTRING) {
    const char *p = lua_tostring(L, -1);
    if (strcmp(p, "same") == 0) o.same = true;
    else if (strcmp(p, "valid") != 0)
      return l_errorf(L, "%s: invalid padding string '%s', should be one of {'valid', 'same'}", op, p);
  } else if (lua_type(L, opts) != LUA_TNIL) {
    lua_pop(L, 1);
    opt_pair(L, opts, "padding", op, o.padding);
  }
  L_PUSH_NEW(L, r, wick_ag_conv2d(x, w, b, &o, &r));
}

/* ---- pooling ---- */

/* (x, kernel_size, {stride = kernel_size, padding, ...}): the arguments both poolings take. */
static wick_tensor *check_pool_args(lua_State *L, const char *op, const char *const *keys, wick_pool2d_opts *o) {
  lua_settop(L, 3);
  wick_tensor *x = l_checktensor(L, 1);
  *o = (wick_pool2d_opts){{1, 1}, {0, 0}, {0, 0}, {1, 1}, false, true, 0};
  check_pair(L, 2, op, "kernel_size", o->kernel);
  l_checkoptions(L, 3, op, keys);
  if (!opt_pair(L, 3, "stride", op, o->stride)) memcpy(o->stride, o->kernel, sizeof o->stride);
  opt_pair(L, 3, "padding", op, o->padding);
  return x;
}

static int l_max_pool2d(lua_State *L) {
  static const char *const keys[] = {"stride", "padding", "dilation", "ceil_mode", "return_indices", NULL};
  const char *op = "max_pool2d";
  wick_pool2d_opts o;
  wick_tensor *x = check_pool_args(L, op, keys, &o);
  opt_pair(L, 3, "dilation", op, o.dilation);
  o.ceil_mode = l_optbool(L, 3, "ceil_mode", 0);
  bool with_indices = l_optbool(L, 3, "return_indices", 0);
  l_tensor_box *rb = l_newbox(L), *ib = with_indices ? l_newbox(L) : NULL;
  L_TRY(L, wick_ag_max_pool2d(x, &o, &rb->t, ib ? &ib->t : NULL));
  l_gc_pace(L);
  return with_indices ? 2 : 1;
}

static int l_avg_pool2d(lua_State *L) {
  static const char *const keys[] = {"stride", "padding", "ceil_mode", "count_include_pad", "divisor_override", NULL};
  const char *op = "avg_pool2d";
  wick_pool2d_opts o;
  wick_tensor *x = check_pool_args(L, op, keys, &o);
  o.ceil_mode = l_optbool(L, 3, "ceil_mode", 0);
  o.count_include_pad = l_optbool(L, 3, "count_include_pad", 1);
  o.divisor_override = l_optinteger(L, 3, "divisor_override", 0);
  if (lua_type(L, 3) == LUA_TTABLE && lua_getfield(L, 3, "divisor_override") != LUA_TNIL && o.divisor_override == 0)
    return l_errorf(L, "%s: divisor must be not zero", op);
  L_PUSH_NEW(L, r, wick_ag_avg_pool2d(x, &o, &r));
}

static int l_adaptive_avg_pool2d(lua_State *L) {
  lua_settop(L, 2);
  wick_tensor *x = l_checktensor(L, 1);
  int64_t os[2];
  check_pair(L, 2, "adaptive_avg_pool2d", "output_size", os);
  L_PUSH_NEW(L, r, wick_ag_adaptive_avg_pool2d(x, os[0], os[1], &r));
}

/* ---- normalisation ---- */

static int l_batch_norm(lua_State *L) {
  static const char *const keys[] = {"training", "momentum", "eps", NULL};
  const char *op = "batch_norm";
  lua_settop(L, 6);
  wick_tensor *x = l_checktensor(L, 1), *t[4] = {NULL, NULL, NULL, NULL};
  static const char *const names[4] = {"running_mean", "running_var", "weight", "bias"};
  int opts = find_opts(L, 2, 6);
  for (int i = 0; i < 4 && 2 + i < opts; i++) t[i] = opt_tensor(L, 2 + i, op, names[i]);
  l_checkoptions(L, opts, op, keys);
  bool training = l_optbool(L, opts, "training", 0);
  double momentum = l_optnumber(L, opts, "momentum", 0.1), eps = l_optnumber(L, opts, "eps", 1e-5);
  L_PUSH_NEW(L, r, wick_ag_batch_norm(x, t[0], t[1], t[2], t[3], training, momentum, eps, &r));
}

static int l_layer_norm(lua_State *L) {
  static const char *const keys[] = {"eps", NULL};
  const char *op = "layer_norm";
  lua_settop(L, 5);
  wick_tensor *x = l_checktensor(L, 1), *w = NULL, *b = NULL;
  int64_t shape[WICK_MAX_DIMS];
  int n;
  if (lua_type(L, 2) == LUA_TTABLE) n = l_checksizes(L, 2, 2, op, shape);
  else {
    int isint;
    shape[0] = (int64_t)lua_tointegerx(L, 2, &isint);
    if (!isint) return l_errorf(L, "%s: normalized_shape must be an integer or a table of integers", op);
    n = 1;
  }
  int opts = find_opts(L, 3, 5);
  if (opts > 3) w = opt_tensor(L, 3, op, "weight");
  if (opts > 4) b = opt_tensor(L, 4, op, "bias");
  l_checkoptions(L, opts, op, keys);
  double eps = l_optnumber(L, opts, "eps", 1e-5);
  L_PUSH_NEW(L, r, wick_ag_layer_norm(x, n, shape, w, b, eps, &r));
}

/* ---- embedding, dropout ---- */

static int l_embedding(lua_State *L) {
  static const char *const keys[] = {"padding_idx", NULL};
  lua_settop(L, 3);
  wick_tensor *ix = l_checktensor(L, 1), *w = l_checktensor(L, 2);
  l_checkoptions(L, 3, "embedding", keys);
  bool has_pad = lua_type(L, 3) == LUA_TTABLE && lua_getfield(L, 3, "padding_idx") != LUA_TNIL;
  int64_t pad = has_pad ? l_optinteger(L, 3, "padding_idx", 0) : 0;
  L_PUSH_NEW(L, r, wick_ag_embedding(ix, w, has_pad, pad, &r));
}

static int l_dropout(lua_State *L) {
  static const char *const keys[] = {"p", "training", "inplace", "generator", NULL};
  lua_settop(L, 3);
  wick_tensor *x = l_checktensor(L, 1);
  double p = 0.5;
  bool training = true;
  int opts = lua_type(L, 2) == LUA_TTABLE ? 2 : 0;
  if (opts) {
    l_checkoptions(L, 2, "dropout", keys);
    p = l_optnumber(L, 2, "p", 0.5);
    training = l_optbool(L, 2, "training", 1);
    if (l_optbool(L, 2, "inplace", 0)) return l_errorf(L, "dropout: inplace = true is not supported");
  } else {
    p = luaL_optnumber(L, 2, 0.5);
    if (!lua_isnoneornil(L, 3)) {
      luaL_checktype(L, 3, LUA_TBOOLEAN);
      training = lua_toboolean(L, 3);
    }
  }
  wick_generator *gen = opts ? l_optgenerator(L, opts) : NULL;
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_ag_dropout(x, p, training, gen, &box->t));
  if (box->t == x) { /* the input itself, as PyTorch returns it */
    wick_tensor_release(box->t);
    box->t = NULL;
    lua_pushvalue(L, 1);
    return 1;
  }
  l_gc_pace(L);
  return 1;
}

/* ---- losses ---- */

static void ce_opts(lua_State *L, int opts, const char *op, bool smoothing, wick_ce_opts *o) {
  static const char *const ce_keys[] = {"weight", "ignore_index", "reduction", "label_smoothing", NULL};
  static const char *const nll_keys[] = {"weight", "ignore_index", "reduction", NULL};
  l_checkoptions(L, opts, op, smoothing ? ce_keys : nll_keys);
  o->weight = field_tensor(L, opts, "weight", op);
  o->ignore_index = l_optinteger(L, opts, "ignore_index", -100);
  o->reduction = opt_reduction(L, opts, op);
  o->label_smoothing = smoothing ? l_optnumber(L, opts, "label_smoothing", 0.0) : 0.0;
}

static int l_cross_entropy(lua_State *L) {
  lua_settop(L, 3);
  wick_tensor *x = l_checktensor(L, 1), *t = l_checktensor(L, 2);
  wick_ce_opts o;
  ce_opts(L, 3, "cross_entropy", true, &o);
  L_PUSH_NEW(L, r, wick_ag_cross_entropy(x, t, &o, &r));
}

static int l_nll_loss(lua_State *L) {
  lua_settop(L, 3);
  wick_tensor *x = l_checktensor(L, 1), *t = l_checktensor(L, 2);
  wick_ce_opts o;
  ce_opts(L, 3, "nll_loss", false, &o);
  L_PUSH_NEW(L, r, wick_ag_nll_loss(x, t, &o, &r));
}

/* The losses of WICK_LOSS_LIST (core/oplist.h); upvalue 1 is the kind. */
static int l_elem_loss(lua_State *L) {
  wick_loss_kind kind = (wick_loss_kind)lua_tointeger(L, lua_upvalueindex(1));
  const char *op = wick_loss_name(kind);
  static const char *const keys[] = {"reduction", NULL};
  static const char *const bce_keys[] = {"weight", "pos_weight", "reduction", NULL};
  lua_settop(L, 3);
  wick_tensor *x = l_checktensor(L, 1), *t = l_checktensor(L, 2), *w = NULL, *pw = NULL;
  bool bce = kind == WICK_LOSS_BCE_LOGITS;
  l_checkoptions(L, 3, op, bce ? bce_keys : keys);
  if (bce) {
    w = field_tensor(L, 3, "weight", op);
    pw = field_tensor(L, 3, "pos_weight", op);
  }
  wick_reduction red = opt_reduction(L, 3, op);
  L_PUSH_NEW(L, r, wick_ag_elem_loss(kind, x, t, w, pw, red, &r));
}


void l_open_nn(lua_State *L, int core, int methods) {
  (void)methods;
  static const luaL_Reg fns[] = {
    {"conv2d", l_conv2d}, {"max_pool2d", l_max_pool2d}, {"avg_pool2d", l_avg_pool2d},
    {"adaptive_avg_pool2d", l_adaptive_avg_pool2d}, {"batch_norm", l_batch_norm},
    {"layer_norm", l_layer_norm}, {"embedding", l_embedding}, {"dropout", l_dropout},
    {"cross_entropy", l_cross_entropy}, {"nll_loss", l_nll_loss}, {NULL, NULL},
  };
  l_setfuncs(L, core, fns);
  for (int k = 0; k < WICK_LOSS_COUNT; k++) {
    lua_pushinteger(L, k);
    lua_pushcclosure(L, l_elem_loss, 1);
    lua_setfield(L, core, wick_loss_name(k));
  }
}
