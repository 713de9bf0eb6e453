/* Tensor boxes, operand conversion, option tables and GC pacing for the bindings. */
#include "l_aux.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

int l_errorf(lua_State *L, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  lua_pushstring(L, buf);
  return lua_error(L);
}

int l_raise_last(lua_State *L) {
  lua_pushstring(L, wick_last_error());
  return lua_error(L);
}

/* The Tensor metatable is also kept under this registry key: looking it up by its name
 * would intern the name string on every tensor created or checked. */
static char tensor_mt_key;

void l_register_tensor_mt(lua_State *L) {
  luaL_getmetatable(L, L_TENSOR_MT);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &tensor_mt_key);
}

l_tensor_box *l_newbox(lua_State *L) {
  l_tensor_box *box = lua_newuserdatauv(L, sizeof *box, 0);
  box->t = NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &tensor_mt_key);
  lua_setmetatable(L, -2);
  return box;
}

void l_pushtensor(lua_State *L, wick_tensor *t) {
  l_newbox(L)->t = t;
  l_gc_pace(L);
}

l_tensor_box *l_tobox(lua_State *L, int idx) {
  l_tensor_box *box = lua_touserdata(L, idx);
  if (!box || !lua_getmetatable(L, idx)) return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &tensor_mt_key);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? box : NULL;
}

wick_tensor *l_testtensor(lua_State *L, int idx) {
  l_tensor_box *box = l_tobox(L, idx);
  return box ? box->t : NULL;
}

wick_tensor *l_checktensor(lua_State *L, int idx) {
  l_tensor_box *box = l_tobox(L, idx);
  lua_Debug ar;
  /* x.item() (Python's dot): the method got no tensor at all */
  if (!box && idx == 1 && lua_isnone(L, 1) && lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name)
    l_errorf(L, "Tensor: call %s with ':' (write x:%s(), not x.%s())", ar.name, ar.name, ar.name);
  if (!box) luaL_typeerror(L, idx, L_TENSOR_MT);
  if (!box->t) l_errorf(L, "attempt to use a released tensor");
  return box->t;
}

static wick_tensor *scalar_init(l_scalar *s, wick_dtype dt) {
  memset(s, 0, sizeof *s);
  atomic_init(&s->s.refcount, 1);
  s->s.data = &s->v;
  s->s.nbytes = sizeof s->v;
  s->s.device = wick_cpu();
  atomic_init(&s->t.refcount, 1);
  s->t.storage = &s->s;
  s->t.dtype = dt;
  s->t.device = wick_cpu();
  s->t.wrapped_number = true;
  return &s->t;
}

wick_tensor *l_checkoperand(lua_State *L, int idx, l_scalar *tmp) {
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        scalar_init(tmp, WICK_DTYPE_I64);
        tmp->v.i = lua_tointeger(L, idx);
      } else {
        scalar_init(tmp, WICK_DTYPE_F64);
        tmp->v.f = lua_tonumber(L, idx);
      }
      return &tmp->t;
    case LUA_TBOOLEAN:
      scalar_init(tmp, WICK_DTYPE_BOOL);
      tmp->v.b = (uint8_t)lua_toboolean(L, idx);
      return &tmp->t;
    default: {
      wick_tensor *t = l_testtensor(L, idx);
      if (!t) {
        if (l_tobox(L, idx)) l_errorf(L, "attempt to use a released tensor");
        luaL_typeerror(L, idx, "Tensor or number");
      }
      return t;
    }
  }
}

/* GC pacing: every MiB of fresh tensor memory asks Lua for a GC step of the same size, and
 * a full collection runs whenever live tensor memory doubles past the last one. */
static int64_t pending_bytes, next_full = 256 << 20;

void l_gc_pace(lua_State *L) {
  pending_bytes += wick_mem_take_allocated();
  if (pending_bytes < (1 << 20)) return;
  int kb = (int)(pending_bytes >> 10);
  pending_bytes = 0;
  lua_gc(L, LUA_GCSTEP, kb);
  int64_t live = wick_mem_live();
  if (live > next_full) {
    lua_gc(L, LUA_GCCOLLECT);
    live = wick_mem_live();
    next_full = live * 2 > (256 << 20) ? live * 2 : (256 << 20);
  }
}

int l_isoptions(lua_State *L, int idx) {
  if (idx <= 0 || lua_type(L, idx) != LUA_TTABLE) return 0;
  int isarr = lua_rawgeti(L, idx, 1) != LUA_TNIL;
  lua_pop(L, 1);
  return !isarr;
}

/* A fast pass in C; on any problem wick.util.check_options, the one checker, raises with its
 * rule and wording. */
void l_checkoptions(lua_State *L, int idx, const char *op, const char *const *allowed) {
  if (idx <= 0 || lua_isnoneornil(L, idx)) return; /* 0: no options table */
  int ok = lua_type(L, idx) == LUA_TTABLE;
  if (ok) {
    lua_pushnil(L);
    while (ok && lua_next(L, idx)) {
      lua_pop(L, 1); /* stack: key */
      ok = 0;
      if (lua_type(L, -1) == LUA_TSTRING)
        for (int i = 0; allowed[i] && !ok; i++) ok = strcmp(lua_tostring(L, -1), allowed[i]) == 0;
      if (!ok) lua_pop(L, 1);
    }
  }
  if (ok) return;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "wick.util");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "check_options");
  lua_pushstring(L, op);
  lua_pushvalue(L, idx);
  lua_newtable(L);
  for (int i = 0; allowed[i]; i++) {
    lua_pushstring(L, allowed[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_call(L, 3, 0);
  l_errorf(L, "%s: bad options table", op); /* not reached: check_options raised */
}

wick_dtype l_checkdtype(lua_State *L, int idx) {
  const char *name = luaL_checkstring(L, idx);
  wick_dtype d;
  if (!wick_dtype_parse(name, &d))
    l_errorf(L, "unknown dtype '%s' (expected one of f32, f64, f16, bf16, i64, i32, u8, bool)", name);
  return d;
}

static int getopt_field(lua_State *L, int idx, const char *key) {
  if (idx <= 0 || lua_type(L, idx) != LUA_TTABLE) return 0; /* 0: no options table */
  if (lua_getfield(L, idx, key) == LUA_TNIL) { lua_pop(L, 1); return 0; }
  return 1;
}

wick_dtype l_optdtype(lua_State *L, int idx, const char *key, wick_dtype def) {
  if (!getopt_field(L, idx, key)) return def;
  wick_dtype d = l_checkdtype(L, -1);
  lua_pop(L, 1);
  return d;
}

int l_testdevice(lua_State *L, int idx, wick_device *out) {
  const wick_device *d = luaL_testudata(L, idx, L_DEVICE_MT);
  if (d) *out = *d;
  return d != NULL;
}

wick_device l_optdevice(lua_State *L, int idx, const char *key, wick_device def) {
  if (!getopt_field(L, idx, key)) return def;
  wick_device d;
  if (l_testdevice(L, -1, &d)) { lua_pop(L, 1); return d; }
  if (lua_type(L, -1) != LUA_TSTRING) l_errorf(L, "option '%s' must be a device name such as 'cpu' or 'cuda:0'", key);
  if (wick_device_parse(lua_tostring(L, -1), &d) != WICK_OK) l_raise_last(L);
  lua_pop(L, 1);
  return d;
}

int l_optbool(lua_State *L, int idx, const char *key, int def) {
  if (!getopt_field(L, idx, key)) return def;
  if (!lua_isboolean(L, -1)) l_errorf(L, "option '%s' must be a boolean (got %s)", key, luaL_typename(L, -1));
  int v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

lua_Number l_optnumber(lua_State *L, int idx, const char *key, lua_Number def) {
  if (!getopt_field(L, idx, key)) return def;
  if (!lua_isnumber(L, -1)) l_errorf(L, "option '%s' must be a number (got %s)", key, luaL_typename(L, -1));
  lua_Number v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

lua_Integer l_optinteger(lua_State *L, int idx, const char *key, lua_Integer def) {
  if (!getopt_field(L, idx, key)) return def;
  int isint;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint) l_errorf(L, "option '%s' must be an integer (got %s)", key, luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

static int64_t check_size_value(lua_State *L, int idx, const char *op) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint) l_errorf(L, "%s: sizes must be integers (got %s)", op, luaL_typename(L, idx));
  return (int64_t)v;
}

int l_checksizes(lua_State *L, int first, int last, const char *op, int64_t *sizes) {
  if (first == last && lua_type(L, first) == LUA_TTABLE) {
    int n = (int)luaL_len(L, first);
    if (n > WICK_MAX_DIMS) l_errorf(L, "%s: %d dimensions (at most %d supported)", op, n, WICK_MAX_DIMS);
    for (int i = 0; i < n; i++) {
      lua_rawgeti(L, first, i + 1);
      sizes[i] = check_size_value(L, -1, op);
      lua_pop(L, 1);
    }
    return n;
  }
  int n = last - first + 1;
  if (n < 0) n = 0;
  if (n > WICK_MAX_DIMS) l_errorf(L, "%s: %d dimensions (at most %d supported)", op, n, WICK_MAX_DIMS);
  for (int i = 0; i < n; i++) sizes[i] = check_size_value(L, first + i, op);
  return n;
}

int l_checkdims(lua_State *L, int idx, const char *op, int64_t *dims) {
  if (lua_type(L, idx) == LUA_TTABLE) return l_checksizes(L, idx, idx, op, dims);
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint) l_errorf(L, "%s: dim must be an integer or a table of integers (got %s)", op, luaL_typename(L, idx));
  dims[0] = (int64_t)v;
  return 1;
}

void l_pushsizes(lua_State *L, int n, const int64_t *sizes) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)sizes[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

void l_setfuncs(lua_State *L, int t, const luaL_Reg *fns) {
  for (; fns->name; fns++) {
    lua_pushcfunction(L, fns->func);
    lua_setfield(L, t, fns->name);
  }
}

void l_newtype(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc,
               lua_CFunction tostring) {
  luaL_newmetatable(L, name);
  int mt = lua_gettop(L);
  if (methods) {
    lua_newtable(L);
    l_setfuncs(L, lua_gettop(L), methods);
    lua_setfield(L, mt, "__index");
  }
  if (gc) {
    lua_pushcfunction(L, gc);
    lua_setfield(L, mt, "__gc");
    lua_pushcfunction(L, gc);
    lua_setfield(L, mt, "__close");
  }
  if (tostring) {
    lua_pushcfunction(L, tostring);
    lua_setfield(L, mt, "__tostring");
  }
  lua_pop(L, 1);
}
