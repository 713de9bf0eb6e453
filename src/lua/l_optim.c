/* Bindings of the fused optimizer updates (src/core/optim.c), called by lua/wick/optim/:
 * wick._sgd_update, wick._adam_update and their list forms wick._sgd_update_many,
 * wick._adam_update_many. The optimizer classes hold the policy. */
#include "core/optim.h"
#include "l_aux.h"

/* The options table at idx of the SGD / Adam updates (defaults as torch.optim). */
static wick_sgd_options check_sgd_options(lua_State *L, int idx, const char *op) {
  static const char *const opts[] = {"lr", "momentum", "dampening", "weight_decay", "nesterov",
                                     "maximize", NULL};
  luaL_checktype(L, idx, LUA_TTABLE);
  l_checkoptions(L, idx, op, opts);
  return (wick_sgd_options){
    .lr = l_optnumber(L, idx, "lr", 0), .momentum = l_optnumber(L, idx, "momentum", 0),
    .dampening = l_optnumber(L, idx, "dampening", 0),
    .weight_decay = l_optnumber(L, idx, "weight_decay", 0),
    .nesterov = l_optbool(L, idx, "nesterov", 0), .maximize = l_optbool(L, idx, "maximize", 0),
  };
}

static wick_adam_options check_adam_options(lua_State *L, int idx, const char *op) {
  static const char *const opts[] = {"lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad",
                                     "maximize", "decoupled", "step", NULL};
  luaL_checktype(L, idx, LUA_TTABLE);
  l_checkoptions(L, idx, op, opts);
  return (wick_adam_options){
    .lr = l_optnumber(L, idx, "lr", 1e-3), .beta1 = l_optnumber(L, idx, "beta1", 0.9),
    .beta2 = l_optnumber(L, idx, "beta2", 0.999), .eps = l_optnumber(L, idx, "eps", 1e-8),
    .weight_decay = l_optnumber(L, idx, "weight_decay", 0),
    .amsgrad = l_optbool(L, idx, "amsgrad", 0), .maximize = l_optbool(L, idx, "maximize", 0),
    .decoupled = l_optbool(L, idx, "decoupled", 0), .step = l_optinteger(L, idx, "step", 1),
  };
}

/* wick._sgd_update(param, grad, momentum_buffer|nil, {lr, momentum, dampening, weight_decay,
 * nesterov, maximize}) -> the momentum buffer (a new one on the first step with momentum;
 * nil without momentum). */
static int l_sgd_update(lua_State *L) {
  wick_tensor *p = l_checktensor(L, 1), *g = l_checktensor(L, 2);
  wick_tensor *buf = lua_isnoneornil(L, 3) ? NULL : l_checktensor(L, 3);
  wick_sgd_options o = check_sgd_options(L, 4, "_sgd_update");
  if (o.momentum == 0 || buf) { /* no buffer to make: the one given (or nil) goes back */
    L_TRY(L, wick_sgd_update(p, g, &buf, &o));
    if (buf) lua_pushvalue(L, 3); else lua_pushnil(L);
    return 1;
  }
  /* first step: the new buffer goes into a box pushed before it is allocated */
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_sgd_update(p, g, &buf, &o));
  box->t = buf;
  l_gc_pace(L);
  return 1;
}

/* wick._adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq|nil, {lr, beta1, beta2,
 * eps, weight_decay, amsgrad, maximize, decoupled, step}): updates everything in place. */
static int l_adam_update(lua_State *L) {
  wick_tensor *p = l_checktensor(L, 1), *g = l_checktensor(L, 2);
  wick_tensor *m = l_checktensor(L, 3), *v = l_checktensor(L, 4);
  wick_tensor *vmax = lua_isnoneornil(L, 5) ? NULL : l_checktensor(L, 5);
  wick_adam_options o = check_adam_options(L, 6, "_adam_update");
  L_TRY(L, wick_adam_update(p, g, m, v, vmax, &o));
  return 0;
}

/* n tensors from the array part of the table at idx (entry i+1); a nil entry gives NULL when
 * nil_ok, else an error naming `what`. Written into GC-owned memory (no leak on error). */
static wick_tensor **list_arg(lua_State *L, int idx, int n, const char *what, int nil_ok) {
  wick_tensor **a = lua_newuserdatauv(L, sizeof(wick_tensor *) * (size_t)(n > 0 ? n : 1), 0);
  for (int i = 0; i < n; i++) {
    lua_geti(L, idx, i + 1);
    if (lua_isnil(L, -1) && nil_ok) a[i] = NULL;
    else if (!(a[i] = l_testtensor(L, -1))) l_errorf(L, "%s: entry %d of %s is not a tensor", "_update_many", i + 1, what);
    lua_pop(L, 1);
  }
  return a;
}

static int check_count(lua_State *L, int idx) {
  lua_Integer n = luaL_checkinteger(L, idx);
  if (n < 0 || n > (1 << 24)) return l_errorf(L, "_update_many: bad parameter count %lld", (long long)n);
  return (int)n;
}

/* wick._sgd_update_many(params, grads, bufs, n, opts): the updates of n parameters in as few
 * device calls as possible. bufs[i] is the momentum buffer or nil; with momentum, the nil
 * entries are replaced by new buffers. */
static int l_sgd_update_many(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  int n = check_count(L, 4);
  wick_sgd_options o = check_sgd_options(L, 5, "_sgd_update_many");
  lua_settop(L, 5);
  wick_tensor **p = list_arg(L, 1, n, "params", 0);                /* 6 */
  wick_tensor **g = list_arg(L, 2, n, "grads", 0);                 /* 7 */
  wick_tensor **b = list_arg(L, 3, n, "momentum buffers", 1);      /* 8 */
  lua_createtable(L, 0, 0);                                        /* 9: boxes for new buffers */
  int fresh = 0;
  if (o.momentum != 0)
    for (int i = 0; i < n; i++)
      if (!b[i]) {
        l_newbox(L);
        lua_seti(L, 9, i + 1);
        fresh = 1;
      }
  L_TRY(L, wick_sgd_update_many(n, p, (const wick_tensor *const *)g, b, &o));
  if (fresh) {
    for (int i = 0; i < n; i++) {
      if (lua_geti(L, 9, i + 1) == LUA_TNIL) { lua_pop(L, 1); continue; }
      l_tobox(L, -1)->t = b[i];
      lua_seti(L, 3, i + 1);
    }
    l_gc_pace(L);
  }
  return 0;
}

/* wick._adam_update_many(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs|nil, n, opts):
 * one Adam/AdamW step (the same step count for all) of n parameters in place. */
static int l_adam_update_many(lua_State *L) {
  for (int i = 1; i <= 4; i++) luaL_checktype(L, i, LUA_TTABLE);
  if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
  int n = check_count(L, 6);
  wick_adam_options o = check_adam_options(L, 7, "_adam_update_many");
  lua_settop(L, 7);
  wick_tensor **p = list_arg(L, 1, n, "params", 0);
  wick_tensor **g = list_arg(L, 2, n, "grads", 0);
  wick_tensor **m = list_arg(L, 3, n, "exp_avgs", 1);
  wick_tensor **v = list_arg(L, 4, n, "exp_avg_sqs", 1);
  wick_tensor **vm = lua_isnil(L, 5) ? NULL : list_arg(L, 5, n, "max_exp_avg_sqs", 1);
  L_TRY(L, wick_adam_update_many(n, p, (const wick_tensor *const *)g, m, v, vm, &o));
  return 0;
}

void l_open_optim(lua_State *L, int core, int methods) {
  (void)methods;
  static const luaL_Reg fns[] = {
    {"_sgd_update", l_sgd_update}, {"_adam_update", l_adam_update},
    {"_sgd_update_many", l_sgd_update_many}, {"_adam_update_many", l_adam_update_many},
    {NULL, NULL},
  };
  l_setfuncs(L, core, fns);
}
