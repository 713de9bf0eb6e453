/* Reductions for Lua: sum mean prod max min amax amin argmax argmin std var any all
 * count_nonzero logsumexp norm, and cumsum cumprod softmax log_softmax. Each is both a
 * function (wick.sum(t, ...)) and a method (t:sum(...)). Dims are 0-based, negative from the
 * end; PyTorch's keyword arguments go in a trailing options table:
 *   t:sum()  t:sum(1)  t:sum({0, 2}, {keepdim = true})  t:sum({dtype = "f64"})
 * t:max() / t:min() reduce everything to a 0-d tensor; t:max(dim, {keepdim}) returns TWO
 * values, (values, indices), where PyTorch returns its (values, indices) namedtuple:
 *   local v, i = t:max(1)
 * t:max(other_tensor) is the elementwise maximum, as torch.max(a, b). */
#include <math.h>
#include <string.h>

#include "autograd/autograd.h"
#include "l_aux.h"

static const char *const keepdim_opts[] = {"keepdim", NULL};
static const char *const dtype_opts[] = {"keepdim", "dtype", NULL};

/* (self, [dims], [options]): dims are an integer or an array of integers (none: all dims).
 * Returns the dim count; *opts gets the options' stack index (0: none). */
static int dims_and_opts(lua_State *L, const char *op, const char *const *allowed, int64_t *dims,
                         int *opts) {
  int top = lua_gettop(L), idx = 2, nd = 0;
  if (idx <= top) {
    /* an options table in place of dims, unless another table follows ({} as empty dims) */
    bool is_opts = l_isoptions(L, idx) && !(idx + 1 <= top && lua_istable(L, idx + 1));
    if (lua_isnil(L, idx)) idx++;
    else if (!is_opts) nd = l_checkdims(L, idx++, op, dims);
  }
  *opts = 0;
  if (idx <= top) {
    l_checkoptions(L, idx, op, allowed);
    if (!lua_isnil(L, idx)) *opts = idx;
    idx++;
  }
  if (idx <= top) l_errorf(L, "%s: too many arguments (expected dims and an options table)", op);
  return nd;
}

static int64_t check_dim(lua_State *L, int idx, const char *op) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint) l_errorf(L, "%s: dim must be an integer (got %s)", op, luaL_typename(L, idx));
  return (int64_t)v;
}

/* sum, prod, amax, amin, any, all: the op in upvalue 1. */
static int l_reduce(lua_State *L) {
  wick_redop op = (wick_redop)lua_tointeger(L, lua_upvalueindex(1));
  const char *name = lua_tostring(L, lua_upvalueindex(2));
  bool with_dtype = op == WICK_RED_SUM || op == WICK_RED_PROD;
  wick_tensor *a = l_checktensor(L, 1);
  int64_t dims[WICK_MAX_DIMS];
  int opts;
  int nd = dims_and_opts(L, name, with_dtype ? dtype_opts : keepdim_opts, dims, &opts);
  bool keepdim = l_optbool(L, opts, "keepdim", 0);
  wick_dtype dt = with_dtype ? l_optdtype(L, opts, "dtype", WICK_DTYPE_NONE) : WICK_DTYPE_NONE;
  L_PUSH_NEW(L, o, wick_ag_reduce(name, op, a, nd, dims, keepdim, dt, &o));
}

static int l_mean(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  int64_t dims[WICK_MAX_DIMS];
  int opts;
  int nd = dims_and_opts(L, "mean", dtype_opts, dims, &opts);
  bool keepdim = l_optbool(L, opts, "keepdim", 0);
  wick_dtype dt = l_optdtype(L, opts, "dtype", WICK_DTYPE_NONE);
  L_PUSH_NEW(L, o, wick_ag_mean(a, nd, dims, keepdim, dt, &o));
}

static int l_count_nonzero(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  int64_t dims[WICK_MAX_DIMS];
  int opts;
  static const char *const none[] = {NULL};
  int nd = dims_and_opts(L, "count_nonzero", none, dims, &opts);
  L_PUSH_NEW(L, o, wick_count_nonzero(a, nd, dims, &o));
}

static int l_logsumexp(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  if (lua_isnoneornil(L, 2) || l_isoptions(L, 2))
    return l_errorf(L, "logsumexp: dim is required (an integer or a table of integers)");
  int64_t dims[WICK_MAX_DIMS];
  int opts;
  int nd = dims_and_opts(L, "logsumexp", keepdim_opts, dims, &opts);
  bool keepdim = l_optbool(L, opts, "keepdim", 0);
  L_PUSH_NEW(L, o, wick_ag_logsumexp(a, nd, dims, keepdim, &o));
}

/* var/std: {correction = 1} (PyTorch's default) or {unbiased = bool}; upvalue 1: take_sqrt. */
static int l_var(lua_State *L) {
  static const char *const opts_ok[] = {"correction", "unbiased", "keepdim", NULL};
  bool take_sqrt = lua_tointeger(L, lua_upvalueindex(1)) != 0;
  const char *name = take_sqrt ? "std" : "var";
  wick_tensor *a = l_checktensor(L, 1);
  int64_t dims[WICK_MAX_DIMS];
  int opts;
  int nd = dims_and_opts(L, name, opts_ok, dims, &opts);
  bool keepdim = l_optbool(L, opts, "keepdim", 0);
  double correction = l_optnumber(L, opts, "correction", NAN);
  int unbiased = l_optbool(L, opts, "unbiased", -1);
  if (!isnan(correction) && unbiased != -1)
    return l_errorf(L, "%s: cannot specify both 'correction' and 'unbiased'", name);
  if (isnan(correction)) correction = unbiased == 0 ? 0 : 1;
  L_PUSH_NEW(L, o, wick_ag_var(a, nd, dims, correction, keepdim, take_sqrt, &o));
}

/* argmax/argmin([dim], {keepdim}): 0-based i64 positions; no dim = in the flattened tensor. */
static int l_argreduce(lua_State *L) {
  wick_redop op = (wick_redop)lua_tointeger(L, lua_upvalueindex(1));
  const char *name = wick_redop_name(op);
  wick_tensor *a = l_checktensor(L, 1);
  int64_t dims[WICK_MAX_DIMS];
  int opts;
  int nd = dims_and_opts(L, name, keepdim_opts, dims, &opts);
  if (nd > 1 || (nd == 1 && lua_istable(L, 2)))
    return l_errorf(L, "%s: dim must be an integer (got table)", name);
  bool keepdim = l_optbool(L, opts, "keepdim", 0);
  L_PUSH_NEW(L, o, wick_argreduce(op, a, nd == 1, nd ? dims[0] : 0, keepdim, &o));
}

/* max/min: () -> 0-d; (dim, {keepdim}) -> values, indices; (tensor) -> elementwise. */
static int l_maxmin(lua_State *L) {
  bool is_max = lua_tointeger(L, lua_upvalueindex(1)) != 0;
  const char *name = is_max ? "max" : "min";
  wick_tensor *a = l_checktensor(L, 1);
  wick_tensor *b = l_testtensor(L, 2);
  if (b) {
    if (lua_gettop(L) > 2) return l_errorf(L, "%s: too many arguments (expected one other tensor)", name);
    L_PUSH_NEW(L, o, wick_ag_binary(is_max ? WICK_BIN_MAXIMUM : WICK_BIN_MINIMUM, a, b, &o));
  }
  if (lua_isnoneornil(L, 2)) {
    if (lua_gettop(L) > 2) return l_errorf(L, "%s: keepdim needs a dim", name);
    L_PUSH_NEW(L, o, wick_ag_reduce(name, is_max ? WICK_RED_MAX : WICK_RED_MIN, a, 0, NULL, false,
                                    WICK_DTYPE_NONE, &o));
  }
  int64_t dim = check_dim(L, 2, name);
  l_checkoptions(L, 3, name, keepdim_opts);
  if (lua_gettop(L) > 3) return l_errorf(L, "%s: too many arguments (expected dim and an options table)", name);
  bool keepdim = l_optbool(L, 3, "keepdim", 0);
  l_tensor_box *bv = l_newbox(L), *bi = l_newbox(L);
  wick_tensor *v, *i;
  L_TRY(L, wick_ag_reduce_with_indices(is_max ? WICK_RED_MAX : WICK_RED_MIN, a, dim, keepdim, &v, &i));
  bv->t = v;
  bi->t = i;
  l_gc_pace(L);
  return 2;
}

/* cumsum/cumprod(dim, {dtype}); upvalue 1: prod. */
static int l_cumulative(lua_State *L) {
  static const char *const opts_ok[] = {"dtype", NULL};
  bool prod = lua_tointeger(L, lua_upvalueindex(1)) != 0;
  const char *name = prod ? "cumprod" : "cumsum";
  wick_tensor *a = l_checktensor(L, 1);
  int64_t dim = check_dim(L, 2, name);
  l_checkoptions(L, 3, name, opts_ok);
  wick_dtype dt = l_optdtype(L, 3, "dtype", WICK_DTYPE_NONE);
  if (prod) L_PUSH_NEW(L, o, wick_cumulative(a, dim, true, dt, &o)); /* no backward yet */
  L_PUSH_NEW(L, o, wick_ag_cumsum(a, dim, dt, &o));
}

/* softmax/log_softmax(dim, {dtype}): dtype converts the input first, as PyTorch. */
static int l_softmax(lua_State *L) {
  static const char *const opts_ok[] = {"dtype", NULL};
  bool log = lua_tointeger(L, lua_upvalueindex(1)) != 0;
  const char *name = log ? "log_softmax" : "softmax";
  wick_tensor *a = l_checktensor(L, 1);
  int64_t dim = check_dim(L, 2, name);
  l_checkoptions(L, 3, name, opts_ok);
  wick_dtype dt = l_optdtype(L, 3, "dtype", a->dtype);
  if (dt != a->dtype) {
    l_tensor_box *box = l_newbox(L); /* keeps the converted input alive until we return */
    L_TRY(L, wick_ag_to(a, dt, a->device, false, &box->t));
    a = box->t;
  }
  L_PUSH_NEW(L, o, wick_ag_softmax(a, dim, log, &o));
}

/* norm([p], [dims], {keepdim, dtype}): p = 2 (default, also "fro"), 1, math.huge, -math.huge,
 * 0 or any number. */
static int l_norm(lua_State *L) {
  wick_tensor *a = l_checktensor(L, 1);
  double p = 2;
  if (!l_isoptions(L, 2)) { /* (self, p, ...) unless the options come first */
    if (lua_type(L, 2) == LUA_TNUMBER) p = lua_tonumber(L, 2);
    else if (lua_type(L, 2) == LUA_TSTRING) {
      const char *s = lua_tostring(L, 2);
      if (strcmp(s, "fro") != 0)
        return l_errorf(L, "norm: p='%s' is not supported (use a number or 'fro')", s);
    } else if (!lua_isnoneornil(L, 2)) {
      return l_errorf(L, "norm: p must be a number or 'fro' (got %s)", luaL_typename(L, 2));
    }
    if (lua_gettop(L) >= 2) lua_remove(L, 2); /* now (self, [dims], [options]) */
  }
  int64_t dims[WICK_MAX_DIMS];
  int opts;
  int nd = dims_and_opts(L, "norm", dtype_opts, dims, &opts);
  bool keepdim = l_optbool(L, opts, "keepdim", 0);
  wick_dtype dt = l_optdtype(L, opts, "dtype", a->dtype);
  if (dt != a->dtype) {
    l_tensor_box *box = l_newbox(L);
    L_TRY(L, wick_ag_to(a, dt, a->device, false, &box->t));
    a = box->t;
  }
  L_PUSH_NEW(L, o, wick_ag_norm(a, p, nd, dims, keepdim, &o));
}

/* Registers f as wick.<name> and as a method, with upvalues (iv, name). */
static void reg(lua_State *L, int core, int methods, const char *name, lua_CFunction f, int iv) {
  int tables[2] = {core, methods};
  for (int k = 0; k < 2; k++) {
    lua_pushinteger(L, iv);
    lua_pushstring(L, name);
    lua_pushcclosure(L, f, 2);
    lua_setfield(L, tables[k], name);
  }
}

void l_open_reduce(lua_State *L, int core, int methods) {
  for (int op = 0; op < WICK_RED_COUNT; op++)
    reg(L, core, methods, wick_redop_name(op),
        wick_redop_flags(op) & WICK_OPF_ARG ? l_argreduce : l_reduce, op);
  reg(L, core, methods, "max", l_maxmin, 1);
  reg(L, core, methods, "min", l_maxmin, 0);
  reg(L, core, methods, "var", l_var, 0);
  reg(L, core, methods, "std", l_var, 1);
  reg(L, core, methods, "cumsum", l_cumulative, 0);
  reg(L, core, methods, "cumprod", l_cumulative, 1);
  reg(L, core, methods, "softmax", l_softmax, 0);
  reg(L, core, methods, "log_softmax", l_softmax, 1);
  reg(L, core, methods, "mean", l_mean, 0);
  reg(L, core, methods, "count_nonzero", l_count_nonzero, 0);
  reg(L, core, methods, "logsumexp", l_logsumexp, 0);
  reg(L, core, methods, "norm", l_norm, 0);
}
