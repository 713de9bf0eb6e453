/* Elementwise math, comparisons, where and matmul for Lua: functions, methods, operators. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "autograd/autograd.h"
#include "l_aux.h"

static const char *const add_opts[] = {"alpha", NULL};

/* add/sub accept {alpha = a}: a + alpha * b, as in PyTorch: alpha * b is formed in the result
 * dtype, a float alpha needs a float result, and bool tensors take alpha as a bool. */
static wick_tensor *scaled_operand(lua_State *L, int op, const wick_tensor *a, int idx, int opts,
                                   l_scalar *tmp) {
  wick_tensor *b = l_checkoperand(L, idx, tmp);
  if ((op != WICK_BIN_ADD && op != WICK_BIN_SUB) || lua_isnoneornil(L, opts)) return b;
  const char *name = wick_binop_name(op);
  l_checkoptions(L, opts, name, add_opts);
  if (lua_getfield(L, opts, "alpha") == LUA_TNIL) { lua_pop(L, 1); return b; }
  if (lua_type(L, -1) != LUA_TNUMBER) l_errorf(L, "%s: alpha must be a number (got %s)", name, luaL_typename(L, -1));
  if (op == WICK_BIN_SUB && (a->dtype == WICK_DTYPE_BOOL || b->dtype == WICK_DTYPE_BOOL))
    l_errorf(L, "sub: subtraction with a bool tensor is not supported; use logical_not to invert a mask");
  wick_dtype ct = wick_result_type(a, b);
  if (!lua_isinteger(L, -1) && !wick_dtype_is_float(ct))
    l_errorf(L, "%s: for integral input tensors, argument alpha must not be a floating point number", name);
  if (ct == WICK_DTYPE_BOOL) lua_pushboolean(L, lua_tonumber(L, -1) != 0);
  l_scalar alpha;
  wick_tensor *al = l_checkoperand(L, lua_gettop(L), &alpha);
  l_tensor_box *box = l_newbox(L); /* keeps the converted and scaled operands alive until we return */
  if (!b->wrapped_number && b->dtype != ct) {
    l_tensor_box *cbox = l_newbox(L);
    if (wick_ag_to(b, ct, b->device, false, &cbox->t) != WICK_OK) l_raise_last(L);
    b = cbox->t;
  }
  if (wick_ag_binary(WICK_BIN_MUL, b, al, &box->t) != WICK_OK) l_raise_last(L);
  return box->t;
}

static int l_binary(lua_State *L) {
  int op = (int)lua_tointeger(L, lua_upvalueindex(1));
  l_scalar ta, tb;
  wick_tensor *a = l_checkoperand(L, 1, &ta);
  wick_tensor *b = scaled_operand(L, op, a, 2, 3, &tb);
  L_PUSH_NEW(L, o, wick_ag_binary(op, a, b, &o));
}

static int l_binary_(lua_State *L) {
  int op = (int)lua_tointeger(L, lua_upvalueindex(1));
  wick_tensor *a = l_checktensor(L, 1);
  l_scalar tb;
  wick_tensor *b = scaled_operand(L, op, a, 2, 3, &tb);
  L_TRY(L, wick_ag_binary_(op, a, b));
  lua_settop(L, 1);
  return 1;
}

/* Operators: Lua passes (a, b) with either side possibly a number. */
static int l_unm(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  L_PUSH_NEW(L, o, wick_ag_unary(WICK_UN_NEG, a, 0, 0, &o));
}

static int l_unary(lua_State *L) {
  int op = (int)lua_tointeger(L, lua_upvalueindex(1));
  wick_tensor *a = l_checktensor(L, 1);
  L_PUSH_NEW(L, o, wick_ag_unary(op, a, 0, 0, &o));
}

static int l_unary_(lua_State *L) {
  int op = (int)lua_tointeger(L, lua_upvalueindex(1));
  wick_tensor *a = l_checktensor(L, 1);
  L_TRY(L, wick_ag_unary_(op, a, 0, 0));
  lua_settop(L, 1);
  return 1;
}

/* clamp(min, max) or clamp{min=, max=}; nil means unbounded. */
static void clamp_args(lua_State *L, double *lo, double *hi) {
  static const char *const opts[] = {"min", "max", NULL};
  if (lua_type(L, 2) == LUA_TTABLE) {
    l_checkoptions(L, 2, "clamp", opts);
    *lo = l_optnumber(L, 2, "min", NAN);
    *hi = l_optnumber(L, 2, "max", NAN);
  } else {
    *lo = lua_isnoneornil(L, 2) ? NAN : luaL_checknumber(L, 2);
    *hi = lua_isnoneornil(L, 3) ? NAN : luaL_checknumber(L, 3);
  }
  if (isnan(*lo) && isnan(*hi)) l_errorf(L, "clamp: at least one of 'min' or 'max' must not be nil");
}

static int l_clamp(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  double lo, hi;
  clamp_args(L, &lo, &hi);
  L_PUSH_NEW(L, o, wick_ag_unary(WICK_UN_CLAMP, a, lo, hi, &o));
}

static int l_clamp_(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  double lo, hi;
  clamp_args(L, &lo, &hi);
  L_TRY(L, wick_ag_unary_(WICK_UN_CLAMP, a, lo, hi));
  lua_settop(L, 1);
  return 1;
}

/* Unary ops with one numeric parameter (positional or in an options table). */
static double param(lua_State *L, int idx, const char *op, const char *key, double def) {
  if (lua_type(L, idx) == LUA_TTABLE) {
    const char *const allowed[] = {key, "inplace", NULL};
    l_checkoptions(L, idx, op, allowed);
    return l_optnumber(L, idx, key, def);
  }
  return luaL_optnumber(L, idx, def);
}

static int l_leaky_relu(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  double s = param(L, 2, "leaky_relu", "negative_slope", 0.01);
  L_PUSH_NEW(L, o, wick_ag_unary(WICK_UN_LEAKY_RELU, a, s, 0, &o));
}

static int l_elu(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  double al = param(L, 2, "elu", "alpha", 1.0);
  L_PUSH_NEW(L, o, wick_ag_unary(WICK_UN_ELU, a, al, 0, &o));
}

static int l_hardtanh(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  double lo = luaL_optnumber(L, 2, -1), hi = luaL_optnumber(L, 3, 1);
  L_PUSH_NEW(L, o, wick_ag_unary(WICK_UN_HARDTANH, a, lo, hi, &o));
}

static int l_gelu(lua_State *L) {
  static const char *const opts[] = {"approximate", NULL};
  wick_tensor *a = l_checktensor(L, 1);
  l_checkoptions(L, 2, "gelu", opts);
  int op = WICK_UN_GELU;
  if (lua_type(L, 2) == LUA_TTABLE && lua_getfield(L, 2, "approximate") != LUA_TNIL) {
    const char *ap = luaL_checkstring(L, -1);
    if (strcmp(ap, "tanh") == 0) op = WICK_UN_GELU_TANH;
    else if (strcmp(ap, "none") != 0)
      return l_errorf(L, "gelu: approximate must be 'none' or 'tanh' (got '%s')", ap);
  }
  L_PUSH_NEW(L, o, wick_ag_unary(op, a, 0, 0, &o));
}

static int l_where(lua_State *L) {
  /* wick.where(cond, a, b) */
  wick_tensor *c = l_checktensor(L, 1);
  l_scalar ta, tb;
  wick_tensor *a = l_checkoperand(L, 2, &ta), *b = l_checkoperand(L, 3, &tb);
  L_PUSH_NEW(L, o, wick_ag_where(c, a, b, &o));
}

static int l_where_method(lua_State *L) {
  /* x:where(cond, y) == wick.where(cond, x, y) */
  wick_tensor *x = l_checktensor(L, 1), *c = l_checktensor(L, 2);
  l_scalar tb;
  wick_tensor *y = l_checkoperand(L, 3, &tb);
  L_PUSH_NEW(L, o, wick_ag_where(c, x, y, &o));
}

static int l_matmul(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1), *b = l_checktensor(L, 2);
  L_PUSH_NEW(L, o, wick_ag_matmul(a, b, &o));
}

static int l_mm(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1), *b = l_checktensor(L, 2);
  if (a->ndim != 2 || b->ndim != 2)
    return l_errorf(L, "mm: expected 2-D tensors, got %d-D and %d-D", a->ndim, b->ndim);
  L_PUSH_NEW(L, o, wick_ag_matmul(a, b, &o));
}

static int l_bmm(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1), *b = l_checktensor(L, 2);
  if (a->ndim != 3 || b->ndim != 3)
    return l_errorf(L, "bmm: expected 3-D tensors, got %d-D and %d-D", a->ndim, b->ndim);
  if (a->sizes[0] != b->sizes[0])
    return l_errorf(L, "bmm: batch sizes differ (%lld != %lld)", (long long)a->sizes[0], (long long)b->sizes[0]);
  L_PUSH_NEW(L, o, wick_ag_matmul(a, b, &o));
}

static int l_dot(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1), *b = l_checktensor(L, 2);
  if (a->ndim != 1 || b->ndim != 1)
    return l_errorf(L, "dot: 1D tensors expected, but got %dD and %dD tensors", a->ndim, b->ndim);
  L_PUSH_NEW(L, o, wick_ag_matmul(a, b, &o));
}

/* PyTorch's other names for ops of core/oplist.h's lists */
static const struct { const char *name; int op; } binop_aliases[] = {
  {"subtract", WICK_BIN_SUB}, {"multiply", WICK_BIN_MUL}, {"divide", WICK_BIN_DIV},
  {"true_divide", WICK_BIN_DIV}, {"greater", WICK_BIN_GT}, {"less", WICK_BIN_LT},
  {"greater_equal", WICK_BIN_GE}, {"less_equal", WICK_BIN_LE}, {"not_equal", WICK_BIN_NE},
};

static const struct { const char *name; int op; } unop_aliases[] = {
  {"negative", WICK_UN_NEG},
};

static const luaL_Reg math_both[] = {
  {"clamp", l_clamp}, {"clip", l_clamp}, {"leaky_relu", l_leaky_relu}, {"elu", l_elu},
  {"hardtanh", l_hardtanh}, {"gelu", l_gelu}, {"matmul", l_matmul}, {"mm", l_mm}, {"bmm", l_bmm},
  {"dot", l_dot}, {NULL, NULL},
};

static void reg_op(lua_State *L, int t, const char *name, lua_CFunction f, int op) {
  lua_pushinteger(L, op);
  lua_pushcclosure(L, f, 1);
  lua_setfield(L, t, name);
}

static void reg_op_(lua_State *L, int t, const char *name, lua_CFunction f, int op) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s_", name);
  reg_op(L, t, buf, f, op);
}

/* wick.<name>, x:<name>() and x:<name>_() */
static void reg_binary(lua_State *L, int core, int methods, const char *name, int op) {
  reg_op(L, core, name, l_binary, op);
  reg_op(L, methods, name, l_binary, op);
  reg_op_(L, methods, name, l_binary_, op);
}

static void reg_unary(lua_State *L, int core, int methods, const char *name, int op) {
  reg_op(L, core, name, l_unary, op);
  reg_op(L, methods, name, l_unary, op);
  reg_op_(L, methods, name, l_unary_, op);
}

void l_open_math(lua_State *L, int core, int methods) {
  for (int op = 0; op < WICK_BIN_COUNT; op++) reg_binary(L, core, methods, wick_binop_name(op), op);
  for (size_t i = 0; i < sizeof binop_aliases / sizeof binop_aliases[0]; i++)
    reg_binary(L, core, methods, binop_aliases[i].name, binop_aliases[i].op);
  for (int op = 0; op < WICK_UN_COUNT; op++)
    if (!(wick_unop_flags(op) & WICK_OPF_BY_HAND)) reg_unary(L, core, methods, wick_unop_name(op), op);
  for (size_t i = 0; i < sizeof unop_aliases / sizeof unop_aliases[0]; i++)
    reg_unary(L, core, methods, unop_aliases[i].name, unop_aliases[i].op);
  l_setfuncs(L, core, math_both);
  l_setfuncs(L, methods, math_both);
  lua_pushcfunction(L, l_clamp_);
  lua_setfield(L, methods, "clamp_");
  lua_pushcfunction(L, l_where);
  lua_setfield(L, core, "where");
  lua_pushcfunction(L, l_where_method);
  lua_setfield(L, methods, "where");

  /* operators */
  luaL_getmetatable(L, L_TENSOR_MT);
  int meta = lua_gettop(L);
  static const struct { const char *mm; int op; } ops[] = {
    {"__add", WICK_BIN_ADD}, {"__sub", WICK_BIN_SUB}, {"__mul", WICK_BIN_MUL},
    {"__div", WICK_BIN_DIV}, {"__pow", WICK_BIN_POW}, {"__mod", WICK_BIN_REMAINDER},
    {"__idiv", WICK_BIN_FLOOR_DIVIDE}, {"__band", WICK_BIN_BITWISE_AND},
    {"__bor", WICK_BIN_BITWISE_OR}, {"__bxor", WICK_BIN_BITWISE_XOR},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) reg_op(L, meta, ops[i].mm, l_binary, ops[i].op);
  lua_pushcfunction(L, l_unm);
  lua_setfield(L, meta, "__unm");
  lua_pop(L, 1);
}
