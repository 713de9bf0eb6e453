/* Bindings of the data pipeline's C half (wick._data): IDX files, the batch gather of in-memory
 * datasets, terminal queries for the progress bar; the worker pool is in l_data_workers.c. */
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "io/batch.h"
#include "io/idx.h"
#include "l_aux.h"

/* l_data_workers.c: adds WorkerPool to the table at index t. */
void l_open_data_workers(lua_State *L, int t);

/* read_idx(path) -> tensor */
static int l_read_idx(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  L_PUSH_NEW(L, o, wick_idx_read(path, &o));
}

/* write_idx(path, t, {gzip = false}) */
static int l_write_idx(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  wick_tensor *t = l_checktensor(L, 2);
  static const char *const opts[] = {"gzip", NULL};
  l_checkoptions(L, 3, "write_idx", opts);
  L_TRY(L, wick_idx_write(path, t, l_optbool(L, 3, "gzip", 0)));
  return 0;
}

/* gather_(out, src, idx, scale, shift) -> out: out[i] = src[idx[i]] * scale + shift */
static int l_gather_into(lua_State *L) {
  wick_tensor *out = l_checktensor(L, 1);
  wick_tensor *src = l_checktensor(L, 2);
  wick_tensor *idx = l_checktensor(L, 3);
  double scale = luaL_optnumber(L, 4, 1.0), shift = luaL_optnumber(L, 5, 0.0);
  L_TRY(L, wick_batch_gather(src, idx, scale, shift, out));
  lua_settop(L, 1);
  return 1;
}

/* isatty(fd) -> boolean */
static int l_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
  return 1;
}

/* terminal_width(fd) -> columns, or nil when fd is not a terminal */
static int l_terminal_width(lua_State *L) {
  struct winsize ws;
  if (ioctl((int)luaL_checkinteger(L, 1), TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 0;
  lua_pushinteger(L, ws.ws_col);
  return 1;
}

void l_open_data(lua_State *L, int core, int methods) {
  (void)methods;
  static const luaL_Reg fns[] = {
    {"read_idx", l_read_idx}, {"write_idx", l_write_idx}, {"gather_", l_gather_into},
    {"isatty", l_isatty}, {"terminal_width", l_terminal_width}, {NULL, NULL},
  };
  lua_newtable(L);
  int t = lua_gettop(L);
  l_setfuncs(L, t, fns);
  l_open_data_workers(L, t);
  lua_setfield(L, core, "_data");
}
