/* Bindings for the io area: wick.save / wick.load of safetensors files (src/io/safetensors.h)
 * from and to Lua tables of name -> tensor. */
#include <string.h>

#include "io/checksum.h"
#include "io/safetensors.h"
#include "l_aux.h"

#define L_ST_MT "wick.io.Safetensors"

/* A loaded file awaiting conversion, owned by the GC so that a Lua error cannot leak it. */
typedef struct { wick_safetensors *st; } st_box;

static int st_gc(lua_State *L) {
  st_box *b = luaL_checkudata(L, 1, L_ST_MT);
  wick_safetensors_free(b->st);
  b->st = NULL;
  return 0;
}

/* Pushes a plain copy of the table at idx, iterating through __pairs when it has one (so a
 * state dict kept in an ordered container saves like a plain table). */
static void push_plain(lua_State *L, int idx) {
  lua_newtable(L);
  int flat = lua_gettop(L);
  if (luaL_getmetafield(L, idx, "__pairs") != LUA_TNIL) {
    lua_pushvalue(L, idx);
    lua_call(L, 1, 3); /* stack: flat, f, s, control */
    for (;;) {
      lua_pushvalue(L, flat + 1);
      lua_pushvalue(L, flat + 2);
      lua_pushvalue(L, flat + 3);
      lua_call(L, 2, 2); /* stack: flat, f, s, control, k, v */
      if (lua_isnil(L, -2)) break;
      lua_pushvalue(L, -2);
      lua_replace(L, flat + 3);
      lua_rawset(L, flat);
    }
    lua_settop(L, flat);
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) { /* stack: flat, k, v */
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, flat);
  }
}

static size_t table_count(lua_State *L, int idx) {
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    n++;
  }
  return n;
}

/* wick.save(path, {name = tensor, ...}, {metadata = {key = "value"}}) */
static int l_save(lua_State *L) {
  static const char *const opts[] = {"metadata", NULL};
  const char *path = luaL_checkstring(L, 1);
  if (!lua_istable(L, 2))
    return l_errorf(L, "save: expected a table of tensors (got %s)", luaL_typename(L, 2));
  l_checkoptions(L, 3, "save", opts);
  lua_settop(L, 3);
  push_plain(L, 2); /* 4: name -> tensor */
  if (lua_istable(L, 3)) lua_getfield(L, 3, "metadata");
  else lua_pushnil(L); /* 5 */
  if (!lua_isnil(L, 5) && !lua_istable(L, 5))
    return l_errorf(L, "save: metadata must be a table of strings (got %s)", luaL_typename(L, 5));
  if (lua_istable(L, 5)) push_plain(L, 5);
  else lua_newtable(L); /* 6: key -> value */

  size_t n = table_count(L, 4), nmeta = table_count(L, 6);
  wick_st_item *items = lua_newuserdatauv(L, n * sizeof *items, 0);           /* 7 */
  wick_st_meta *meta = lua_newuserdatauv(L, nmeta * sizeof *meta, 0);        /* 8 */
  size_t i = 0;
  lua_pushnil(L);
  while (lua_next(L, 4)) { /* stack: ..., name, value (both stay alive in table 4) */
    if (lua_type(L, -2) != LUA_TSTRING)
      return l_errorf(L, "save: tensor names must be strings (got a %s key)", luaL_typename(L, -2));
    wick_tensor *t = l_testtensor(L, -1);
    if (!t)
      return l_errorf(L, "save: '%s' is not a tensor (got %s)", lua_tostring(L, -2),
                      luaL_typename(L, -1));
    items[i].name = lua_tolstring(L, -2, &items[i].name_len);
    items[i].tensor = t;
    i++;
    lua_pop(L, 1);
  }
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, 6)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      return l_errorf(L, "save: metadata keys must be strings (got a %s key)", luaL_typename(L, -2));
    if (lua_type(L, -1) != LUA_TSTRING)
      return l_errorf(L, "save: metadata '%s' must be a string (got %s)", lua_tostring(L, -2),
                      luaL_typename(L, -1));
    meta[i].key = lua_tolstring(L, -2, &meta[i].key_len);
    meta[i].value = lua_tolstring(L, -1, &meta[i].value_len);
    i++;
    lua_pop(L, 1);
  }
  L_TRY(L, wick_safetensors_save(path, items, n, meta, nmeta));
  return 0;
}

/* wick.load(path, {device}) -> {name = tensor, ...}, {metadata key = value} */
static int l_load(lua_State *L) {
  static const char *const opts[] = {"device", NULL};
  const char *path = luaL_checkstring(L, 1);
  l_checkoptions(L, 2, "load", opts);
  wick_device dev = l_optdevice(L, 2, "device", wick_cpu());
  lua_settop(L, 2);
  st_box *b = lua_newuserdatauv(L, sizeof *b, 0); /* 3 */
  b->st = NULL;
  luaL_setmetatable(L, L_ST_MT);
  L_TRY(L, wick_safetensors_load(path, &b->st));
  const wick_safetensors *st = b->st;
  lua_createtable(L, 0, st->n > 1000000 ? 1000000 : (int)st->n); /* 4 */
  for (size_t i = 0; i < st->n; i++) {
    const wick_st_entry *e = &st->entries[i];
    lua_pushlstring(L, e->name, e->name_len);
    l_tensor_box *box = l_newbox(L); /* stack: ..., tensors, name, tensor */
    L_TRY(L, wick_to(e->tensor, e->dtype, dev, false, &box->t));
    lua_rawset(L, 4);
  }
  lua_createtable(L, 0, st->nmeta > 1000000 ? 1000000 : (int)st->nmeta); /* 5 */
  for (size_t i = 0; i < st->nmeta; i++) {
    lua_pushlstring(L, st->meta[i].key, st->meta[i].key_len);
    lua_pushlstring(L, st->meta[i].value, st->meta[i].value_len);
    lua_rawset(L, 5);
  }
  /* The Lua boxes hold their own references: drop the file's now, not at the next GC. */
  wick_safetensors_free(b->st);
  b->st = NULL;
  l_gc_pace(L);
  return 2;
}

/* core._crc32c(t) -> the CRC-32C of a CPU tensor's data (checkpoint checksums). */
static int l_crc32c(lua_State *L) {
  uint32_t crc = 0;
  L_TRY(L, wick_tensor_crc32c(l_checktensor(L, 1), &crc));
  lua_pushinteger(L, (lua_Integer)crc);
  return 1;
}

void l_open_io(lua_State *L, int core, int methods) {
  (void)methods;
  if (luaL_newmetatable(L, L_ST_MT)) {
    lua_pushcfunction(L, st_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {{"save", l_save}, {"load", l_load}, {"_crc32c", l_crc32c}, {NULL, NULL}};
  l_setfuncs(L, core, fns);
}
