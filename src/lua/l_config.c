/* Bindings for the config area: YAML node trees (src/io/yaml.h) <-> Lua values. Policy (merging,
 * validation, the recipe runner) lives in lua/wick/config.lua. */
#include <string.h>

#include "io/yaml.h"
#include "l_aux.h"

#define L_NULL_MT "wick.config.null"
#define L_DOC_MT "wick.config.Doc"
/* A dump converts shared subtables once per reference: bound the total like aliases are. */
#define L_DUMP_MAX_NODES 10000000

/* ---- a GC-owned box for a document, so a Lua error mid-conversion cannot leak it ---- */

typedef struct { wick_yaml_doc *doc; } doc_box;

static int doc_gc(lua_State *L) {
  doc_box *b = luaL_checkudata(L, 1, L_DOC_MT);
  wick_yaml_doc_free(b->doc);
  b->doc = NULL;
  return 0;
}

static doc_box *new_doc_box(lua_State *L) {
  doc_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->doc = NULL;
  luaL_setmetatable(L, L_DOC_MT);
  return b;
}

static void push_null(lua_State *L) { lua_getfield(L, LUA_REGISTRYINDEX, L_NULL_MT ".value"); }

static int is_null(lua_State *L, int idx) {
  return luaL_testudata(L, idx, L_NULL_MT) != NULL;
}

/* ---- node -> Lua ---- */

/* Pushes the node. Nulls inside mappings are dropped (the key is absent) unless keep_null; in
 * sequences they are always the wick.config.null sentinel, which keeps the positions. */
static void push_node(lua_State *L, const wick_yaml_node *n, int keep_null) {
  luaL_checkstack(L, 4, "config: nesting too deep");
  switch (n->kind) {
    case WICK_YAML_NULL: push_null(L); return;
    case WICK_YAML_BOOL: lua_pushboolean(L, n->v.b); return;
    case WICK_YAML_INT: lua_pushinteger(L, (lua_Integer)n->v.i); return;
    case WICK_YAML_FLOAT: lua_pushnumber(L, (lua_Number)n->v.f); return;
    case WICK_YAML_STR: lua_pushlstring(L, n->v.str.ptr, n->v.str.len); return;
    case WICK_YAML_SEQ:
      lua_createtable(L, (int)n->v.seq.n, 0);
      for (size_t i = 0; i < n->v.seq.n; i++) {
        push_node(L, n->v.seq.items[i], keep_null);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      return;
    case WICK_YAML_MAP:
      lua_createtable(L, 0, (int)n->v.map.n);
      for (size_t i = 0; i < n->v.map.n; i++) {
        const wick_yaml_pair *p = &n->v.map.pairs[i];
        if (p->value->kind == WICK_YAML_NULL && !keep_null) continue;
        if (p->key->kind == WICK_YAML_INT) lua_pushinteger(L, (lua_Integer)p->key->v.i);
        else lua_pushlstring(L, p->key->v.str.ptr, p->key->v.str.len);
        push_node(L, p->value, keep_null); /* stack: map, key, value */
        lua_rawset(L, -3);
      }
      return;
  }
}

static void push_root(lua_State *L, const wick_yaml_doc *doc, int keep_null) {
  const wick_yaml_node *root = wick_yaml_root(doc);
  if (root->kind == WICK_YAML_NULL) lua_pushnil(L); /* an empty document loads as nil */
  else push_node(L, root, keep_null);
}

/* core.config_loads(text, name|nil, keep_null) */
static int l_config_loads(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *name = luaL_optstring(L, 2, NULL);
  int keep_null = lua_toboolean(L, 3);
  doc_box *b = new_doc_box(L);
  L_TRY(L, wick_yaml_parse(text, len, name, &b->doc));
  push_root(L, b->doc, keep_null);
  return 1;
}

/* core.config_load(path, keep_null) */
static int l_config_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int keep_null = lua_toboolean(L, 2);
  doc_box *b = new_doc_box(L);
  L_TRY(L, wick_yaml_parse_file(path, &b->doc));
  push_root(L, b->doc, keep_null);
  return 1;
}

/* ---- Lua -> node ---- */

typedef struct {
  lua_State *L;
  wick_yaml_doc *doc;
  int seen;       /* absolute index of a table of the tables being converted (cycles) */
  size_t nodes;
  char path[256]; /* dotted path of the value being converted, for messages */
} dumper;

static int dump_fail(dumper *d, const char *what) {
  if (d->path[0]) return l_errorf(d->L, "config: %s (at '%s')", what, d->path);
  return l_errorf(d->L, "config: %s", what);
}

static wick_yaml_node *checked(dumper *d, wick_yaml_node *n) {
  if (!n) l_errorf(d->L, "config: out of memory");
  if (++d->nodes > L_DUMP_MAX_NODES) dump_fail(d, "table expands to too many nodes (shared subtables?)");
  return n;
}

static void path_push(dumper *d, size_t *saved, lua_State *L, int key) {
  *saved = strlen(d->path);
  char part[64];
  if (lua_type(L, key) == LUA_TNUMBER) snprintf(part, sizeof part, "%lld", (long long)lua_tointeger(L, key));
  else snprintf(part, sizeof part, "%s", lua_tostring(L, key));
  size_t room = sizeof d->path - *saved - 1;
  snprintf(d->path + *saved, room + 1, "%s%s", *saved ? "." : "", part);
}

static wick_yaml_node *to_node(dumper *d, int idx, int depth);

/* Classifies the table at idx: 1 for a sequence (keys exactly 1..n, n > 0), 0 for a mapping. */
static int is_sequence(lua_State *L, int idx) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
  if (n == 0) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) { /* stack: key, value */
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
      lua_pop(L, 1);
      return 0;
    }
    count++;
  }
  return count == n;
}

static wick_yaml_node *table_node(dumper *d, int idx, int depth) {
  lua_State *L = d->L;
  if (depth >= WICK_YAML_MAX_DEPTH) {
    char what[64];
    snprintf(what, sizeof what, "nesting deeper than %d levels", WICK_YAML_MAX_DEPTH);
    dump_fail(d, what);
  }
  luaL_checkstack(L, 6, "config: nesting too deep");
  if (lua_rawgetp(L, d->seen, lua_topointer(L, idx)) != LUA_TNIL) dump_fail(d, "table contains itself (a cycle)");
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
  lua_rawsetp(L, d->seen, lua_topointer(L, idx));
  wick_yaml_node *n;
  if (is_sequence(L, idx)) {
    n = checked(d, wick_yaml_new_seq(d->doc));
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    for (lua_Integer i = 1; i <= len; i++) {
      size_t saved;
      lua_pushinteger(L, i);
      path_push(d, &saved, L, lua_gettop(L));
      lua_rawgeti(L, idx, i); /* stack: i, value */
      wick_yaml_node *item = to_node(d, lua_gettop(L), depth + 1);
      if (wick_yaml_seq_push(d->doc, n, item) != WICK_OK) l_raise_last(L); /* raises: never returns */
      lua_pop(L, 2);
      d->path[saved] = 0;
    }
  } else {
    n = checked(d, wick_yaml_new_map(d->doc));
    lua_pushnil(L);
    while (lua_next(L, idx)) { /* stack: key, value */
      int key = lua_gettop(L) - 1;
      wick_yaml_node *k;
      if (lua_isinteger(L, key)) {
        k = checked(d, wick_yaml_new_int(d->doc, (int64_t)lua_tointeger(L, key)));
      } else if (lua_type(L, key) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, key, &len);
        k = checked(d, wick_yaml_new_str(d->doc, s, len));
      } else {
        char what[96];
        snprintf(what, sizeof what, "table keys must be strings or integers, got a %s key",
                 luaL_typename(L, key));
        dump_fail(d, what);
        return NULL;
      }
      size_t saved;
      path_push(d, &saved, L, key);
      wick_yaml_node *v = to_node(d, key + 1, depth + 1);
      if (wick_yaml_map_add(d->doc, n, k, v) != WICK_OK) l_raise_last(L); /* raises: never returns */
      d->path[saved] = 0;
      lua_pop(L, 1);
    }
    if (wick_yaml_map_finish(n) != WICK_OK) l_raise_last(L); /* raises: never returns */
  }
  lua_pushnil(L);
  lua_rawsetp(L, d->seen, lua_topointer(L, idx));
  return n;
}

static wick_yaml_node *to_node(dumper *d, int idx, int depth) {
  lua_State *L = d->L;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return checked(d, wick_yaml_new_null(d->doc));
    case LUA_TBOOLEAN: return checked(d, wick_yaml_new_bool(d->doc, lua_toboolean(L, idx)));
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) return checked(d, wick_yaml_new_int(d->doc, (int64_t)lua_tointeger(L, idx)));
      return checked(d, wick_yaml_new_float(d->doc, (double)lua_tonumber(L, idx)));
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      return checked(d, wick_yaml_new_str(d->doc, s, len));
    }
    case LUA_TTABLE: return table_node(d, idx, depth);
    default:
      if (is_null(L, idx)) return checked(d, wick_yaml_new_null(d->doc));
      {
        char what[64];
        snprintf(what, sizeof what, "cannot dump a %s", luaL_typename(L, idx));
        dump_fail(d, what);
      }
      return NULL;
  }
}

/* core.config_dump(value) -> YAML text */
static int l_config_dump(lua_State *L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  doc_box *b = new_doc_box(L); /* stack: value, box */
  b->doc = wick_yaml_doc_new();
  if (!b->doc) return l_errorf(L, "config: out of memory");
  lua_newtable(L); /* stack: value, box, seen */
  dumper d = {L, b->doc, lua_gettop(L), 0, {0}};
  wick_yaml_node *root = to_node(&d, 1, 0);
  const char *text;
  size_t len;
  L_TRY(L, wick_yaml_emit(b->doc, root, &text, &len));
  lua_pushlstring(L, text, len);
  return 1;
}

static int null_tostring(lua_State *L) {
  lua_pushliteral(L, "null");
  return 1;
}

static const luaL_Reg config_fns[] = {
    {"config_loads", l_config_loads},
    {"config_load", l_config_load},
    {"config_dump", l_config_dump},
    {NULL, NULL},
};

void l_open_config(lua_State *L, int core, int methods) {
  (void)methods;
  luaL_newmetatable(L, L_DOC_MT);
  lua_pushcfunction(L, doc_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  /* wick.config.null: one userdata whose tostring is "null" (YAML null kept as a value) */
  lua_newuserdatauv(L, 0, 0);
  luaL_newmetatable(L, L_NULL_MT);
  lua_pushcfunction(L, null_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, L_NULL_MT ".value");
  lua_setfield(L, core, "config_null");
  l_setfuncs(L, core, config_fns);
}
