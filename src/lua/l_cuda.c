/* Bindings of wick.device, the CUDA runtime (core._cuda, made into wick.cuda by
 * lua/wick/cuda.lua), autocast and pinned memory. Every build has the same functions: without
 * CUDA nothing is available and requests raise "<op>: wick was built without CUDA". */
#include <stddef.h>
#include <string.h>

#include "core/exec_mode.h"
#include "l_aux.h"
#ifdef WICK_HAVE_CUDA
#include "cuda/cuda_api.h"
#endif

/* ---- wick.device ---- */

static int l_device_new(lua_State *L) {
  wick_device d;
  if (l_testdevice(L, 1, &d)) { lua_settop(L, 1); return 1; }
  const char *s = luaL_checkstring(L, 1);
  L_TRY(L, wick_device_parse(s, &d));
  if (!lua_isnoneornil(L, 2)) { /* wick.device("cuda", 1) */
    lua_Integer i = luaL_checkinteger(L, 2);
    if (strchr(s, ':')) return l_errorf(L, "device: '%s' already has an index", s);
    if (d.type == WICK_DEVICE_CPU && i != 0) return l_errorf(L, "device: the cpu device has no index %lld", (long long)i);
    if (i < 0 || i > 1023) return l_errorf(L, "device: invalid index %lld", (long long)i);
    d.index = (int16_t)i;
  }
  wick_device *u = lua_newuserdatauv(L, sizeof *u, 0);
  *u = d;
  luaL_setmetatable(L, L_DEVICE_MT);
  return 1;
}

static int l_device_index(lua_State *L) {
  wick_device *d = luaL_checkudata(L, 1, L_DEVICE_MT);
  const char *k = luaL_checkstring(L, 2);
  if (!strcmp(k, "type")) lua_pushstring(L, d->type == WICK_DEVICE_CPU ? "cpu" : "cuda");
  else if (!strcmp(k, "index")) {
    if (d->type == WICK_DEVICE_CPU) lua_pushnil(L);
    else lua_pushinteger(L, d->index);
  } else lua_pushnil(L);
  return 1;
}

static int l_device_tostring(lua_State *L) {
  wick_device *d = luaL_checkudata(L, 1, L_DEVICE_MT);
  char buf[32];
  wick_device_format(*d, buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

/* Equal to another wick.Device or to a device name ("cuda:0" == wick.device("cuda:0") needs
 * both to be devices in Lua, so :is() takes names too). */
static int l_device_eq(lua_State *L) {
  wick_device a, b;
  lua_pushboolean(L, l_testdevice(L, 1, &a) && l_testdevice(L, 2, &b) && wick_device_eq(a, b));
  return 1;
}

static int l_device_is(lua_State *L) {
  wick_device a, b;
  if (!l_testdevice(L, 1, &a)) return luaL_typeerror(L, 1, L_DEVICE_MT);
  if (!l_testdevice(L, 2, &b)) L_TRY(L, wick_device_parse(luaL_checkstring(L, 2), &b));
  lua_pushboolean(L, wick_device_eq(a, b));
  return 1;
}

static void open_device(lua_State *L, int core) {
  luaL_newmetatable(L, L_DEVICE_MT);
  lua_pushcfunction(L, l_device_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_device_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, l_device_eq);
  lua_setfield(L, -2, "__eq");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_device_new);
  lua_setfield(L, core, "device");
  lua_pushcfunction(L, l_device_is);
  lua_setfield(L, core, "_device_is");
}

/* ---- autocast (all builds: core's matmul and conv consult the flag on every device) ---- */

/* _autocast_set(dtype or nil) -> previous dtype name or nil */
static int l_autocast_set(lua_State *L) {
  wick_dtype dt = WICK_DTYPE_COUNT;
  if (!lua_isnoneornil(L, 1)) {
    dt = l_checkdtype(L, 1);
    if (dt != WICK_DTYPE_F16 && dt != WICK_DTYPE_BF16 && dt != WICK_DTYPE_F32)
      return l_errorf(L, "autocast: dtype must be bf16 or f16 (got %s)", wick_dtype_name(dt));
    if (dt == WICK_DTYPE_F32) dt = WICK_DTYPE_COUNT;
  }
  wick_dtype prev = wick_autocast_set(dt);
  if (prev == WICK_DTYPE_COUNT) lua_pushnil(L);
  else lua_pushstring(L, wick_dtype_name(prev));
  return 1;
}

static int l_autocast_get(lua_State *L) {
  wick_dtype dt = wick_autocast_get();
  if (dt == WICK_DTYPE_COUNT) lua_pushnil(L);
  else lua_pushstring(L, wick_dtype_name(dt));
  return 1;
}

#ifdef WICK_HAVE_CUDA

#define L_STREAM_MT "wick.cuda.Stream"
#define L_EVENT_MT "wick.cuda.Event"

typedef struct {
  void *handle; /* cudaStream_t; NULL is the default stream */
  int device;
  int owned;    /* created here: destroyed by __gc */
} l_stream;

typedef struct {
  void *handle; /* cudaEvent_t; NULL once released */
  int device;
} l_event;

/* A device argument: none/nil (the current device), an index, "cuda:N" or a wick.Device. */
static int check_cuda_index(lua_State *L, int idx) {
  wick_device d;
  if (lua_isnoneornil(L, idx)) return wick_cuda_current_device();
  if (lua_isinteger(L, idx)) {
    d.type = WICK_DEVICE_CUDA;
    lua_Integer i = lua_tointeger(L, idx);
    if (i < 0 || i > 1023) return l_errorf(L, "cuda: invalid device index %lld", (long long)i);
    d.index = (int16_t)i;
  } else if (!l_testdevice(L, idx, &d)) {
    L_TRY(L, wick_device_parse(luaL_checkstring(L, idx), &d));
  }
  if (d.type != WICK_DEVICE_CUDA) {
    char buf[32];
    wick_device_format(d, buf, sizeof buf);
    return l_errorf(L, "cuda: expected a CUDA device (got %s)", buf);
  }
  return d.index;
}

static int l_is_available(lua_State *L) {
  lua_pushboolean(L, wick_cuda_is_available());
  return 1;
}

static int l_device_count(lua_State *L) {
  int n = 0;
  if (wick_cuda_device_count(&n) != WICK_OK) n = 0;
  lua_pushinteger(L, n);
  return 1;
}

static int l_current_device(lua_State *L) {
  int n;
  L_TRY(L, wick_cuda_device_count(&n));
  lua_pushinteger(L, wick_cuda_current_device());
  return 1;
}

static int l_set_device(lua_State *L) {
  L_TRY(L, wick_cuda_set_device(check_cuda_index(L, 1)));
  return 0;
}

static int l_synchronize(lua_State *L) {
  L_TRY(L, wick_cuda_synchronize(check_cuda_index(L, 1)));
  return 0;
}

/* Memory statistics: 0 when no device is available (logging code runs everywhere). */
static int push_stat(lua_State *L, size_t off) {
  int d = check_cuda_index(L, 1);
  wick_cuda_mem_stats st;
  int64_t v = 0;
  if (wick_cuda_is_available()) {
    L_TRY(L, wick_cuda_memory_stats(d, &st));
    memcpy(&v, (const char *)&st + off, sizeof v);
  }
  lua_pushinteger(L, (lua_Integer)v);
  return 1;
}
static int l_memory_allocated(lua_State *L) { return push_stat(L, offsetof(wick_cuda_mem_stats, allocated)); }
static int l_max_memory_allocated(lua_State *L) { return push_stat(L, offsetof(wick_cuda_mem_stats, max_allocated)); }
static int l_memory_reserved(lua_State *L) { return push_stat(L, offsetof(wick_cuda_mem_stats, reserved)); }
static int l_max_memory_reserved(lua_State *L) { return push_stat(L, offsetof(wick_cuda_mem_stats, max_reserved)); }

static int l_memory_stats(lua_State *L) {
  int d = check_cuda_index(L, 1);
  wick_cuda_mem_stats st;
  memset(&st, 0, sizeof st);
  if (wick_cuda_is_available()) L_TRY(L, wick_cuda_memory_stats(d, &st));
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, st.allocated); lua_setfield(L, -2, "allocated_bytes");
  lua_pushinteger(L, st.max_allocated); lua_setfield(L, -2, "max_allocated_bytes");
  lua_pushinteger(L, st.reserved); lua_setfield(L, -2, "reserved_bytes");
  lua_pushinteger(L, st.max_reserved); lua_setfield(L, -2, "max_reserved_bytes");
  lua_pushinteger(L, st.num_mallocs); lua_setfield(L, -2, "num_device_alloc");
  lua_pushinteger(L, st.num_frees); lua_setfield(L, -2, "num_device_free");
  lua_pushinteger(L, st.num_alloc_retries); lua_setfield(L, -2, "num_alloc_retries");
  return 1;
}

static int l_reset_peak(lua_State *L) {
  wick_cuda_reset_peak_stats(check_cuda_index(L, 1));
  return 0;
}

static int l_empty_cache(lua_State *L) {
  L_TRY(L, wick_cuda_empty_cache());
  return 0;
}

static int l_get_device_properties(lua_State *L) {
  wick_cuda_props p;
  L_TRY(L, wick_cuda_get_properties(check_cuda_index(L, 1), &p));
  lua_createtable(L, 0, 5);
  lua_pushstring(L, p.name); lua_setfield(L, -2, "name");
  lua_pushinteger(L, p.major); lua_setfield(L, -2, "major");
  lua_pushinteger(L, p.minor); lua_setfield(L, -2, "minor");
  lua_pushinteger(L, p.multi_processor_count); lua_setfield(L, -2, "multi_processor_count");
  lua_pushinteger(L, (lua_Integer)p.total_memory); lua_setfield(L, -2, "total_memory");
  return 1;
}

/* ---- streams ---- */

static l_stream *push_stream(lua_State *L, void *handle, int device, int owned) {
  l_stream *s = lua_newuserdatauv(L, sizeof *s, 0);
  s->handle = handle;
  s->device = device;
  s->owned = owned;
  luaL_setmetatable(L, L_STREAM_MT);
  return s;
}

static l_stream *check_stream(lua_State *L, int idx) { return luaL_checkudata(L, idx, L_STREAM_MT); }

/* Stream([device], {priority}) */
static int l_stream_new(lua_State *L) {
  static const char *const opts[] = {"device", "priority", NULL};
  int device, priority = 0;
  if (lua_istable(L, 1)) {
    l_checkoptions(L, 1, "Stream", opts);
    lua_getfield(L, 1, "device");
    device = check_cuda_index(L, -1);
    lua_pop(L, 1);
    priority = (int)l_optinteger(L, 1, "priority", 0);
  } else {
    device = check_cuda_index(L, 1);
  }
  l_stream *s = push_stream(L, NULL, device, 0); /* boxed first: an error cannot leak */
  void *h;
  L_TRY(L, wick_cuda_stream_new(device, priority, &h));
  s->handle = h;
  s->owned = 1;
  return 1;
}

static int l_stream_gc(lua_State *L) {
  l_stream *s = check_stream(L, 1);
  if (s->owned && s->handle) wick_cuda_stream_free(s->device, s->handle);
  s->handle = NULL;
  s->owned = 0;
  return 0;
}

static int l_stream_synchronize(lua_State *L) {
  l_stream *s = check_stream(L, 1);
  L_TRY(L, wick_cuda_stream_synchronize(s->device, s->handle));
  return 0;
}

static int l_stream_query(lua_State *L) {
  l_stream *s = check_stream(L, 1);
  bool done;
  L_TRY(L, wick_cuda_stream_query(s->device, s->handle, &done));
  lua_pushboolean(L, done);
  return 1;
}

static l_event *check_event(lua_State *L, int idx) {
  l_event *e = luaL_checkudata(L, idx, L_EVENT_MT);
  if (!e->handle) l_errorf(L, "attempt to use a released CUDA event");
  return e;
}

static int l_stream_wait_event(lua_State *L) {
  l_stream *s = check_stream(L, 1);
  l_event *e = check_event(L, 2);
  L_TRY(L, wick_cuda_stream_wait_event(s->device, s->handle, e->handle));
  return 0;
}

/* Work queued on s after this waits for the work queued on other so far. */
static int l_stream_wait_stream(lua_State *L) {
  l_stream *s = check_stream(L, 1), *o = check_stream(L, 2);
  void *ev;
  L_TRY(L, wick_cuda_event_new(o->device, false, &ev));
  wick_status st = wick_cuda_event_record(o->device, ev, o->handle);
  if (!st) st = wick_cuda_stream_wait_event(s->device, s->handle, ev);
  wick_cuda_event_free(o->device, ev); /* released by the driver once it completes */
  L_TRY(L, st);
  return 0;
}

static int l_stream_get_device(lua_State *L) {
  lua_pushinteger(L, check_stream(L, 1)->device);
  return 1;
}

static int l_stream_tostring(lua_State *L) {
  l_stream *s = check_stream(L, 1);
  lua_pushfstring(L, "wick.cuda.Stream(device=cuda:%d, stream=%p)", s->device, s->handle);
  return 1;
}

static int l_stream_eq(lua_State *L) {
  l_stream *a = luaL_testudata(L, 1, L_STREAM_MT), *b = luaL_testudata(L, 2, L_STREAM_MT);
  lua_pushboolean(L, a && b && a->handle == b->handle && a->device == b->device);
  return 1;
}

static int l_current_stream(lua_State *L) {
  int d = check_cuda_index(L, 1);
  L_TRY(L, wick_cuda_check_device(d));
  push_stream(L, wick_cuda_get_current_stream(d), d, 0);
  return 1;
}

/* set_stream(stream): the stream later work on its device is queued on. */
static int l_set_stream(lua_State *L) {
  l_stream *s = check_stream(L, 1);
  L_TRY(L, wick_cuda_set_current_stream_handle(s->device, s->handle));
  return 0;
}

static int l_default_stream(lua_State *L) {
  int d = check_cuda_index(L, 1);
  L_TRY(L, wick_cuda_check_device(d));
  push_stream(L, NULL, d, 0);
  return 1;
}

/* ---- events ---- */

/* Event({enable_timing}) */
static int l_event_new(lua_State *L) {
  static const char *const opts[] = {"enable_timing", "device", NULL};
  l_checkoptions(L, 1, "Event", opts);
  int timing = l_optbool(L, 1, "enable_timing", 0);
  int device = wick_cuda_current_device();
  if (lua_istable(L, 1)) {
    lua_getfield(L, 1, "device");
    device = check_cuda_index(L, -1);
    lua_pop(L, 1);
  }
  l_event *e = lua_newuserdatauv(L, sizeof *e, 0);
  e->handle = NULL;
  e->device = device;
  luaL_setmetatable(L, L_EVENT_MT);
  void *h;
  L_TRY(L, wick_cuda_event_new(device, timing, &h));
  e->handle = h;
  return 1;
}

static int l_event_gc(lua_State *L) {
  l_event *e = luaL_checkudata(L, 1, L_EVENT_MT);
  if (e->handle) wick_cuda_event_free(e->device, e->handle);
  e->handle = NULL;
  return 0;
}

/* record([stream]): on the current stream of the event's device by default */
static int l_event_record(lua_State *L) {
  l_event *e = check_event(L, 1);
  void *stream = lua_isnoneornil(L, 2) ? wick_cuda_get_current_stream(e->device) : check_stream(L, 2)->handle;
  L_TRY(L, wick_cuda_event_record(e->device, e->handle, stream));
  lua_settop(L, 1);
  return 1;
}

static int l_event_synchronize(lua_State *L) {
  l_event *e = check_event(L, 1);
  L_TRY(L, wick_cuda_event_synchronize(e->device, e->handle));
  return 0;
}

static int l_event_query(lua_State *L) {
  l_event *e = check_event(L, 1);
  bool done;
  L_TRY(L, wick_cuda_event_query(e->device, e->handle, &done));
  lua_pushboolean(L, done);
  return 1;
}

/* start:elapsed_time(end) -> milliseconds */
static int l_event_elapsed(lua_State *L) {
  l_event *a = check_event(L, 1), *b = check_event(L, 2);
  float ms;
  L_TRY(L, wick_cuda_event_elapsed(a->device, a->handle, b->handle, &ms));
  lua_pushnumber(L, ms);
  return 1;
}

/* wait([stream]): work queued on stream (the current one by default) waits for the event */
static int l_event_wait(lua_State *L) {
  l_event *e = check_event(L, 1);
  void *stream = lua_isnoneornil(L, 2) ? wick_cuda_get_current_stream(e->device) : check_stream(L, 2)->handle;
  L_TRY(L, wick_cuda_stream_wait_event(e->device, stream, e->handle));
  return 0;
}

/* t:record_stream(s): t's memory is not reused before the work queued on s so far is done */
static int l_record_stream(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  l_stream *s = check_stream(L, 2);
  if (t->device.type == WICK_DEVICE_CUDA && t->device.index != s->device)
    return l_errorf(L, "record_stream: the tensor is on cuda:%d but the stream on cuda:%d", t->device.index,
                    s->device);
  L_TRY(L, wick_cuda_tensor_record_stream(t, s->handle));
  return 0;
}

/* ---- pinned memory ---- */

static int l_pin_memory(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  if (wick_cuda_is_pinned(t)) { lua_settop(L, 1); return 1; }
  L_PUSH_NEW(L, o, wick_cuda_pin(t, &o));
}

static int l_is_pinned(lua_State *L) {
  lua_pushboolean(L, wick_cuda_is_pinned(l_checktensor(L, 1)));
  return 1;
}

static void open_runtime(lua_State *L, int core, int methods) {
  static const luaL_Reg stream_methods[] = {
    {"synchronize", l_stream_synchronize}, {"query", l_stream_query},
    {"wait_event", l_stream_wait_event}, {"wait_stream", l_stream_wait_stream},
    {"get_device", l_stream_get_device}, {NULL, NULL},
  };
  l_newtype(L, L_STREAM_MT, stream_methods, l_stream_gc, l_stream_tostring);
  luaL_getmetatable(L, L_STREAM_MT);
  lua_pushcfunction(L, l_stream_eq);
  lua_setfield(L, -2, "__eq");
  lua_pop(L, 1);
  static const luaL_Reg event_methods[] = {
    {"record", l_event_record}, {"synchronize", l_event_synchronize}, {"query", l_event_query},
    {"elapsed_time", l_event_elapsed}, {"wait", l_event_wait}, {NULL, NULL},
  };
  l_newtype(L, L_EVENT_MT, event_methods, l_event_gc, NULL);
  static const luaL_Reg fns[] = {
    {"is_available", l_is_available}, {"device_count", l_device_count},
    {"current_device", l_current_device}, {"set_device", l_set_device},
    {"synchronize", l_synchronize}, {"memory_allocated", l_memory_allocated},
    {"max_memory_allocated", l_max_memory_allocated}, {"memory_reserved", l_memory_reserved},
    {"max_memory_reserved", l_max_memory_reserved}, {"memory_stats", l_memory_stats},
    {"reset_peak_memory_stats", l_reset_peak}, {"empty_cache", l_empty_cache},
    {"get_device_properties", l_get_device_properties}, {"Stream", l_stream_new},
    {"Event", l_event_new}, {"current_stream", l_current_stream}, {"set_stream", l_set_stream},
    {"default_stream", l_default_stream}, {NULL, NULL},
  };
  lua_newtable(L);
  l_setfuncs(L, lua_gettop(L), fns);
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "built");
  lua_setfield(L, core, "_cuda");
  static const luaL_Reg tensor_methods[] = {
    {"pin_memory", l_pin_memory}, {"is_pinned", l_is_pinned}, {"record_stream", l_record_stream}, {NULL, NULL},
  };
  l_setfuncs(L, methods, tensor_methods);
  wick_cuda_backend_init();
}

#else /* CPU-only build: the same names, nothing available */

static int no_cuda(lua_State *L) {
  return l_errorf(L, "%s: wick was built without CUDA", lua_tostring(L, lua_upvalueindex(1)));
}
static int l_false(lua_State *L) { lua_pushboolean(L, 0); return 1; }
static int l_zero(lua_State *L) { lua_pushinteger(L, 0); return 1; }
static int l_nothing(lua_State *L) { (void)L; return 0; }
static int l_memory_stats(lua_State *L) {
  static const char *const keys[] = {"allocated_bytes", "max_allocated_bytes", "reserved_bytes",
    "max_reserved_bytes", "num_device_alloc", "num_device_free", "num_alloc_retries", NULL};
  lua_newtable(L);
  for (int i = 0; keys[i]; i++) { lua_pushinteger(L, 0); lua_setfield(L, -2, keys[i]); }
  return 1;
}
static int l_pin_memory(lua_State *L) {
  l_checktensor(L, 1);
  return l_errorf(L, "pin_memory: wick was built without CUDA");
}
static int l_record_stream(lua_State *L) {
  l_checktensor(L, 1);
  return l_errorf(L, "record_stream: wick was built without CUDA");
}

static void open_runtime(lua_State *L, int core, int methods) {
  static const char *const raising[] = {"current_device", "set_device", "synchronize",
    "get_device_properties", "Stream", "Event", "current_stream", "set_stream", "default_stream", NULL};
  static const luaL_Reg fns[] = {
    {"is_available", l_false}, {"device_count", l_zero}, {"memory_allocated", l_zero},
    {"max_memory_allocated", l_zero}, {"memory_reserved", l_zero}, {"max_memory_reserved", l_zero},
    {"memory_stats", l_memory_stats}, {"reset_peak_memory_stats", l_nothing}, {"empty_cache", l_nothing},
    {NULL, NULL},
  };
  lua_newtable(L);
  l_setfuncs(L, lua_gettop(L), fns);
  for (int i = 0; raising[i]; i++) {
    lua_pushstring(L, raising[i]);
    lua_pushcclosure(L, no_cuda, 1);
    lua_setfield(L, -2, raising[i]);
  }
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "built");
  lua_setfield(L, core, "_cuda");
  static const luaL_Reg tensor_methods[] = {
    {"pin_memory", l_pin_memory}, {"is_pinned", l_false}, {"record_stream", l_record_stream}, {NULL, NULL},
  };
  l_setfuncs(L, methods, tensor_methods);
}

#endif

void l_open_cuda(lua_State *L, int core, int methods) {
  open_device(L, core);
  static const luaL_Reg fns[] = {{"_autocast_set", l_autocast_set}, {"_autocast_get", l_autocast_get}, {NULL, NULL}};
  l_setfuncs(L, core, fns);
  open_runtime(L, core, methods);
}
