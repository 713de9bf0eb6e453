/* Bindings of DDP's reducer (src/dist/reducer.h): wick.core._ddp.Reducer, used by
 * lua/wick/nn/ddp.lua. */
#include <stdlib.h>

#include "dist/reducer.h"
#include "l_aux.h"

#define REDUCER_MT "wick.nn.Reducer"

typedef struct {
  wick_reducer *r;
} l_reducer;

static wick_reducer *check_reducer(lua_State *L) {
  l_reducer *b = luaL_checkudata(L, 1, REDUCER_MT);
  if (!b->r) l_errorf(L, "DistributedDataParallel: the reducer was released");
  return b->r;
}

/* Tensors of the array at idx, into a GC-owned buffer (pushed on the stack). */
static wick_tensor **check_tensor_list(lua_State *L, int idx, int *n) {
  luaL_checktype(L, idx, LUA_TTABLE);
  *n = (int)luaL_len(L, idx);
  wick_tensor **ts = lua_newuserdatauv(L, sizeof *ts * (size_t)(*n > 0 ? *n : 1), 0);
  for (int i = 0; i < *n; i++) {
    lua_geti(L, idx, i + 1);
    ts[i] = l_checktensor(L, -1);
    lua_pop(L, 1);
  }
  return ts;
}

/* Reducer(params, first_cap_bytes, cap_bytes, pg|nil, world_size, find_unused) */
static int l_reducer_new(lua_State *L) {
  int n;
  wick_tensor **params = check_tensor_list(L, 1, &n);
  lua_Integer first_cap = luaL_checkinteger(L, 2), cap = luaL_checkinteger(L, 3);
  wick_pg *pg = NULL;
  if (!lua_isnoneornil(L, 4)) {
#if defined(WICK_HAVE_GLOO) || defined(WICK_HAVE_NCCL)
    pg = l_checkpg(L, 4, "DistributedDataParallel");
#else
    return l_errorf(L, "DistributedDataParallel: this build has no process group backend");
#endif
  }
  int world = (int)luaL_checkinteger(L, 5);
  bool find_unused = lua_toboolean(L, 6);
  l_reducer *b = lua_newuserdatauv(L, sizeof *b, 1);
  b->r = NULL;
  luaL_setmetatable(L, REDUCER_MT);
  lua_pushvalue(L, 4); /* the group outlives the reducer */
  lua_setiuservalue(L, -2, 1);
  L_TRY(L, wick_reducer_new(n, params, first_cap, cap, pg, world, find_unused, &b->r));
  return 1;
}

static int l_reducer_free(lua_State *L) {
  l_reducer *b = luaL_checkudata(L, 1, REDUCER_MT);
  wick_reducer_free(b->r);
  b->r = NULL;
  return 0;
}

/* reducer:prepare_for_backward(outputs): outputs is an array of tensors (may be empty). */
static int l_reducer_prepare(lua_State *L) {
  wick_reducer *r = check_reducer(L);
#if defined(WICK_HAVE_GLOO) || defined(WICK_HAVE_NCCL)
  lua_getiuservalue(L, 1, 1);
  if (!lua_isnil(L, -1)) (void)l_checkpg(L, lua_gettop(L), "DistributedDataParallel");
  lua_pop(L, 1);
#endif
  int n;
  wick_tensor **outs = check_tensor_list(L, 2, &n);
  L_TRY(L, wick_reducer_prepare_for_backward(r, n, outs));
  return 0;
}

/* reducer:unfinished() -> nil, or the 0-based indices of the parameters that got no gradient
 * in a reduction that did not finish. */
static int l_reducer_unfinished(lua_State *L) {
  wick_reducer *r = check_reducer(L);
  int k = wick_reducer_unfinished(r, NULL, 0);
  if (k == 0) return 0;
  int *idx = lua_newuserdatauv(L, sizeof *idx * (size_t)k, 0);
  wick_reducer_unfinished(r, idx, k);
  lua_createtable(L, k, 0);
  for (int i = 0; i < k; i++) {
    lua_pushinteger(L, idx[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* reducer:buckets() -> {{bytes = , params = {0-based indices}}, ...} in launch order */
static int l_reducer_buckets(lua_State *L) {
  wick_reducer *r = check_reducer(L);
  int nb = wick_reducer_num_buckets(r);
  lua_createtable(L, nb, 0);
  for (int b = 0; b < nb; b++) {
    const int *idx;
    int count;
    int64_t bytes = wick_reducer_bucket(r, b, &idx, &count);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, bytes);
    lua_setfield(L, -2, "bytes");
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
      lua_pushinteger(L, idx[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "params");
    lua_rawseti(L, -2, b + 1);
  }
  return 1;
}

static int l_reducer_stats(lua_State *L) {
  wick_reducer_stats s = wick_reducer_get_stats(check_reducer(L));
  lua_createtable(L, 0, 9);
  lua_pushinteger(L, s.bytes_sent); lua_setfield(L, -2, "bytes_sent");
  lua_pushinteger(L, s.buckets_sent); lua_setfield(L, -2, "buckets_sent");
  lua_pushinteger(L, s.iterations); lua_setfield(L, -2, "iterations");
  lua_pushnumber(L, s.first_hook_s); lua_setfield(L, -2, "first_hook");
  lua_pushnumber(L, s.first_launch_s); lua_setfield(L, -2, "first_launch");
  lua_pushnumber(L, s.last_hook_s); lua_setfield(L, -2, "last_hook");
  lua_pushnumber(L, s.backward_end_s); lua_setfield(L, -2, "backward_end");
  lua_pushinteger(L, s.done_at_backward_end); lua_setfield(L, -2, "done_at_backward_end");
  return 1;
}

void l_open_ddp(lua_State *L, int core, int methods) {
  (void)methods;
  static const luaL_Reg reducer_methods[] = {
    {"prepare_for_backward", l_reducer_prepare}, {"unfinished", l_reducer_unfinished},
    {"buckets", l_reducer_buckets}, {"stats", l_reducer_stats}, {"release", l_reducer_free},
    {NULL, NULL}};
  l_newtype(L, REDUCER_MT, reducer_methods, l_reducer_free, NULL);
  lua_newtable(L);
  lua_pushcfunction(L, l_reducer_new);
  lua_setfield(L, -2, "Reducer");
  lua_setfield(L, core, "_ddp");
}
