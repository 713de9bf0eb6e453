/* Bindings of the process group (src/dist/process_group.h): wick.core._pg, used by
 * lua/wick/dist/init.lua. Without Gloo in the build only `_pg.gloo = false` is registered. */
#include <string.h>

#include "l_aux.h"

#ifdef WICK_HAVE_GLOO
#include "dist/process_group.h"

#define PG_MT "wick.dist.ProcessGroup"
#define WORK_MT "wick.dist.Work"

typedef struct {
  wick_pg *pg;
} l_pg;

/* A submitted collective: owns references to its buffers until it is freed. */
typedef struct {
  wick_pg_work *w;
  wick_tensor *t, *aux;
} l_work;

/* new(store, prefix, rank, size, timeout_s, host|nil, iface|nil) */
static int l_pg_new(lua_State *L) {
  wick_store_client *c = l_dist_checkstore(L, 1);
  const char *prefix = luaL_checkstring(L, 2);
  int rank = (int)luaL_checkinteger(L, 3), size = (int)luaL_checkinteger(L, 4);
  double timeout = luaL_checknumber(L, 5);
  const char *host = luaL_optstring(L, 6, NULL), *iface = luaL_optstring(L, 7, NULL);
  l_pg *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->pg = NULL;
  luaL_setmetatable(L, PG_MT);
  L_TRY(L, wick_pg_create(c, prefix, rank, size, timeout, host, iface, &p->pg));
  return 1;
}

static int l_pg_destroy(lua_State *L) {
  l_pg *p = luaL_checkudata(L, 1, PG_MT);
  wick_pg_destroy(p->pg);
  p->pg = NULL;
  return 0;
}

static const char *const kinds[] = {"all_reduce", "broadcast", "all_gather", "gather", "scatter",
                                    "barrier", NULL};
static const char *const reduces[] = {"sum", "product", "min", "max", NULL};

static wick_tensor *check_buffer(lua_State *L, int idx, const char *op) {
  wick_tensor *t = l_checktensor(L, idx);
  if (t->device.type != WICK_DEVICE_CPU) l_errorf(L, "%s: the gloo backend needs CPU tensors", op);
  if (!wick_tensor_is_contiguous(t)) l_errorf(L, "%s: internal: buffer is not contiguous", op);
  switch (t->dtype) {
    case WICK_DTYPE_F32: case WICK_DTYPE_F64: case WICK_DTYPE_I64: case WICK_DTYPE_I32:
    case WICK_DTYPE_U8: break;
    default:
      l_errorf(L, "%s: unsupported dtype %s (f32, f64, i64, i32 or u8)", op, wick_dtype_name(t->dtype));
  }
  return t;
}

/* pg:submit(kind, t|nil, aux|nil, root, reduce) -> work. Buffers are contiguous CPU tensors. */
static int l_pg_submit(lua_State *L) {
  l_pg *p = luaL_checkudata(L, 1, PG_MT);
  int kind = luaL_checkoption(L, 2, NULL, kinds);
  const char *name = kinds[kind];
  if (!p->pg) l_errorf(L, "%s: the process group was destroyed", name);
  wick_pg_op op;
  memset(&op, 0, sizeof op);
  op.kind = (wick_pg_kind)kind;
  op.name = name;
  op.root = (int)luaL_optinteger(L, 5, 0);
  op.reduce = (wick_pg_reduce)luaL_checkoption(L, 6, "sum", reduces);
  wick_tensor *t = lua_isnoneornil(L, 3) ? NULL : check_buffer(L, 3, name);
  wick_tensor *aux = lua_isnoneornil(L, 4) ? NULL : check_buffer(L, 4, name);
  if (t) {
    op.dtype = t->dtype;
    op.data = wick_tensor_data(t);
    op.count = (size_t)wick_tensor_numel(t);
  } else {
    op.dtype = WICK_DTYPE_U8;
  }
  if (aux) op.aux = wick_tensor_data(aux);
  l_work *w = lua_newuserdatauv(L, sizeof *w, 1);
  w->w = NULL;
  w->t = w->aux = NULL;
  luaL_setmetatable(L, WORK_MT);
  lua_pushvalue(L, 1); /* the group outlives its work */
  lua_setiuservalue(L, -2, 1);
  L_TRY(L, wick_pg_submit(p->pg, &op, &w->w));
  w->t = t ? wick_tensor_retain(t) : NULL;
  w->aux = aux ? wick_tensor_retain(aux) : NULL;
  return 1;
}

static int l_work_wait(lua_State *L) {
  l_work *w = luaL_checkudata(L, 1, WORK_MT);
  if (w->w) L_TRY(L, wick_pg_work_wait(w->w));
  return 0;
}

static int l_work_is_completed(lua_State *L) {
  l_work *w = luaL_checkudata(L, 1, WORK_MT);
  lua_pushboolean(L, !w->w || wick_pg_work_done(w->w));
  return 1;
}

static int l_work_gc(lua_State *L) {
  l_work *w = luaL_checkudata(L, 1, WORK_MT);
  wick_pg_work_free(w->w); /* waits: the buffers are in use until then */
  w->w = NULL;
  wick_tensor_release(w->t);
  wick_tensor_release(w->aux);
  w->t = w->aux = NULL;
  return 0;
}

void l_open_pg(lua_State *L, int core, int methods) {
  (void)methods;
  static const luaL_Reg pg_methods[] = {{"submit", l_pg_submit}, {"destroy", l_pg_destroy}, {NULL, NULL}};
  static const luaL_Reg work_methods[] = {
    {"wait", l_work_wait}, {"is_completed", l_work_is_completed}, {NULL, NULL}};
  l_newtype(L, PG_MT, pg_methods, l_pg_destroy, NULL);
  l_newtype(L, WORK_MT, work_methods, l_work_gc, NULL);
  lua_newtable(L);
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "gloo");
  lua_pushcfunction(L, l_pg_new);
  lua_setfield(L, -2, "new");
  lua_setfield(L, core, "_pg");
}

#else

void l_open_pg(lua_State *L, int core, int methods) {
  (void)methods;
  lua_newtable(L);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "gloo");
  lua_setfield(L, core, "_pg");
}

#endif
