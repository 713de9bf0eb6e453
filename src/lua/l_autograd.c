/* Autograd for Lua: requires_grad, grad, grad_fn, backward, hooks, no_grad/enable_grad. */
#include <stdlib.h>

#include "autograd/autograd.h"
#include "l_aux.h"

#define L_NODE_MT "wick.autograd.Node"

/* ---- getters and setters reached through Tensor's __index / __newindex ---- */

static int get_requires_grad(lua_State *L) {
  lua_pushboolean(L, wick_requires_grad(l_checktensor(L, 1)));
  return 1;
}

static int get_grad(lua_State *L) {
  wick_tensor *g = wick_grad(l_checktensor(L, 1));
  if (!g) return 0;
  l_pushtensor(L, wick_tensor_retain(g));
  return 1;
}

static void push_node(lua_State *L, wick_node *n) {
  if (!n) { lua_pushnil(L); return; }
  wick_node **box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = wick_node_retain(n);
  luaL_setmetatable(L, L_NODE_MT);
}

static int get_grad_fn(lua_State *L) {
  push_node(L, wick_grad_fn(l_checktensor(L, 1)));
  return 1;
}

static int get_is_leaf(lua_State *L) {
  lua_pushboolean(L, wick_is_leaf(l_checktensor(L, 1)));
  return 1;
}

static int get_data(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  L_PUSH_NEW(L, o, wick_tensor_as_strided(t, t->ndim, t->sizes, t->strides, t->offset, &o));
}

static int get_retains_grad(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  lua_pushboolean(L, t->autograd && t->autograd->retains_grad);
  return 1;
}

static int set_requires_grad(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  luaL_checktype(L, 2, LUA_TBOOLEAN);
  L_TRY(L, wick_set_requires_grad(t, lua_toboolean(L, 2)));
  return 0;
}

static int set_grad(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  wick_tensor *g = lua_isnil(L, 2) ? NULL : l_checktensor(L, 2);
  L_TRY(L, wick_set_grad(t, g));
  return 0;
}

static int set_data(lua_State *L) {
  /* t.data = other: the parameter keeps its identity but takes other's values (same shape) */
  wick_tensor *t = l_checktensor(L, 1), *v = l_checktensor(L, 2);
  if (!wick_shape_eq(t, v) || t->dtype != v->dtype) {
    char b1[128], b2[128];
    return l_errorf(L, "data: new data must have the same shape and dtype (%s %s vs %s %s)",
                    wick_dtype_name(t->dtype), wick_shape_str(t->ndim, t->sizes, b1, sizeof b1),
                    wick_dtype_name(v->dtype), wick_shape_str(v->ndim, v->sizes, b2, sizeof b2));
  }
  L_TRY(L, wick_copy_(t, v));
  return 0;
}

/* ---- methods ---- */
/* t:set_(src): t takes src's storage, dtype, device and geometry, keeping its identity (what
 * PyTorch's `p.data = q` does across dtypes; nn's Module:to converts parameters this way). A
 * .grad that no longer fits is dropped. */
static int l_set_(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1), *src = l_checktensor(L, 2);
  if (!wick_is_leaf(t)) return l_errorf(L, "set_: only a leaf tensor can take new data (this one has a grad_fn)");
  if (wick_requires_grad(t) && !wick_dtype_is_float(src->dtype))
    return l_errorf(L, "set_: a tensor that requires grad must stay floating point (got %s)",
                    wick_dtype_name(src->dtype));
  wick_tensor *tmp; /* holds a reference to src's storage; after the swap, to t's old one */
  L_TRY(L, wick_tensor_as_strided(src, src->ndim, src->sizes, src->strides, src->offset, &tmp));
  wick_storage *old = t->storage;
  t->storage = tmp->storage;
  tmp->storage = old;
  t->dtype = src->dtype;
  t->device = src->device;
  t->ndim = src->ndim;
  t->offset = src->offset;
  for (int i = 0; i < src->ndim; i++) { t->sizes[i] = src->sizes[i]; t->strides[i] = src->strides[i]; }
  wick_tensor_release(tmp);
  wick_tensor *g = wick_grad(t);
  if (g && (g->dtype != t->dtype || !wick_device_eq(g->device, t->device) || !wick_shape_eq(g, t)))
    L_TRY(L, wick_set_grad(t, NULL));
  lua_settop(L, 1);
  return 1;
}


static int l_requires_grad_(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int on = lua_isnone(L, 2) ? 1 : (luaL_checktype(L, 2, LUA_TBOOLEAN), lua_toboolean(L, 2));
  L_TRY(L, wick_set_requires_grad(t, on));
  lua_settop(L, 1);
  return 1;
}

static int l_backward(lua_State *L) {
  static const char *const opts[] = {"retain_graph", "create_graph", "inputs", NULL};
  wick_tensor *t = l_checktensor(L, 1);
  wick_tensor *g = NULL;
  int o = 2;
  if (l_testtensor(L, 2)) { g = l_checktensor(L, 2); o = 3; }
  else if (lua_isnil(L, 2)) o = 3;
  l_checkoptions(L, o, "backward", opts);
  int retain = lua_istable(L, o) ? l_optbool(L, o, "retain_graph", 0) : 0;
  if (lua_istable(L, o) && l_optbool(L, o, "create_graph", 0))
    return l_errorf(L, "backward: create_graph (higher-order gradients) is not supported");
  L_TRY(L, wick_backward(1, &t, g ? &g : NULL, retain));
  return 0;
}

static int l_retain_grad(lua_State *L) {
  L_TRY(L, wick_retain_grad(l_checktensor(L, 1)));
  return 0;
}

/* Lua tensor hooks: the function lives in the registry; errors come back as wick errors. */
typedef struct { lua_State *L; int ref; } lua_hook;

/* Runs under call_lua_hook's pcall, so that an error while boxing the gradient (out of
 * memory) comes back as a status instead of unwinding through the engine. */
static int run_lua_hook(lua_State *L) {
  /* stack: hook, grad (light userdata) */
  wick_tensor *grad = lua_touserdata(L, 2);
  lua_settop(L, 1);
  l_tensor_box *box = l_newbox(L); /* before the reference it will own */
  box->t = wick_tensor_retain(grad);
  l_gc_pace(L);
  lua_call(L, 1, 1);
  return 1;
}

static wick_status call_lua_hook(void *ctx, const wick_tensor *grad, wick_tensor **out) {
  lua_hook *h = ctx;
  lua_State *L = h->L;
  int top = lua_gettop(L);
  /* none of these pushes allocates */
  lua_pushcfunction(L, run_lua_hook);
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
  lua_pushlightuserdata(L, (void *)grad);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    wick_status s = wick_errorf(WICK_ERR_ARG, "hook: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    lua_settop(L, top);
    return s;
  }
  wick_tensor *r = l_testtensor(L, -1);
  if (r) *out = wick_tensor_retain(r);
  else if (!lua_isnil(L, -1)) {
    lua_settop(L, top);
    return wick_errorf(WICK_ERR_ARG, "hook: a hook must return nil or a tensor");
  }
  lua_settop(L, top);
  return WICK_OK;
}

static void free_lua_hook(void *ctx) {
  lua_hook *h = ctx;
  luaL_unref(h->L, LUA_REGISTRYINDEX, h->ref);
  free(h);
}

static int l_hook_remove(lua_State *L) {
  /* upvalues: tensor, id */
  wick_tensor *t = l_testtensor(L, lua_upvalueindex(1));
  if (t) wick_remove_hook(t, (int)lua_tointeger(L, lua_upvalueindex(2)));
  return 0;
}

static int l_register_hook(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_hook *h = malloc(sizeof *h);
  if (!h) return l_errorf(L, "out of memory");
  lua_pushvalue(L, 2);
  h->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_State *main = L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  main = lua_tothread(L, -1);
  lua_pop(L, 1);
  h->L = main;
  int id;
  if (wick_register_hook(t, call_lua_hook, h, free_lua_hook, &id) != WICK_OK) {
    free_lua_hook(h);
    return l_raise_last(L);
  }
  /* a handle with :remove(), like PyTorch's RemovableHandle */
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, id);
  lua_pushcclosure(L, l_hook_remove, 2);
  lua_setfield(L, -2, "remove");
  return 1;
}

/* ---- grad mode ---- */

static int with_grad_mode(lua_State *L, bool on) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  bool old = wick_grad_enabled();
  wick_set_grad_enabled(on);
  int base = 1, status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  wick_set_grad_enabled(old);
  if (status != LUA_OK) return lua_error(L);
  return lua_gettop(L) - base + 1;
}

static int l_no_grad(lua_State *L) { return with_grad_mode(L, false); }
static int l_enable_grad(lua_State *L) { return with_grad_mode(L, true); }

static int l_set_grad_enabled(lua_State *L) {
  luaL_checktype(L, 1, LUA_TBOOLEAN);
  wick_set_grad_enabled(lua_toboolean(L, 1));
  return 0;
}

static int l_is_grad_enabled(lua_State *L) {
  lua_pushboolean(L, wick_grad_enabled());
  return 1;
}

/* ---- wick.autograd.Node ---- */

static wick_node *check_node(lua_State *L, int idx) {
  return *(wick_node **)luaL_checkudata(L, idx, L_NODE_MT);
}

static int node_gc(lua_State *L) {
  wick_node **box = luaL_checkudata(L, 1, L_NODE_MT);
  wick_node_release(*box);
  *box = NULL;
  return 0;
}

static int node_tostring(lua_State *L) {
  wick_node *n = check_node(L, 1);
  lua_pushfstring(L, "<%s>", n ? n->name : "released");
  return 1;
}

static int node_name(lua_State *L) {
  lua_pushstring(L, check_node(L, 1)->name);
  return 1;
}

static int node_next_functions(lua_State *L) {
  wick_node *n = check_node(L, 1);
  lua_createtable(L, n->num_inputs, 0);
  for (int i = 0; i < n->num_inputs; i++) {
    lua_createtable(L, 2, 0);
    push_node(L, n->next[i].node);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, n->next[i].input_nr);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int node_eq(lua_State *L) {
  lua_pushboolean(L, check_node(L, 1) == check_node(L, 2));
  return 1;
}

static const luaL_Reg node_methods[] = {
  {"name", node_name}, {"next_functions", node_next_functions}, {NULL, NULL},
};

void l_open_autograd(lua_State *L, int core, int methods) {
  static const luaL_Reg getters[] = {
    {"requires_grad", get_requires_grad}, {"grad", get_grad}, {"grad_fn", get_grad_fn},
    {"is_leaf", get_is_leaf}, {"data", get_data}, {"retains_grad", get_retains_grad}, {NULL, NULL},
  };
  static const luaL_Reg setters[] = {
    {"requires_grad", set_requires_grad}, {"grad", set_grad}, {"data", set_data}, {NULL, NULL},
  };
  static const luaL_Reg tensor_methods[] = {
    {"requires_grad_", l_requires_grad_}, {"backward", l_backward}, {"retain_grad", l_retain_grad},
    {"register_hook", l_register_hook}, {"set_", l_set_}, {NULL, NULL},
  };
  static const luaL_Reg fns[] = {
    {"no_grad", l_no_grad}, {"enable_grad", l_enable_grad}, {"set_grad_enabled", l_set_grad_enabled},
    {"is_grad_enabled", l_is_grad_enabled}, {NULL, NULL},
  };
  lua_getfield(L, core, "_tensor_getters");
  l_setfuncs(L, lua_gettop(L), getters);
  lua_getfield(L, core, "_tensor_setters");
  l_setfuncs(L, lua_gettop(L), setters);
  lua_pop(L, 2);
  l_setfuncs(L, methods, tensor_methods);
  l_setfuncs(L, core, fns);
  luaL_newmetatable(L, L_NODE_MT);
  lua_pushcfunction(L, node_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, node_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, node_eq);
  lua_setfield(L, -2, "__eq");
  lua_newtable(L);
  l_setfuncs(L, lua_gettop(L), node_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
