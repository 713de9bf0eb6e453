/* Bindings of the fused optimizer updates (src/core/optim.c), called by lua/wick/optim/:
 * wick._sgd_update and wick._adam_update. The optimizer classes hold the policy. */
#include "core/optim.h"
#include "l_aux.h"

/* wick._sgd_update(param, grad, momentum_buffer|nil, {lr, momentum, dampening, weight_decay,
 * nesterov, maximize}) -> the momentum buffer (a new one on the first step with momentum;
 * nil without momentum). */
static int l_sgd_update(lua_State *L) {
  static const char *const opts[] = {"lr", "momentum", "dampening", "weight_decay", "nesterov",
                                     "maximize", NULL};
  wick_tensor *p = l_checktensor(L, 1), *g = l_checktensor(L, 2);
  wick_tensor *buf = lua_isnoneornil(L, 3) ? NULL : l_checktensor(L, 3);
  luaL_checktype(L, 4, LUA_TTABLE);
  l_checkoptions(L, 4, "_sgd_update", opts);
  wick_sgd_options o = {
    .lr = l_optnumber(L, 4, "lr", 0), .momentum = l_optnumber(L, 4, "momentum", 0),
    .dampening = l_optnumber(L, 4, "dampening", 0),
    .weight_decay = l_optnumber(L, 4, "weight_decay", 0),
    .nesterov = l_optbool(L, 4, "nesterov", 0), .maximize = l_optbool(L, 4, "maximize", 0),
  };
  if (o.momentum == 0) {
    L_TRY(L, wick_sgd_update(p, g, &buf, &o));
    if (buf) lua_pushvalue(L, 3); else lua_pushnil(L);
    return 1;
  }
  if (buf) {
    L_TRY(L, wick_sgd_update(p, g, &buf, &o));
    lua_pushvalue(L, 3);
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
  static const char *const opts[] = {"lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad",
                                     "maximize", "decoupled", "step", NULL};
  wick_tensor *p = l_checktensor(L, 1), *g = l_checktensor(L, 2);
  wick_tensor *m = l_checktensor(L, 3), *v = l_checktensor(L, 4);
  wick_tensor *vmax = lua_isnoneornil(L, 5) ? NULL : l_checktensor(L, 5);
  luaL_checktype(L, 6, LUA_TTABLE);
  l_checkoptions(L, 6, "_adam_update", opts);
  wick_adam_options o = {
    .lr = l_optnumber(L, 6, "lr", 1e-3), .beta1 = l_optnumber(L, 6, "beta1", 0.9),
    .beta2 = l_optnumber(L, 6, "beta2", 0.999), .eps = l_optnumber(L, 6, "eps", 1e-8),
    .weight_decay = l_optnumber(L, 6, "weight_decay", 0),
    .amsgrad = l_optbool(L, 6, "amsgrad", 0), .maximize = l_optbool(L, 6, "maximize", 0),
    .decoupled = l_optbool(L, 6, "decoupled", 0), .step = l_optinteger(L, 6, "step", 1),
  };
  L_TRY(L, wick_adam_update(p, g, m, v, vmax, &o));
  return 0;
}

void l_open_optim(lua_State *L, int core, int methods) {
  (void)methods;
  static const luaL_Reg fns[] = {
    {"_sgd_update", l_sgd_update}, {"_adam_update", l_adam_update}, {NULL, NULL},
  };
  l_setfuncs(L, core, fns);
}
