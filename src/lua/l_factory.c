/* Tensor factories for Lua: tensor, zeros/ones/full/empty(_like), arange, linspace, eye. */
#include <math.h>
#include <string.h>

#include "autograd/autograd.h"
#include "l_aux.h"

static const char *const create_opts[] = {"dtype", "device", "requires_grad", "pin_memory", NULL};

/* The requires_grad creation option. */
static void apply_requires_grad(lua_State *L, int opts, wick_tensor *t) {
  if (opts > 0 && l_optbool(L, opts, "requires_grad", 0) && wick_set_requires_grad(t, true) != WICK_OK)
    l_raise_last(L);
}

/* Splits args [first, top] into sizes and a trailing options table; returns opts index or 0. */
static int sizes_and_opts(lua_State *L, int first, const char *op, int64_t *sizes, int *ndim) {
  int top = lua_gettop(L), opts = 0;
  if (top >= first && l_isoptions(L, top)) {
    opts = top;
    top--;
    l_checkoptions(L, opts, op, create_opts);
  }
  *ndim = l_checksizes(L, first, top, op, sizes);
  return opts;
}

static int fill_new(lua_State *L, const char *op, double v, int has_value) {
  int64_t sizes[WICK_MAX_DIMS];
  int nd;
  int opts = sizes_and_opts(L, 1, op, sizes, &nd);
  wick_dtype dt = l_optdtype(L, opts, "dtype", WICK_DTYPE_F32);
  wick_device dev = l_optdevice(L, opts, "device", wick_cpu());
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(dt, dev, nd, sizes, &box->t));
  if (has_value) L_TRY(L, wick_fill_(box->t, v, (int64_t)v));
  apply_requires_grad(L, opts, box->t);
  l_gc_pace(L);
  return 1;
}

static int l_zeros(lua_State *L) { return fill_new(L, "zeros", 0, 1); }
static int l_ones(lua_State *L) { return fill_new(L, "ones", 1, 1); }
static int l_empty(lua_State *L) { return fill_new(L, "empty", 0, 0); }

static int l_full(lua_State *L) {
  /* full(size_table, value, opts) as in PyTorch */
  luaL_checktype(L, 1, LUA_TTABLE);
  int64_t sizes[WICK_MAX_DIMS];
  int nd = l_checksizes(L, 1, 1, "full", sizes);
  l_checkoptions(L, 3, "full", create_opts);
  int isint = lua_isinteger(L, 2), isbool = lua_isboolean(L, 2);
  if (!isbool) luaL_checknumber(L, 2);
  double v = isbool ? lua_toboolean(L, 2) : lua_tonumber(L, 2);
  int64_t iv = isbool ? lua_toboolean(L, 2) : isint ? lua_tointeger(L, 2) : (int64_t)v;
  wick_dtype def = isbool ? WICK_DTYPE_BOOL : isint ? WICK_DTYPE_I64 : WICK_DTYPE_F32;
  wick_dtype dt = l_optdtype(L, 3, "dtype", def);
  wick_device dev = l_optdevice(L, 3, "device", wick_cpu());
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(dt, dev, nd, sizes, &box->t));
  L_TRY(L, wick_fill_(box->t, v, iv));
  apply_requires_grad(L, 3, box->t);
  l_gc_pace(L);
  return 1;
}

static int like(lua_State *L, const char *op, int kind) {
  wick_tensor *t = l_checktensor(L, 1);
  int opts = kind == 2 ? 3 : 2;
  l_checkoptions(L, opts, op, create_opts);
  wick_dtype dt = l_optdtype(L, opts, "dtype", t->dtype);
  wick_device dev = l_optdevice(L, opts, "device", t->device);
  double v = kind == 2 ? luaL_checknumber(L, 2) : kind;
  int64_t iv = kind == 2 ? (lua_isinteger(L, 2) ? lua_tointeger(L, 2) : (int64_t)v) : kind;
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(dt, dev, t->ndim, t->sizes, &box->t));
  if (kind >= 0) L_TRY(L, wick_fill_(box->t, v, iv));
  apply_requires_grad(L, opts, box->t);
  l_gc_pace(L);
  return 1;
}
static int l_zeros_like(lua_State *L) { return like(L, "zeros_like", 0); }
static int l_ones_like(lua_State *L) { return like(L, "ones_like", 1); }
static int l_full_like(lua_State *L) { return like(L, "full_like", 2); }
static int l_empty_like(lua_State *L) { return like(L, "empty_like", -1); }

/* wick.tensor(data, opts): nested tables of numbers/booleans. */
typedef struct { int ndim; int64_t sizes[WICK_MAX_DIMS]; int has_float, has_int, has_bool; } shape_scan;

static void scan(lua_State *L, int idx, int depth, shape_scan *sc) {
  int t = lua_type(L, idx);
  if (t == LUA_TTABLE) {
    int64_t n = (int64_t)lua_rawlen(L, idx);
    if (depth >= WICK_MAX_DIMS) l_errorf(L, "tensor: too many nested levels (at most %d)", WICK_MAX_DIMS);
    if (depth == sc->ndim) {
      sc->sizes[depth] = n;
      sc->ndim++;
    } else if (depth > sc->ndim || sc->sizes[depth] != n) {
      l_errorf(L, "tensor: ragged nested tables (expected length %lld at depth %d, got %lld)",
                 (long long)(depth < sc->ndim ? sc->sizes[depth] : 0), depth, (long long)n);
    }
    for (int64_t i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i);
      scan(L, lua_gettop(L), depth + 1, sc);
      lua_pop(L, 1);
    }
    if (n == 0 && depth + 1 < sc->ndim) l_errorf(L, "tensor: ragged nested tables");
    return;
  }
  if (depth != sc->ndim) l_errorf(L, "tensor: ragged nested tables (a number where a table was expected)");
  if (t == LUA_TNUMBER) {
    if (lua_isinteger(L, idx)) sc->has_int = 1;
    else sc->has_float = 1;
  } else if (t == LUA_TBOOLEAN) {
    sc->has_bool = 1;
  } else {
    l_errorf(L, "tensor: expected numbers or booleans, got %s", luaL_typename(L, idx));
  }
}

static void fill_values(lua_State *L, int idx, wick_tensor *t, char **p, size_t es) {
  if (lua_type(L, idx) == LUA_TTABLE) {
    int64_t n = (int64_t)lua_rawlen(L, idx);
    for (int64_t i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i);
      fill_values(L, lua_gettop(L), t, p, es);
      lua_pop(L, 1);
    }
    return;
  }
  if (lua_isboolean(L, idx)) wick_store_i64(*p, t->dtype, lua_toboolean(L, idx));
  else if (lua_isinteger(L, idx) && !wick_dtype_is_float(t->dtype)) wick_store_i64(*p, t->dtype, lua_tointeger(L, idx));
  else wick_store_f64(*p, t->dtype, lua_tonumber(L, idx));
  *p += es;
}

static int l_tensor_new(lua_State *L) {
  l_checkoptions(L, 2, "tensor", create_opts);
  wick_device dev = l_optdevice(L, 2, "device", wick_cpu());
  wick_tensor *src = l_testtensor(L, 1);
  if (src) {
    wick_dtype dt = l_optdtype(L, 2, "dtype", src->dtype);
    l_tensor_box *box = l_newbox(L);
    L_TRY(L, wick_to(src, dt, dev, true, &box->t));
    apply_requires_grad(L, 2, box->t);
    return 1;
  }
  int t = lua_type(L, 1);
  if (t != LUA_TTABLE && t != LUA_TNUMBER && t != LUA_TBOOLEAN)
    return l_errorf(L, "tensor: expected a table, number, boolean or Tensor (got %s)", luaL_typename(L, 1));
  shape_scan sc = {0};
  scan(L, 1, 0, &sc);
  wick_dtype def = sc.has_float ? WICK_DTYPE_F32 : sc.has_int ? WICK_DTYPE_I64
                 : sc.has_bool ? WICK_DTYPE_BOOL : WICK_DTYPE_F32;
  wick_dtype dt = l_optdtype(L, 2, "dtype", def);
  l_tensor_box *box = l_newbox(L);
  wick_tensor *cpu;
  L_TRY(L, wick_tensor_new(dt, wick_cpu(), sc.ndim, sc.sizes, &cpu));
  box->t = cpu;
  char *p = wick_tensor_data(cpu);
  fill_values(L, 1, cpu, &p, wick_dtype_size(dt));
  if (dev.type != WICK_DEVICE_CPU) {
    L_TRY(L, wick_to(cpu, dt, dev, false, &box->t));
    wick_tensor_release(cpu);
  }
  apply_requires_grad(L, 2, box->t);
  l_gc_pace(L);
  return 1;
}

static int l_arange(lua_State *L) {
  int top = lua_gettop(L), opts = 0;
  if (top >= 1 && l_isoptions(L, top)) { opts = top--; l_checkoptions(L, opts, "arange", create_opts); }
  if (top < 1 || top > 3) return l_errorf(L, "arange: expected (end), (start, end) or (start, end, step)");
  int allint = 1;
  for (int i = 1; i <= top; i++) {
    luaL_checknumber(L, i);
    if (!lua_isinteger(L, i)) allint = 0;
  }
  double start = top >= 2 ? lua_tonumber(L, 1) : 0, end = top >= 2 ? lua_tonumber(L, 2) : lua_tonumber(L, 1);
  double step = top == 3 ? lua_tonumber(L, 3) : 1;
  if (step == 0) return l_errorf(L, "arange: step must be nonzero");
  if ((end - start) / step < 0)
    return l_errorf(L, "arange: upper bound and larger bound inconsistent with step sign");
  double count = ceil((end - start) / step);
  if (!(count < 9.0e15)) /* also catches NaN from inf or nan bounds */
    return l_errorf(L, "arange: cannot make a tensor of %g elements from start %g, end %g, step %g",
                    count, start, end, step);
  int64_t n = (int64_t)count;
  wick_dtype dt = l_optdtype(L, opts, "dtype", allint ? WICK_DTYPE_I64 : WICK_DTYPE_F32);
  wick_device dev = l_optdevice(L, opts, "device", wick_cpu());
  l_tensor_box *box = l_newbox(L);
  wick_tensor *cpu;
  L_TRY(L, wick_tensor_new(dt, wick_cpu(), 1, &n, &cpu));
  box->t = cpu;
  char *p = wick_tensor_data(cpu);
  size_t es = wick_dtype_size(dt);
  int64_t istart = top >= 2 ? lua_tointeger(L, 1) : 0, istep = top == 3 ? lua_tointeger(L, 3) : 1;
  for (int64_t i = 0; i < n; i++, p += es) {
    if (allint && !wick_dtype_is_float(dt)) wick_store_i64(p, dt, istart + i * istep);
    else wick_store_f64(p, dt, start + (double)i * step);
  }
  if (dev.type != WICK_DEVICE_CPU) {
    L_TRY(L, wick_to(cpu, dt, dev, false, &box->t));
    wick_tensor_release(cpu);
  }
  l_gc_pace(L);
  return 1;
}

static int l_linspace(lua_State *L) {
  double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
  lua_Integer n = luaL_checkinteger(L, 3);
  l_checkoptions(L, 4, "linspace", create_opts);
  if (n < 0) return l_errorf(L, "linspace: number of steps must be non-negative (got %lld)", (long long)n);
  wick_dtype dt = l_optdtype(L, 4, "dtype", WICK_DTYPE_F32);
  l_tensor_box *box = l_newbox(L);
  int64_t sz = n;
  L_TRY(L, wick_tensor_new(dt, wick_cpu(), 1, &sz, &box->t));
  char *p = wick_tensor_data(box->t);
  size_t es = wick_dtype_size(dt);
  double step = n > 1 ? (b - a) / (double)(n - 1) : 0;
  /* PyTorch fills the second half backwards from `end` for symmetry */
  for (int64_t i = 0; i < n; i++)
    wick_store_f64(p + (size_t)i * es, dt, i < n / 2 ? a + step * (double)i : b - step * (double)(n - 1 - i));
  l_gc_pace(L);
  return 1;
}

static int l_eye(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1), m = n;
  int opts = 2;
  if (lua_isinteger(L, 2)) { m = lua_tointeger(L, 2); opts = 3; }
  l_checkoptions(L, opts, "eye", create_opts);
  if (n < 0 || m < 0) return l_errorf(L, "eye: sizes must be non-negative");
  wick_dtype dt = l_optdtype(L, opts, "dtype", WICK_DTYPE_F32);
  int64_t sizes[2] = {n, m};
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_zeros(dt, wick_cpu(), 2, sizes, &box->t));
  char *p = wick_tensor_data(box->t);
  size_t es = wick_dtype_size(dt);
  for (int64_t i = 0; i < n && i < m; i++) wick_store_i64(p + (size_t)(i * m + i) * es, dt, 1);
  l_gc_pace(L);
  return 1;
}

static const luaL_Reg factories[] = {
  {"tensor", l_tensor_new}, {"zeros", l_zeros}, {"ones", l_ones}, {"empty", l_empty},
  {"full", l_full}, {"zeros_like", l_zeros_like}, {"ones_like", l_ones_like},
  {"full_like", l_full_like}, {"empty_like", l_empty_like}, {"arange", l_arange},
  {"linspace", l_linspace}, {"eye", l_eye},
  {NULL, NULL},
};

void l_open_factory(lua_State *L, int core, int methods) {
  (void)methods;
  l_setfuncs(L, core, factories);
}
