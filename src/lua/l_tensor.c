/* wick.Tensor: the userdata type, its properties, construction and views. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/exec_mode.h"
#include "autograd/autograd.h"
#include "l_aux.h"

/* ---- lifetime ---- */

/* __gc and __close (idempotent). */
static int l_tensor_gc(lua_State *L) {
  l_tensor_box *box = l_tobox(L, 1);
  if (!box) return 0;
  wick_tensor_release(box->t);
  box->t = NULL;
  return 0;
}

/* ---- properties and indexing ---- */

static void push_device(lua_State *L, wick_device d) {
  char buf[32];
  wick_device_format(d, buf, sizeof buf);
  lua_pushstring(L, buf);
}

static int property(lua_State *L, wick_tensor *t, const char *k) {
  switch (k[0]) {
    case 'd':
      if (!strcmp(k, "dtype")) { lua_pushstring(L, wick_dtype_name(t->dtype)); return 1; }
      if (!strcmp(k, "device")) { push_device(L, t->device); return 1; }
      break;
    case 'i':
      if (!strcmp(k, "is_cuda")) { lua_pushboolean(L, t->device.type == WICK_DEVICE_CUDA); return 1; }
      break;
    case 'n':
      if (!strcmp(k, "ndim")) { lua_pushinteger(L, t->ndim); return 1; }
      break;
    case 's':
      if (!strcmp(k, "shape")) { l_pushsizes(L, t->ndim, t->sizes); return 1; }
      break;
    case 'T':
      if (!k[1]) {
        int64_t dims[WICK_MAX_DIMS];
        for (int i = 0; i < t->ndim; i++) dims[i] = t->ndim - 1 - i;
        L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_PERMUTE, t, t->ndim, dims, &o));
      }
      break;
  }
  return 0;
}

static int l_tensor_index(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1; /* a method */
    lua_pop(L, 1);
    if (property(L, t, lua_tostring(L, 2))) return 1;
    /* Lua-side properties (grad, requires_grad, ...) */
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) {
      lua_pushvalue(L, 1);
      lua_call(L, 1, 1);
      return 1;
    }
    /* an unknown field: wick.tensor's hook raises with a suggestion (x.sahpe -> shape) */
    if (lua_getfield(L, lua_upvalueindex(3), "missing") != LUA_TFUNCTION) return 0;
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
  }
  int isint;
  lua_Integer i = lua_tointegerx(L, 2, &isint);
  if (isint) {
    int64_t p[2] = {0, i};
    L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_SELECT, t, 2, p, &o));
  }
  if (lua_type(L, 2) == LUA_TTABLE) return l_errorf(L, "Tensor: x[{...}] is not an index: write x:index{...} "
                                                     "(x:index{0, 1} is PyTorch's x[0, 1]; x[i] takes one integer)");
  return l_errorf(L, "Tensor: invalid index of type %s", luaL_typename(L, 2));
}

static int l_tensor_newindex(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int isint;
  lua_Integer i = lua_tointegerx(L, 2, &isint);
  if (!isint) {
    if (lua_type(L, 2) == LUA_TSTRING) {
      lua_pushvalue(L, 2);
      if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {  /* Lua-side property setter */
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 3);
        lua_call(L, 2, 0);
        return 0;
      }
      return l_errorf(L, "Tensor: cannot set field '%s'", lua_tostring(L, 2));
    }
    if (lua_type(L, 2) == LUA_TTABLE) return l_errorf(L, "Tensor: x[{...}] = v is not an index: write x:index_put_({...}, v) "
                                                       "(x:index_put_({0, 1}, v) is PyTorch's x[0, 1] = v)");
    return l_errorf(L, "Tensor: invalid index of type %s", luaL_typename(L, 2));
  }
  L_TRY(L, wick_ag_check_inplace("setitem", t));
  wick_tensor *row;
  L_TRY(L, wick_select(t, 0, i, &row));
  l_pushtensor(L, row); /* owned by Lua from here */
  l_scalar tmp;
  wick_tensor *v = l_checkoperand(L, 3, &tmp);
  L_TRY(L, wick_copy_(row, v));
  wick_tensor_bump_version(t);
  return 0;
}

static int l_tensor_len(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  if (t->ndim == 0) return l_errorf(L, "len() of a 0-d tensor");
  lua_pushinteger(L, t->sizes[0]);
  return 1;
}

/* ---- methods: geometry ---- */

/* size() / size(d), stride() / stride(d) */
static int geometry_common(lua_State *L, const char *op, bool strides) {
  wick_tensor *t = l_checktensor(L, 1);
  const int64_t *v = strides ? t->strides : t->sizes;
  if (lua_isnoneornil(L, 2)) { l_pushsizes(L, t->ndim, v); return 1; }
  int d;
  L_TRY(L, wick_dim_wrap(op, luaL_checkinteger(L, 2), t->ndim, &d));
  lua_pushinteger(L, t->ndim ? v[d] : 1);
  return 1;
}
static int l_size(lua_State *L) { return geometry_common(L, "size", false); }
static int l_stride(lua_State *L) { return geometry_common(L, "stride", true); }

static int l_dim(lua_State *L) { lua_pushinteger(L, l_checktensor(L, 1)->ndim); return 1; }
static int l_numel(lua_State *L) { lua_pushinteger(L, wick_tensor_numel(l_checktensor(L, 1))); return 1; }
static int l_is_contiguous(lua_State *L) { lua_pushboolean(L, wick_tensor_is_contiguous(l_checktensor(L, 1))); return 1; }
static int l_storage_offset(lua_State *L) { lua_pushinteger(L, l_checktensor(L, 1)->offset); return 1; }
static int l_element_size(lua_State *L) { lua_pushinteger(L, (lua_Integer)wick_dtype_size(l_checktensor(L, 1)->dtype)); return 1; }
static int l_data_ptr(lua_State *L) { lua_pushinteger(L, (lua_Integer)(intptr_t)wick_tensor_data(l_checktensor(L, 1))); return 1; }
static int l_is_floating_point(lua_State *L) { lua_pushboolean(L, wick_dtype_is_float(l_checktensor(L, 1)->dtype)); return 1; }

/* view / reshape (sizes... | other tensor, whose sizes are taken) */
static int reshape_common(lua_State *L, const char *op, wick_view_kind kind) {
  wick_tensor *t = l_checktensor(L, 1);
  wick_tensor *other = lua_gettop(L) == 2 ? l_testtensor(L, 2) : NULL;
  if (other) L_PUSH_NEW(L, o, wick_ag_view(kind, t, other->ndim, other->sizes, &o));
  int64_t sizes[WICK_MAX_DIMS];
  int n = l_checksizes(L, 2, lua_gettop(L), op, sizes);
  L_PUSH_NEW(L, o, wick_ag_view(kind, t, n, sizes, &o));
}
static int l_view(lua_State *L) { return reshape_common(L, "view", WICK_VIEW_VIEW); }
static int l_reshape(lua_State *L) { return reshape_common(L, "reshape", WICK_VIEW_RESHAPE); }

static int l_permute(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int64_t dims[WICK_MAX_DIMS];
  int n = l_checksizes(L, 2, lua_gettop(L), "permute", dims);
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_PERMUTE, t, n, dims, &o));
}

static int l_transpose(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  lua_Integer a = luaL_checkinteger(L, 2), b = luaL_checkinteger(L, 3);
  int64_t p[2] = {a, b};
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_TRANSPOSE, t, 2, p, &o));
}

static int l_t(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  if (t->ndim > 2) return l_errorf(L, "t: expects a tensor with <= 2 dimensions, but self is %dD", t->ndim);
  if (t->ndim < 2) L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_ALIAS, t, 0, NULL, &o));
  int64_t p[2] = {0, 1};
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_TRANSPOSE, t, 2, p, &o));
}

static int l_unsqueeze(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int64_t d = luaL_checkinteger(L, 2);
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_UNSQUEEZE, t, 1, &d, &o));
}

static int l_squeeze(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int all = lua_isnoneornil(L, 2);
  int64_t p[2] = {all, all ? 0 : luaL_checkinteger(L, 2)};
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_SQUEEZE, t, 2, p, &o));
}

static int l_expand(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int64_t sizes[WICK_MAX_DIMS];
  int n = l_checksizes(L, 2, lua_gettop(L), "expand", sizes);
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_EXPAND, t, n, sizes, &o));
}

static int l_expand_as(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1), *other = l_checktensor(L, 2);
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_EXPAND, t, other->ndim, other->sizes, &o));
}

static int l_flatten(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  lua_Integer s = luaL_optinteger(L, 2, 0), e = luaL_optinteger(L, 3, -1);
  int64_t p[2] = {s, e};
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_FLATTEN, t, 2, p, &o));
}

static int l_narrow(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  lua_Integer d = luaL_checkinteger(L, 2), s = luaL_checkinteger(L, 3), n = luaL_checkinteger(L, 4);
  int64_t p[3] = {d, s, n};
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_NARROW, t, 3, p, &o));
}

static int l_slice(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  lua_Integer d = luaL_checkinteger(L, 2), s = luaL_optinteger(L, 3, 0);
  lua_Integer e = luaL_optinteger(L, 4, INT64_MAX), st = luaL_optinteger(L, 5, 1);
  int64_t p[4] = {d, s, e, st};
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_SLICE, t, 4, p, &o));
}

static int l_select(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  lua_Integer d = luaL_checkinteger(L, 2), i = luaL_checkinteger(L, 3);
  int64_t p[2] = {d, i};
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_SELECT, t, 2, p, &o));
}

static int l_diagonal(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  L_PUSH_NEW(L, o, wick_ag_view(WICK_VIEW_DIAGONAL, t, 0, NULL, &o));
}

static int l_contiguous(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  if (wick_tensor_is_contiguous(t)) { lua_settop(L, 1); return 1; }
  L_PUSH_NEW(L, o, wick_ag_clone(t, &o));
}

static int l_clone(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  L_PUSH_NEW(L, o, wick_ag_clone(t, &o));
}

static int l_detach(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  L_PUSH_NEW(L, o, wick_tensor_as_strided(t, t->ndim, t->sizes, t->strides, t->offset, &o));
}

/* to(dtype) / to(device) / to(tensor) / to{dtype=, device=, copy=, non_blocking=}; the first
 * three also take a trailing {copy=, non_blocking=}. non_blocking: a copy from or to pinned
 * memory may return before it finishes (docs/cuda.md). */
static int l_to(lua_State *L) {
  static const char *const opts[] = {"dtype", "device", "copy", "non_blocking", NULL};
  static const char *const trailing[] = {"copy", "non_blocking", NULL};
  wick_tensor *t = l_checktensor(L, 1);
  wick_dtype dt = t->dtype;
  wick_device dev = t->device;
  int copy = 0, non_blocking = 0;
  int top = lua_gettop(L);
  if (top >= 3 && lua_type(L, top) == LUA_TTABLE) {
    l_checkoptions(L, top, "to", trailing);
    copy = l_optbool(L, top, "copy", 0);
    non_blocking = l_optbool(L, top, "non_blocking", 0);
    lua_settop(L, top - 1);
  }
  wick_tensor *other = l_testtensor(L, 2);
  if (other) {
    dt = other->dtype;
    dev = other->device;
  } else if (l_testdevice(L, 2, &dev)) {
    if (lua_type(L, 3) == LUA_TSTRING) dt = l_checkdtype(L, 3);
  } else if (lua_type(L, 2) == LUA_TSTRING) {
    const char *s = lua_tostring(L, 2);
    if (!wick_dtype_parse(s, &dt)) {
      dt = t->dtype;
      if (wick_device_parse(s, &dev) != WICK_OK)
        return l_errorf(L, "to: '%s' is neither a dtype nor a device", s);
    }
    if (lua_type(L, 3) == LUA_TSTRING) dt = l_checkdtype(L, 3);
  } else if (lua_type(L, 2) == LUA_TTABLE) {
    l_checkoptions(L, 2, "to", opts);
    dt = l_optdtype(L, 2, "dtype", dt);
    dev = l_optdevice(L, 2, "device", dev);
    copy = l_optbool(L, 2, "copy", 0);
    non_blocking = l_optbool(L, 2, "non_blocking", 0);
  } else {
    return l_errorf(L, "to: expected a dtype, a device, a tensor or an options table");
  }
  if (!copy && dt == t->dtype && wick_device_eq(dev, t->device)) { lua_settop(L, 1); return 1; }
  l_tensor_box *box = l_newbox(L);
  wick_tensor *o = NULL;
  bool prev = wick_copy_set_non_blocking(non_blocking); /* restored before any raise */
  wick_status s = wick_ag_to(t, dt, dev, copy, &o);
  wick_copy_set_non_blocking(prev);
  L_TRY(L, s);
  box->t = o;
  l_gc_pace(L);
  return 1;
}

static int convert(lua_State *L, wick_dtype dt) {
  wick_tensor *t = l_checktensor(L, 1);
  if (t->dtype == dt) { lua_settop(L, 1); return 1; }
  L_PUSH_NEW(L, o, wick_ag_to(t, dt, t->device, false, &o));
}
static int l_float(lua_State *L) { return convert(L, WICK_DTYPE_F32); }
static int l_double(lua_State *L) { return convert(L, WICK_DTYPE_F64); }
static int l_half(lua_State *L) { return convert(L, WICK_DTYPE_F16); }
static int l_bfloat16(lua_State *L) { return convert(L, WICK_DTYPE_BF16); }
static int l_long(lua_State *L) { return convert(L, WICK_DTYPE_I64); }
static int l_int(lua_State *L) { return convert(L, WICK_DTYPE_I32); }
static int l_byte(lua_State *L) { return convert(L, WICK_DTYPE_U8); }
static int l_bool(lua_State *L) { return convert(L, WICK_DTYPE_BOOL); }

static int l_cpu(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  if (t->device.type == WICK_DEVICE_CPU) { lua_settop(L, 1); return 1; }
  L_PUSH_NEW(L, o, wick_ag_to(t, t->dtype, wick_cpu(), false, &o));
}

static int l_cuda(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  lua_Integer i = luaL_optinteger(L, 2, wick_cuda_default_index());
  if (i < 0 || i > 1023) return l_errorf(L, "cuda: invalid device index %lld", (long long)i);
  wick_device d = {WICK_DEVICE_CUDA, (int16_t)i};
  L_PUSH_NEW(L, o, wick_ag_to(t, t->dtype, d, false, &o));
}

static void push_element(lua_State *L, const void *p, wick_dtype dt) {
  if (dt == WICK_DTYPE_BOOL) lua_pushboolean(L, *(const uint8_t *)p != 0);
  else if (wick_dtype_is_float(dt)) lua_pushnumber(L, wick_load_f64(p, dt));
  else lua_pushinteger(L, wick_load_i64(p, dt));
}

static int l_item(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  double v;
  int64_t iv;
  L_TRY(L, wick_item(t, &v, &iv));
  if (t->dtype == WICK_DTYPE_BOOL) lua_pushboolean(L, iv != 0);
  else if (wick_dtype_is_float(t->dtype)) lua_pushnumber(L, v);
  else lua_pushinteger(L, iv);
  return 1;
}

static void tolist_rec(lua_State *L, const wick_tensor *t, const char *p, int d) {
  size_t es = wick_dtype_size(t->dtype);
  if (d == t->ndim) { push_element(L, p, t->dtype); return; }
  lua_createtable(L, (int)t->sizes[d], 0);
  for (int64_t i = 0; i < t->sizes[d]; i++) {
    tolist_rec(L, t, p + i * t->strides[d] * (int64_t)es, d + 1);
    lua_rawseti(L, -2, (lua_Integer)(i + 1));
  }
}

static int l_tolist(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  wick_tensor *c = t;
  if (t->device.type != WICK_DEVICE_CPU) {
    L_TRY(L, wick_to(t, t->dtype, wick_cpu(), false, &c));
    l_pushtensor(L, c);
  }
  luaL_checkstack(L, t->ndim + 4, "tolist");
  tolist_rec(L, c, wick_tensor_data(c), 0);
  return 1;
}

static int l_copy_(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  L_TRY(L, wick_ag_check_inplace("copy_", t));
  l_scalar tmp;
  wick_tensor *src = l_checkoperand(L, 2, &tmp);
  L_TRY(L, wick_copy_(t, src));
  lua_settop(L, 1);
  return 1;
}

static int l_fill_(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  L_TRY(L, wick_ag_check_inplace("fill_", t));
  if (lua_isboolean(L, 2)) {
    L_TRY(L, wick_fill_(t, lua_toboolean(L, 2), lua_toboolean(L, 2)));
  } else {
    wick_tensor *v = l_testtensor(L, 2);
    if (v) {
      if (v->ndim != 0)
        return l_errorf(L, "fill_: only supports 0-dimension value tensor but got tensor with %d dimensions", v->ndim);
      L_TRY(L, wick_copy_(t, v));
    } else {
      lua_Number x = luaL_checknumber(L, 2);
      L_TRY(L, wick_fill_(t, x, lua_isinteger(L, 2) ? lua_tointeger(L, 2) : (int64_t)x));
    }
  }
  lua_settop(L, 1);
  return 1;
}

static int l_zero_(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  L_TRY(L, wick_ag_check_inplace("zero_", t));
  L_TRY(L, wick_fill_(t, 0, 0));
  lua_settop(L, 1);
  return 1;
}

static int l_version(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)atomic_load(&l_checktensor(L, 1)->storage->version));
  return 1;
}

static int l_same_storage(lua_State *L) {
  lua_pushboolean(L, l_checktensor(L, 1)->storage == l_checktensor(L, 2)->storage);
  return 1;
}

static int l_is_tensor(lua_State *L) { lua_pushboolean(L, l_testtensor(L, 1) != NULL); return 1; }

static int l_memory_stats(lua_State *L) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, wick_mem_live()); lua_setfield(L, -2, "live_bytes");
  lua_pushinteger(L, wick_mem_peak()); lua_setfield(L, -2, "peak_bytes");
  lua_pushinteger(L, wick_tensor_live_count()); lua_setfield(L, -2, "live_tensors");
  return 1;
}

static const luaL_Reg tensor_methods[] = {
  {"size", l_size}, {"stride", l_stride}, {"dim", l_dim}, {"numel", l_numel}, {"nelement", l_numel},
  {"is_contiguous", l_is_contiguous}, {"storage_offset", l_storage_offset},
  {"element_size", l_element_size}, {"data_ptr", l_data_ptr}, {"is_floating_point", l_is_floating_point},
  {"view", l_view}, {"reshape", l_reshape}, {"permute", l_permute}, {"transpose", l_transpose},
  {"t", l_t}, {"unsqueeze", l_unsqueeze}, {"squeeze", l_squeeze}, {"expand", l_expand},
  {"expand_as", l_expand_as}, {"flatten", l_flatten}, {"narrow", l_narrow}, {"slice", l_slice},
  {"select", l_select}, {"diagonal", l_diagonal}, {"contiguous", l_contiguous}, {"clone", l_clone},
  {"detach", l_detach}, {"to", l_to}, {"float", l_float}, {"double", l_double}, {"half", l_half},
  {"bfloat16", l_bfloat16}, {"long", l_long}, {"int", l_int}, {"byte", l_byte}, {"bool", l_bool},
  {"cpu", l_cpu}, {"cuda", l_cuda}, {"item", l_item}, {"tolist", l_tolist}, {"copy_", l_copy_},
  {"fill_", l_fill_}, {"zero_", l_zero_}, {"_version", l_version}, {"_same_storage", l_same_storage},
  {NULL, NULL},
};

static const luaL_Reg core_functions[] = {
  {"is_tensor", l_is_tensor}, {"memory_stats", l_memory_stats},
  {NULL, NULL},
};

void l_open_tensor(lua_State *L, int core, int methods) {
  l_setfuncs(L, methods, tensor_methods);
  l_setfuncs(L, core, core_functions);
  /* stack: ... meta */
  luaL_getmetatable(L, L_TENSOR_MT);
  int meta = lua_gettop(L);
  lua_pushcfunction(L, l_tensor_gc);
  lua_setfield(L, meta, "__gc");
  lua_pushcfunction(L, l_tensor_gc);
  lua_setfield(L, meta, "__close");
  lua_pushcfunction(L, l_tensor_len);
  lua_setfield(L, meta, "__len");
  /* getters and setters defined in Lua (requires_grad, grad, ...) live in these tables */
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, core, "_tensor_getters");
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, core, "_tensor_setters");
  /* stack: meta getters setters */
  lua_pushcclosure(L, l_tensor_newindex, 1);
  lua_setfield(L, meta, "__newindex");
  lua_pushvalue(L, methods);
  lua_insert(L, -2);
  /* hooks set from Lua: missing(t, key) for an unknown field */
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, core, "_tensor_hooks");
  /* stack: meta methods getters hooks */
  lua_pushcclosure(L, l_tensor_index, 3);
  lua_setfield(L, meta, "__index");
  lua_pushliteral(L, "wick.Tensor");
  lua_setfield(L, meta, "__name");
  lua_pop(L, 1);
}
