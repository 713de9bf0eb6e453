/* Bindings of the process group (src/dist/process_group.h): wick.core._pg, used by
 * lua/wick/dist/ (backend.lua, collectives.lua). `_pg.gloo` / `_pg.nccl` say which optional
 * back-ends the build has; the shared-memory one (new_shm) is always there. */
#include <string.h>

#include "l_aux.h"

#include "dist/process_group.h"
#include "dist/shm_pg.h"
#ifdef WICK_HAVE_NCCL
#include "cuda/nccl_pg.h"
#endif

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

#ifdef WICK_HAVE_GLOO
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
#endif

#ifdef WICK_HAVE_NCCL
/* new_nccl(store|nil, prefix, rank, size, timeout_s, device_index) */
static int l_pg_new_nccl(lua_State *L) {
  wick_store_client *c = lua_isnoneornil(L, 1) ? NULL : l_dist_checkstore(L, 1);
  const char *prefix = luaL_checkstring(L, 2);
  int rank = (int)luaL_checkinteger(L, 3), size = (int)luaL_checkinteger(L, 4);
  double timeout = luaL_checknumber(L, 5);
  int device = (int)luaL_checkinteger(L, 6);
  l_pg *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->pg = NULL;
  luaL_setmetatable(L, PG_MT);
  L_TRY(L, wick_pg_create_nccl(c, prefix, rank, size, timeout, device, &p->pg));
  return 1;
}
#endif

/* new_shm(store, prefix, rank, size, timeout_s, slot_bytes|nil) -> group, or nil, message when
 * shared memory cannot be used on some rank (every rank gets the same answer). */
static int l_pg_new_shm(lua_State *L) {
  wick_store_client *c = l_dist_checkstore(L, 1);
  const char *prefix = luaL_checkstring(L, 2);
  int rank = (int)luaL_checkinteger(L, 3), size = (int)luaL_checkinteger(L, 4);
  double timeout = luaL_checknumber(L, 5);
  lua_Integer slot = luaL_optinteger(L, 6, 0);
  if (slot < 0) return luaL_argerror(L, 6, "slot bytes must be >= 0");
  l_pg *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->pg = NULL;
  luaL_setmetatable(L, PG_MT);
  wick_status s = wick_pg_create_shm(c, prefix, rank, size, timeout, (size_t)slot, &p->pg);
  if (s == WICK_ERR_UNSUPPORTED) {
    lua_pushnil(L);
    lua_pushstring(L, wick_last_error());
    return 2;
  }
  L_TRY(L, s);
  return 1;
}

/* new_hier(node, leaders|nil, world) -> group: takes the three groups (their boxes become
 * destroyed ones); see wick_pg_create_hier. */
static int l_pg_new_hier(lua_State *L) {
  l_pg *node = luaL_checkudata(L, 1, PG_MT), *world = luaL_checkudata(L, 3, PG_MT);
  l_pg *leaders = lua_isnoneornil(L, 2) ? NULL : luaL_checkudata(L, 2, PG_MT);
  if (!node->pg || !world->pg || (leaders && !leaders->pg)) return luaL_error(L, "new_hier: a group was destroyed");
  l_pg *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->pg = NULL;
  luaL_setmetatable(L, PG_MT);
  L_TRY(L, wick_pg_create_hier(node->pg, leaders ? leaders->pg : NULL, world->pg, &p->pg));
  node->pg = world->pg = NULL;
  if (leaders) leaders->pg = NULL;
  return 1;
}

wick_pg *l_checkpg(lua_State *L, int idx, const char *op) {
  l_pg *p = luaL_checkudata(L, idx, PG_MT);
  if (!p->pg) l_errorf(L, "%s: the process group was destroyed", op);
  return p->pg;
}

static int l_pg_name(lua_State *L) {
  lua_pushstring(L, wick_pg_backend_name(l_checkpg(L, 1, "name")));
  return 1;
}

static int l_pg_destroy(lua_State *L) {
  l_pg *p = luaL_checkudata(L, 1, PG_MT);
  wick_pg_destroy(p->pg);
  p->pg = NULL;
  return 0;
}

/* in the order of wick_pg_kind and wick_pg_reduce */
static const char *const kinds[] = {"all_reduce", "broadcast", "all_gather", "gather", "scatter",
                                    "barrier", "reduce_scatter", NULL};
static const char *const reduces[] = {"sum", "product", "min", "max", "avg", NULL};

/* Gloo and shm take CPU buffers; NCCL CUDA buffers. NCCL and shm also take f16/bf16
 * (lua/wick/dist checks the device index). */
static wick_tensor *check_buffer(lua_State *L, int idx, const char *op, wick_pg *pg) {
  wick_tensor *t = l_checktensor(L, idx);
  bool nccl = strcmp(wick_pg_backend_name(pg), "nccl") == 0;
  bool half = nccl || strcmp(wick_pg_backend_name(pg), "shm") == 0;
  if (nccl && t->device.type != WICK_DEVICE_CUDA) l_errorf(L, "%s: the nccl backend needs CUDA tensors", op);
  if (!nccl && t->device.type != WICK_DEVICE_CPU)
    l_errorf(L, "%s: the %s backend needs CPU tensors", op, wick_pg_backend_name(pg));
  if (!wick_tensor_is_contiguous(t)) l_errorf(L, "%s: internal: buffer is not contiguous", op);
  switch (t->dtype) {
    case WICK_DTYPE_F32: case WICK_DTYPE_F64: case WICK_DTYPE_I64: case WICK_DTYPE_I32:
    case WICK_DTYPE_U8: break;
    case WICK_DTYPE_F16: case WICK_DTYPE_BF16: if (half) break; /* fall through */
    default:
      l_errorf(L, "%s: unsupported dtype %s (f32, f64, %si64, i32 or u8)", op, wick_dtype_name(t->dtype),
               half ? "f16, bf16, " : "");
  }
  return t;
}

/* pg:submit(kind, t|nil, aux|nil, root, reduce) -> work. Buffers are contiguous CPU tensors. */
static int l_pg_submit(lua_State *L) {
  int kind = luaL_checkoption(L, 2, NULL, kinds);
  const char *name = kinds[kind];
  wick_pg *pg = l_checkpg(L, 1, name);
  wick_pg_op op;
  memset(&op, 0, sizeof op);
  op.kind = (wick_pg_kind)kind;
  op.name = name;
  op.root = (int)luaL_optinteger(L, 5, 0);
  op.reduce = (wick_pg_reduce)luaL_checkoption(L, 6, "sum", reduces);
  wick_tensor *t = lua_isnoneornil(L, 3) ? NULL : check_buffer(L, 3, name, pg);
  wick_tensor *aux = lua_isnoneornil(L, 4) ? NULL : check_buffer(L, 4, name, pg);
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
  L_TRY(L, wick_pg_submit(pg, &op, &w->w));
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
  static const luaL_Reg pg_methods[] = {
    {"submit", l_pg_submit}, {"destroy", l_pg_destroy}, {"name", l_pg_name}, {NULL, NULL}};
  static const luaL_Reg work_methods[] = {
    {"wait", l_work_wait}, {"is_completed", l_work_is_completed}, {NULL, NULL}};
  l_newtype(L, PG_MT, pg_methods, l_pg_destroy, NULL);
  l_newtype(L, WORK_MT, work_methods, l_work_gc, NULL);
  lua_newtable(L);
  lua_pushcfunction(L, l_pg_new_shm);
  lua_setfield(L, -2, "new_shm");
  lua_pushcfunction(L, l_pg_new_hier);
  lua_setfield(L, -2, "new_hier");
#ifdef WICK_HAVE_GLOO
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "gloo");
  lua_pushcfunction(L, l_pg_new);
  lua_setfield(L, -2, "new");
#else
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "gloo");
#endif
#ifdef WICK_HAVE_NCCL
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "nccl");
  lua_pushcfunction(L, l_pg_new_nccl);
  lua_setfield(L, -2, "new_nccl");
  lua_pushstring(L, wick_nccl_version());
  lua_setfield(L, -2, "nccl_version");
#else
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "nccl");
#endif
  lua_setfield(L, core, "_pg");
}
