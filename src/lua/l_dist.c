/* Bindings of wick.dist: the TCP store (wick.dist.TCPStore's C side) and worker processes
 * (the launcher of `wick run -n N` and wick.dist.spawn). Policy lives in lua/wick/dist/. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dist/heartbeat.h"
#include "dist/launch.h"
#include "dist/store.h"
#include "l_aux.h"

#define STORE_MT "wick.dist.TCPStore"
#define PROCS_MT "wick.dist.Procs"
#define HEARTBEAT_MT "wick.dist.Heartbeat"

extern char **environ;

/* ---- TCPStore ---- */

typedef struct {
  wick_store_client *c;
  wick_store_server *srv;
} l_store;

/* The client of the TCPStore at idx (also for the process group's rendezvous, l_pg.c). */
wick_store_client *l_dist_checkstore(lua_State *L, int idx) {
  l_store *s = luaL_checkudata(L, idx, STORE_MT);
  if (!s->c) l_errorf(L, "attempt to use a closed TCPStore");
  return s->c;
}

static wick_store_client *checkstore(lua_State *L) { return l_dist_checkstore(L, 1); }

/* TCPStore(host, port, is_master, timeout_s, secret) */
static int l_store_new(lua_State *L) {
  const char *host = luaL_checkstring(L, 1);
  int port = (int)luaL_checkinteger(L, 2);
  int master = lua_toboolean(L, 3);
  double timeout = luaL_checknumber(L, 4);
  const char *secret = luaL_checkstring(L, 5);
  l_store *s = lua_newuserdatauv(L, sizeof *s, 0);
  s->c = NULL;
  s->srv = NULL;
  luaL_setmetatable(L, STORE_MT);
  if (master) {
    L_TRY(L, wick_store_server_start(host, port, secret, &s->srv));
    port = wick_store_server_port(s->srv);
  }
  L_TRY(L, wick_store_connect(host, port, secret, timeout, &s->c));
  return 1;
}

static int l_store_close(lua_State *L) {
  l_store *s = luaL_checkudata(L, 1, STORE_MT);
  wick_store_close(s->c);
  s->c = NULL;
  wick_store_server_stop(s->srv);
  s->srv = NULL;
  return 0;
}

static int l_store_set(lua_State *L) {
  wick_store_client *c = checkstore(L);
  size_t n;
  const char *v = luaL_checklstring(L, 3, &n);
  L_TRY(L, wick_store_set(c, luaL_checkstring(L, 2), v, n));
  return 0;
}

/* Pushes a malloc'ed value and frees it before anything can raise. */
static int push_value(lua_State *L, char *v, size_t n) {
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, n); /* may raise: copy first, free, then finish */
  memcpy(p, v, n);
  free(v);
  luaL_pushresultsize(&b, n);
  return 1;
}

static int l_store_get(lua_State *L) {
  wick_store_client *c = checkstore(L);
  const char *k = luaL_checkstring(L, 2);
  char *v = NULL;
  size_t n = 0;
  L_TRY(L, wick_store_get(c, k, &v, &n));
  return push_value(L, v, n);
}

static int l_store_add(lua_State *L) {
  wick_store_client *c = checkstore(L);
  int64_t out = 0;
  L_TRY(L, wick_store_add(c, luaL_checkstring(L, 2), (int64_t)luaL_checkinteger(L, 3), &out));
  lua_pushinteger(L, (lua_Integer)out);
  return 1;
}

static int l_store_compare_set(lua_State *L) {
  wick_store_client *c = checkstore(L);
  size_t el, dl, n = 0;
  const char *k = luaL_checkstring(L, 2);
  const char *e = luaL_checklstring(L, 3, &el), *d = luaL_checklstring(L, 4, &dl);
  char *v = NULL;
  L_TRY(L, wick_store_compare_set(c, k, e, el, d, dl, &v, &n));
  return push_value(L, v, n);
}

/* keys as a table of strings at idx, into a userdata array of pointers (GC-owned) */
static const char **checkkeys(lua_State *L, int idx, int *n) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer len = luaL_len(L, idx);
  if (len > WICK_STORE_MAX_WAIT_KEYS) l_errorf(L, "TCPStore: at most %d keys (got %lld)", WICK_STORE_MAX_WAIT_KEYS, (long long)len);
  const char **keys = lua_newuserdatauv(L, sizeof(char *) * (size_t)(len + 1), 0);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_rawgeti(L, idx, i);
    if (lua_type(L, -1) != LUA_TSTRING) l_errorf(L, "TCPStore: keys must be strings (key %lld is a %s)", (long long)i, luaL_typename(L, -1));
    keys[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1); /* still referenced by the table */
  }
  *n = (int)len;
  return keys;
}

static int l_store_wait(lua_State *L) {
  wick_store_client *c = checkstore(L);
  int n;
  double timeout = luaL_optnumber(L, 3, -1); /* before checkkeys pushes its array */
  const char **keys = checkkeys(L, 2, &n);
  L_TRY(L, wick_store_wait(c, keys, n, timeout));
  return 0;
}

static int l_store_check(lua_State *L) {
  wick_store_client *c = checkstore(L);
  int n, all = 0;
  const char **keys = checkkeys(L, 2, &n);
  L_TRY(L, wick_store_check(c, keys, n, &all));
  lua_pushboolean(L, all);
  return 1;
}

static int l_store_delete_key(lua_State *L) {
  wick_store_client *c = checkstore(L);
  int deleted = 0;
  L_TRY(L, wick_store_delete_key(c, luaL_checkstring(L, 2), &deleted));
  lua_pushboolean(L, deleted);
  return 1;
}

static int l_store_num_keys(lua_State *L) {
  wick_store_client *c = checkstore(L);
  int64_t n = 0;
  L_TRY(L, wick_store_num_keys(c, &n));
  lua_pushinteger(L, (lua_Integer)n);
  return 1;
}

static int l_store_set_timeout(lua_State *L) {
  wick_store_set_timeout(checkstore(L), luaL_checknumber(L, 2));
  return 0;
}

static int l_store_port(lua_State *L) {
  l_store *s = luaL_checkudata(L, 1, STORE_MT);
  lua_pushinteger(L, s->srv ? wick_store_server_port(s->srv) : 0);
  return 1;
}

/* ---- worker processes ---- */

typedef struct {
  int n;
  wick_proc p[];
} l_procs;

static l_procs *checkprocs(lua_State *L, int idx) { return luaL_checkudata(L, idx, PROCS_MT); }

static wick_proc *checkproc(lua_State *L) {
  l_procs *ps = checkprocs(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 0 || i >= ps->n) l_errorf(L, "procs: index %lld out of range", (long long)i);
  return &ps->p[i];
}

static int l_procs_new(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  if (n < 1 || n > 4096) l_errorf(L, "procs: between 1 and 4096 processes (got %lld)", (long long)n);
  l_procs *ps = lua_newuserdatauv(L, sizeof *ps + (size_t)n * sizeof(wick_proc), 0);
  memset(ps, 0, sizeof *ps + (size_t)n * sizeof(wick_proc));
  ps->n = (int)n;
  for (int i = 0; i < ps->n; i++) ps->p[i].out_fd = ps->p[i].err_fd = ps->p[i].msg_fd = -1, ps->p[i].exited = 1;
  luaL_setmetatable(L, PROCS_MT);
  return 1;
}

/* No orphans: whatever is still running when the handle goes is killed and reaped. */
static int l_procs_gc(lua_State *L) {
  l_procs *ps = checkprocs(L, 1);
  for (int i = 0; i < ps->n; i++) {
    wick_proc *p = &ps->p[i];
    if (!p->exited && p->pid > 0) {
      kill(-p->pid, SIGKILL);
      kill(p->pid, SIGKILL);
      waitpid(p->pid, NULL, 0);
      p->exited = 1;
    }
    wick_proc_clear(p);
  }
  return 0;
}

/* table of strings at idx -> NULL-terminated array in a userdata (the strings stay in the table) */
static char **checkstrings(lua_State *L, int idx, const char *what) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer len = luaL_len(L, idx);
  char **a = lua_newuserdatauv(L, sizeof(char *) * (size_t)(len + 1), 0);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_rawgeti(L, idx, i);
    if (lua_type(L, -1) != LUA_TSTRING) l_errorf(L, "procs: %s must be strings", what);
    a[i - 1] = (char *)lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  a[len] = NULL;
  return a;
}

/* procs:exec(i, exe, argv, envp, capture) */
static int l_procs_exec(lua_State *L) {
  wick_proc *p = checkproc(L);
  const char *exe = luaL_checkstring(L, 3);
  char **argv = checkstrings(L, 4, "argv");
  char **envp = checkstrings(L, 5, "envp");
  L_TRY(L, wick_dist_exec_worker(exe, argv, envp, lua_toboolean(L, 6), p));
  lua_pushinteger(L, p->pid);
  return 1;
}

/* procs:fork(i) -> nil in the parent; the error-pipe fd in the child */
static int l_procs_fork(lua_State *L) {
  wick_proc *p = checkproc(L);
  int child = 0, fd = -1;
  L_TRY(L, wick_dist_fork_worker(p, &child, &fd));
  if (!child) return 0;
  /* the child's copy of the other workers is not its to supervise or kill */
  l_procs *ps = checkprocs(L, 1);
  for (int i = 0; i < ps->n; i++) {
    if (&ps->p[i] != p) wick_proc_clear(&ps->p[i]);
    ps->p[i].exited = 1;
  }
  lua_pushinteger(L, fd);
  return 1;
}

/* The tick of procs:supervise: calls the Lua function at index 5; true (or an error) stops. */
static int supervise_tick(void *ud) {
  lua_State *L = ud;
  lua_pushvalue(L, 5);
  int stop = lua_pcall(L, 0, 1, 0) != LUA_OK || lua_toboolean(L, -1);
  lua_pop(L, 1);
  return stop;
}

/* procs:supervise(prefix, grace_s, rank_base = 0, tick|nil, tick_s = 0.25) -> failed index or
 * "external" (tick stopped it) or nil, signal received or nil */
static int l_procs_supervise(lua_State *L) {
  l_procs *ps = checkprocs(L, 1);
  int failed, interrupted;
  wick_supervise_opts o;
  memset(&o, 0, sizeof o);
  o.prefix = lua_toboolean(L, 2);
  o.grace_s = luaL_optnumber(L, 3, 5.0);
  o.rank_base = (int)luaL_optinteger(L, 4, 0);
  if (!lua_isnoneornil(L, 5)) {
    luaL_checktype(L, 5, LUA_TFUNCTION);
    o.tick = supervise_tick;
    o.ud = L;
    o.tick_ms = (int)(luaL_optnumber(L, 6, 0.25) * 1000);
  }
  lua_settop(L, 6);
  wick_dist_supervise(ps->p, ps->n, &o, &failed, &interrupted);
  if (failed >= 0) lua_pushinteger(L, failed);
  else if (failed == WICK_SUPERVISE_EXTERNAL) lua_pushliteral(L, "external");
  else lua_pushnil(L);
  if (interrupted) lua_pushinteger(L, interrupted);
  else lua_pushnil(L);
  return 2;
}

/* procs:result(i, tail_lines) -> {pid, code, signal, message, tail, exit_pass, after_stop} */
static int l_procs_result(lua_State *L) {
  wick_proc *p = checkproc(L);
  int lines = (int)luaL_optinteger(L, 3, 20);
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, p->pid);
  lua_setfield(L, -2, "pid");
  lua_pushinteger(L, p->code);
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, p->sig);
  lua_setfield(L, -2, "signal");
  lua_pushinteger(L, p->exit_pass);
  lua_setfield(L, -2, "exit_pass");
  lua_pushboolean(L, p->after_stop);
  lua_setfield(L, -2, "after_stop");
  if (p->msg) {
    lua_pushlstring(L, p->msg, p->msg_len);
    lua_setfield(L, -2, "message");
  }
  char *buf = lua_newuserdatauv(L, WICK_PROC_TAIL + 1, 0);
  wick_proc_tail_lines(p, lines, buf, WICK_PROC_TAIL + 1);
  lua_pushstring(L, buf);
  lua_setfield(L, -3, "tail");
  lua_pop(L, 1);
  return 1;
}

/* ---- helpers for workers ---- */

static int l_write_fd(lua_State *L) {
  int fd = (int)luaL_checkinteger(L, 1);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w <= 0) break;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Ends a forked worker without running the parent's exit handlers or Lua finalisers. */
static int l_exit_now(lua_State *L) {
  int code = (int)luaL_optinteger(L, 1, 0);
  fflush(NULL);
  _exit(code);
  return 0;
}

/* sleep(seconds): for polling loops (a rendezvous file). */
static int l_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  if (s > 0) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {}
  }
  return 0;
}

static int l_random_secret(lua_State *L) {
  char buf[65];
  L_TRY(L, wick_dist_random_secret(buf, 32));
  lua_pushstring(L, buf);
  return 1;
}

static int l_environ(lua_State *L) {
  lua_newtable(L);
  for (int i = 0; environ[i]; i++) {
    lua_pushstring(L, environ[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_self_exe(lua_State *L) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return l_errorf(L, "wick run: cannot find this program (/proc/self/exe)");
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

/* setenv(name, value): spawn's children get their rank through the environment. */
static int l_setenv(lua_State *L) {
  if (setenv(luaL_checkstring(L, 1), luaL_checkstring(L, 2), 1) != 0) return l_errorf(L, "setenv: invalid name");
  return 0;
}

static int l_worker_guard(lua_State *L) {
  (void)L;
  wick_dist_worker_guard();
  return 0;
}

/* ---- heartbeat ---- */

/* core.heartbeat(host, port, secret, key, interval_s) -> a handle; the thread beats until the
 * handle is closed or collected (or the process ends). */
static int l_heartbeat_new(lua_State *L) {
  const char *host = luaL_checkstring(L, 1);
  int port = (int)luaL_checkinteger(L, 2);
  const char *secret = luaL_checkstring(L, 3);
  const char *key = luaL_checkstring(L, 4);
  double interval = luaL_checknumber(L, 5);
  wick_heartbeat **box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  luaL_setmetatable(L, HEARTBEAT_MT);
  L_TRY(L, wick_heartbeat_start(host, port, secret, key, interval, box));
  return 1;
}

static int l_heartbeat_gc(lua_State *L) {
  wick_heartbeat **box = luaL_checkudata(L, 1, HEARTBEAT_MT);
  wick_heartbeat_stop(*box);
  *box = NULL;
  return 0;
}

static int l_getpid(lua_State *L) {
  lua_pushinteger(L, getpid());
  return 1;
}

void l_open_dist(lua_State *L, int core, int methods) {
  (void)methods;
  static const luaL_Reg store_methods[] = {
    {"set", l_store_set}, {"get", l_store_get}, {"add", l_store_add},
    {"compare_set", l_store_compare_set}, {"wait", l_store_wait}, {"check", l_store_check},
    {"delete_key", l_store_delete_key}, {"num_keys", l_store_num_keys},
    {"set_timeout", l_store_set_timeout}, {"port", l_store_port}, {"close", l_store_close},
    {NULL, NULL},
  };
  static const luaL_Reg procs_methods[] = {
    {"exec", l_procs_exec}, {"fork", l_procs_fork}, {"supervise", l_procs_supervise},
    {"result", l_procs_result}, {NULL, NULL},
  };
  static const luaL_Reg fns[] = {
    {"TCPStore", l_store_new}, {"procs", l_procs_new}, {"write_fd", l_write_fd},
    {"exit_now", l_exit_now}, {"random_secret", l_random_secret}, {"sleep", l_sleep}, {"environ", l_environ},
    {"self_exe", l_self_exe}, {"getpid", l_getpid}, {"heartbeat", l_heartbeat_new}, {"worker_guard", l_worker_guard}, {"setenv", l_setenv}, {NULL, NULL},
  };
  l_newtype(L, STORE_MT, store_methods, l_store_close, NULL);
  l_newtype(L, PROCS_MT, procs_methods, l_procs_gc, NULL);
  static const luaL_Reg heartbeat_methods[] = { {"close", l_heartbeat_gc}, {NULL, NULL} };
  l_newtype(L, HEARTBEAT_MT, heartbeat_methods, l_heartbeat_gc, NULL);
  lua_newtable(L);
  luaL_setfuncs(L, fns, 0);
  lua_setfield(L, core, "_dist");
}
