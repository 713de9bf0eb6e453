/* wick._data.WorkerPool: the DataLoader's forked workers seen from Lua. A worker runs the
 * Lua fetch function in its forked copy of the state and sends the returned values (tensors,
 * numbers, strings, booleans, tables of those) back through shared memory in a small binary
 * format; the parent rebuilds them. Mechanism in src/io/worker_pool.c. */
#include <stdlib.h>
#include <string.h>

#include "io/worker_pool.h"
#include "l_aux.h"

#define POOL_MT "wick.data.WorkerPool"
#define MAX_DEPTH 64
#define TENSOR_ALIGN 64

enum { V_NIL, V_FALSE, V_TRUE, V_INT, V_NUM, V_STR, V_TENSOR, V_TABLE };

typedef struct {
  wick_worker_pool *pool;
  lua_State *L;     /* used in the children only */
  int fetch_ref, init_ref;
  char *init_error; /* in a child whose init function failed */
} l_pool;

/* ---- writing values into a slot (in the child) ---- */

typedef struct {
  wick_worker_slot *slot;
  size_t off;
  char err[512];
} writer;

static bool put(writer *w, const void *p, size_t n) {
  if (wick_worker_slot_reserve(w->slot, w->off + n) != WICK_OK) {
    snprintf(w->err, sizeof w->err, "%s", wick_last_error());
    return false;
  }
  memcpy((char *)wick_worker_slot_data(w->slot) + w->off, p, n);
  w->off += n;
  return true;
}

static bool put_u8(writer *w, uint8_t v) { return put(w, &v, 1); }

static bool put_tensor(writer *w, wick_tensor *t) {
  if (t->device.type != WICK_DEVICE_CPU) {
    snprintf(w->err, sizeof w->err, "cannot send a tensor that is not on the CPU to the main process");
    return false;
  }
  uint8_t head[3] = {V_TENSOR, (uint8_t)t->dtype, (uint8_t)t->ndim};
  if (!put(w, head, 3) || !put(w, t->sizes, sizeof(int64_t) * (size_t)t->ndim)) return false;
  size_t start = (w->off + TENSOR_ALIGN - 1) / TENSOR_ALIGN * TENSOR_ALIGN;
  size_t nbytes = (size_t)wick_tensor_numel(t) * wick_dtype_size(t->dtype);
  if (wick_worker_slot_reserve(w->slot, start + nbytes) != WICK_OK) {
    snprintf(w->err, sizeof w->err, "%s", wick_last_error());
    return false;
  }
  char *dst = (char *)wick_worker_slot_data(w->slot) + start;
  if (wick_tensor_is_contiguous(t)) {
    memcpy(dst, wick_tensor_data(t), nbytes);
  } else {
    /* a strided view: copy it through a tensor over the slot's memory */
    wick_tensor *d = NULL;
    wick_status s = wick_tensor_from_blob(dst, nbytes, t->dtype, t->ndim, t->sizes, NULL, NULL, &d);
    if (s == WICK_OK) s = wick_copy_(d, t);
    wick_tensor_release(d);
    if (s != WICK_OK) { snprintf(w->err, sizeof w->err, "%s", wick_last_error()); return false; }
  }
  w->off = start + nbytes;
  return true;
}

static bool put_value(lua_State *L, writer *w, int idx, int depth) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return put_u8(w, V_NIL);
    case LUA_TBOOLEAN: return put_u8(w, lua_toboolean(L, idx) ? V_TRUE : V_FALSE);
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        int64_t v = lua_tointeger(L, idx);
        return put_u8(w, V_INT) && put(w, &v, 8);
      } else {
        double v = lua_tonumber(L, idx);
        return put_u8(w, V_NUM) && put(w, &v, 8);
      }
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      uint64_t n64 = n;
      return put_u8(w, V_STR) && put(w, &n64, 8) && put(w, s, n);
    }
    case LUA_TTABLE: {
      if (depth >= MAX_DEPTH) {
        snprintf(w->err, sizeof w->err, "cannot send tables nested more than %d levels deep", MAX_DEPTH);
        return false;
      }
      uint32_t n = 0;
      lua_pushnil(L);
      while (lua_next(L, idx)) { n++; lua_pop(L, 1); }
      if (!put_u8(w, V_TABLE) || !put(w, &n, 4)) return false;
      luaL_checkstack(L, 4, "DataLoader worker");
      lua_pushnil(L);
      while (lua_next(L, idx)) { /* stack: key, value */
        if (!put_value(L, w, -2, depth + 1) || !put_value(L, w, -1, depth + 1)) { lua_pop(L, 2); return false; }
        lua_pop(L, 1);
      }
      return true;
    }
    default: {
      wick_tensor *t = l_testtensor(L, idx);
      if (t) return put_tensor(w, t);
      snprintf(w->err, sizeof w->err,
               "cannot send a %s to the main process (batches hold tensors, numbers, strings, booleans and tables)",
               luaL_typename(L, idx));
      return false;
    }
  }
}

/* ---- the child's side ---- */

static bool fail_with(wick_worker_slot *slot, const char *msg, size_t *out_len) {
  size_t n = strlen(msg) + 1;
  if (wick_worker_slot_reserve(slot, n) != WICK_OK) { msg = "out of shared memory"; n = strlen(msg) + 1; }
  if (n > wick_worker_slot_capacity(slot)) n = wick_worker_slot_capacity(slot);
  memcpy(wick_worker_slot_data(slot), msg, n);
  ((char *)wick_worker_slot_data(slot))[n - 1] = '\0';
  *out_len = n;
  return false;
}

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void child_init(void *ctx, int id) {
  l_pool *c = ctx;
  lua_State *L = c->L;
  if (c->init_ref == LUA_NOREF) return;
  int top = lua_gettop(L);
  lua_pushcfunction(L, traceback);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->init_ref);
  lua_pushinteger(L, id);
  if (lua_pcall(L, 1, 0, top + 1) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    c->init_error = strdup(msg ? msg : "error in worker_init_fn");
  }
  lua_settop(L, top);
}

/* What one task needs, handed to task_body through a light userdata. */
typedef struct {
  l_pool *c;
  int64_t task;
  wick_worker_slot *slot;
  size_t in_len, out_len;
  bool ok;
  char err[512];
} task_args;

/* The task under lua_pcall: any Lua error in here (even out of memory) ends in the child's
 * error path, never unwinds into the parent's Lua code that the child has a copy of. */
static int task_body(lua_State *L) {
  task_args *a = lua_touserdata(L, 1);
  luaL_checkstack(L, 8, "DataLoader worker");
  lua_pushcfunction(L, traceback); /* stack: args, traceback */
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->c->fetch_ref);
  int64_t n = (int64_t)(a->in_len / sizeof(int64_t));
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 1, &n, &box->t));
  memcpy(wick_tensor_data(box->t), wick_worker_slot_data(a->slot), (size_t)n * sizeof(int64_t));
  lua_pushinteger(L, a->task);
  if (lua_pcall(L, 2, LUA_MULTRET, 2) != LUA_OK) {
    snprintf(a->err, sizeof a->err, "%s", lua_tostring(L, -1));
    return 0;
  }
  int nres = lua_gettop(L) - 2; /* stack: args, traceback, results... */
  writer w = {a->slot, 0, {0}};
  uint32_t count = (uint32_t)nres;
  a->ok = put(&w, &count, 4);
  for (int i = 0; a->ok && i < nres; i++) a->ok = put_value(L, &w, 3 + i, 0);
  if (!a->ok) snprintf(a->err, sizeof a->err, "%s", w.err);
  a->out_len = w.off;
  return 0;
}

static bool child_task(void *ctx, int id, int64_t task, wick_worker_slot *slot, size_t in_len,
                       size_t *out_len) {
  (void)id;
  l_pool *c = ctx;
  lua_State *L = c->L;
  if (c->init_error) return fail_with(slot, c->init_error, out_len);
  int top = lua_gettop(L);
  task_args a = {c, task, slot, in_len, 0, false, {0}};
  lua_pushcfunction(L, task_body);
  lua_pushlightuserdata(L, &a);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    snprintf(a.err, sizeof a.err, "%s", msg ? msg : "error in the worker");
    a.ok = false;
  }
  lua_settop(L, top);
  lua_gc(L, LUA_GCSTEP, 0);
  if (!a.ok) return fail_with(slot, a.err, out_len);
  *out_len = a.out_len;
  return true;
}

/* ---- reading values in the parent ---- */

typedef struct {
  const char *p;
  size_t len, off;
} reader;

static void get(lua_State *L, reader *r, void *dst, size_t n) {
  if (n > r->len - r->off) l_errorf(L, "DataLoader: malformed batch from a worker");
  memcpy(dst, r->p + r->off, n);
  r->off += n;
}

static void get_value(lua_State *L, reader *r, int depth) {
  uint8_t tag;
  get(L, r, &tag, 1);
  luaL_checkstack(L, 4, "DataLoader");
  switch (tag) {
    case V_NIL: lua_pushnil(L); return;
    case V_FALSE: case V_TRUE: lua_pushboolean(L, tag == V_TRUE); return;
    case V_INT: { int64_t v; get(L, r, &v, 8); lua_pushinteger(L, v); return; }
    case V_NUM: { double v; get(L, r, &v, 8); lua_pushnumber(L, v); return; }
    case V_STR: {
      uint64_t n;
      get(L, r, &n, 8);
      if (n > r->len - r->off) l_errorf(L, "DataLoader: malformed batch from a worker");
      lua_pushlstring(L, r->p + r->off, (size_t)n);
      r->off += (size_t)n;
      return;
    }
    case V_TENSOR: {
      uint8_t dt, nd;
      int64_t sizes[WICK_MAX_DIMS];
      get(L, r, &dt, 1);
      get(L, r, &nd, 1);
      if (dt >= WICK_DTYPE_COUNT || nd > WICK_MAX_DIMS) l_errorf(L, "DataLoader: malformed batch from a worker");
      get(L, r, sizes, 8 * (size_t)nd);
      r->off = (r->off + TENSOR_ALIGN - 1) / TENSOR_ALIGN * TENSOR_ALIGN;
      l_tensor_box *box = l_newbox(L);
      if (wick_tensor_new((wick_dtype)dt, wick_cpu(), nd, sizes, &box->t) != WICK_OK) l_raise_last(L);
      size_t nbytes = (size_t)wick_tensor_numel(box->t) * wick_dtype_size(box->t->dtype);
      get(L, r, wick_tensor_data(box->t), nbytes);
      l_gc_pace(L);
      return;
    }
    case V_TABLE: {
      uint32_t n;
      get(L, r, &n, 4);
      if (depth >= MAX_DEPTH) l_errorf(L, "DataLoader: malformed batch from a worker");
      lua_createtable(L, 0, 0);
      for (uint32_t i = 0; i < n; i++) {
        get_value(L, r, depth + 1);
        get_value(L, r, depth + 1);
        if (lua_isnil(L, -2)) l_errorf(L, "DataLoader: malformed batch from a worker");
        lua_settable(L, -3);
      }
      return;
    }
    default: l_errorf(L, "DataLoader: malformed batch from a worker");
  }
}

/* ---- the pool object ---- */

static l_pool *checkpool(lua_State *L) {
  l_pool *c = luaL_checkudata(L, 1, POOL_MT);
  if (!c->pool) l_errorf(L, "DataLoader: the workers were shut down");
  return c;
}

/* WorkerPool(num_workers, prefetch_factor, fetch(indices, batch) -> values..., init(worker_id) or nil) */
static int l_pool_new(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1), slots = luaL_checkinteger(L, 2);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TFUNCTION);
  if (n < 1 || n > 256) return l_errorf(L, "DataLoader: num_workers must be 0 to 256 (got %lld)", (long long)n);
  if (slots < 1 || slots > 64)
    return l_errorf(L, "DataLoader: prefetch_factor must be 1 to 64 (got %lld)", (long long)slots);
  l_pool *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  c->fetch_ref = c->init_ref = LUA_NOREF;
  luaL_setmetatable(L, POOL_MT);
  lua_pushvalue(L, 3);
  c->fetch_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (!lua_isnoneornil(L, 4)) {
    lua_pushvalue(L, 4);
    c->init_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  c->L = L;
  /* in the children this call never returns: they run tasks until the pool goes */
  L_TRY(L, wick_worker_pool_start((int)n, (int)slots, child_init, child_task, c, &c->pool));
  return 1;
}

typedef struct { const wick_tensor *idx; } fill_ctx;

static void fill_indices(void *ctx, void *dst) {
  const wick_tensor *t = ((fill_ctx *)ctx)->idx;
  memcpy(dst, wick_tensor_data(t), (size_t)wick_tensor_numel(t) * sizeof(int64_t));
}

/* pool:submit(batch, indices) sends batch (its number, 0-based) with its i64 indices */
static int l_pool_submit(lua_State *L) {
  l_pool *c = checkpool(L);
  lua_Integer task = luaL_checkinteger(L, 2);
  wick_tensor *idx = l_checktensor(L, 3);
  if (idx->dtype != WICK_DTYPE_I64 || idx->ndim != 1 || !wick_tensor_is_contiguous(idx) ||
      idx->device.type != WICK_DEVICE_CPU)
    return l_errorf(L, "DataLoader: batch indices must be a contiguous 1-d i64 CPU tensor");
  fill_ctx f = {idx};
  L_TRY(L, wick_worker_pool_submit(c->pool, task, (size_t)wick_tensor_numel(idx) * sizeof(int64_t),
                                   fill_indices, &f));
  return 0;
}

/* pool:can_submit(batch) -> whether its worker has a free slot */
static int l_pool_can_submit(lua_State *L) {
  l_pool *c = checkpool(L);
  lua_pushboolean(L, wick_worker_pool_can_submit(c->pool, luaL_checkinteger(L, 2)));
  return 1;
}

/* pool:wait(batch, seconds) -> true when the batch is ready (raises on a worker's failure) */
static int l_pool_wait(lua_State *L) {
  l_pool *c = checkpool(L);
  lua_Integer task = luaL_checkinteger(L, 2);
  double timeout = luaL_checknumber(L, 3);
  const void *data;
  size_t len;
  L_TRY(L, wick_worker_pool_wait(c->pool, task, timeout > 0 ? timeout : 1e-3, &data, &len));
  lua_pushboolean(L, data != NULL);
  return 1;
}

/* pool:take(batch) -> the values the worker's fetch returned (waits without limit) */
static int l_pool_take(lua_State *L) {
  l_pool *c = checkpool(L);
  lua_Integer task = luaL_checkinteger(L, 2);
  const void *data = NULL;
  size_t len = 0;
  while (!data) L_TRY(L, wick_worker_pool_wait(c->pool, task, 3600, &data, &len));
  reader r = {data, len, 0};
  uint32_t n;
  get(L, &r, &n, 4);
  luaL_checkstack(L, (int)n + 4, "DataLoader: too many values in a batch");
  for (uint32_t i = 0; i < n; i++) get_value(L, &r, 0);
  wick_worker_pool_release(c->pool, task);
  return (int)n;
}

static int l_pool_pending(lua_State *L) {
  l_pool *c = luaL_checkudata(L, 1, POOL_MT);
  lua_pushinteger(L, c->pool ? wick_worker_pool_pending(c->pool) : 0);
  return 1;
}

static int l_pool_size(lua_State *L) {
  l_pool *c = luaL_checkudata(L, 1, POOL_MT);
  lua_pushinteger(L, c->pool ? wick_worker_pool_size(c->pool) : 0);
  return 1;
}

/* __gc, __close and close(): stops and reaps the workers; idempotent */
static int l_pool_close(lua_State *L) {
  l_pool *c = luaL_checkudata(L, 1, POOL_MT);
  wick_worker_pool_free(c->pool);
  c->pool = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, c->fetch_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, c->init_ref);
  c->fetch_ref = c->init_ref = LUA_NOREF;
  return 0;
}

static int l_pool_tostring(lua_State *L) {
  l_pool *c = luaL_checkudata(L, 1, POOL_MT);
  if (c->pool) lua_pushfstring(L, "wick.data.WorkerPool(%d workers)", wick_worker_pool_size(c->pool));
  else lua_pushliteral(L, "wick.data.WorkerPool(closed)");
  return 1;
}

void l_open_data_workers(lua_State *L, int t) {
  static const luaL_Reg methods[] = {
    {"submit", l_pool_submit}, {"can_submit", l_pool_can_submit}, {"wait", l_pool_wait},
    {"take", l_pool_take}, {"pending", l_pool_pending}, {"size", l_pool_size},
    {"close", l_pool_close}, {NULL, NULL},
  };
  l_newtype(L, POOL_MT, methods, l_pool_close, l_pool_tostring);
  lua_pushcfunction(L, l_pool_new);
  lua_setfield(L, t, "WorkerPool");
}
