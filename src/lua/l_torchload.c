/* Binding of wick.load_torch(path): a torch.save(state_dict) .pt/.pth file (src/io/pickle.h)
 * as a table name -> tensor, plus the names in the file's order. */
#include "io/pickle.h"
#include "l_aux.h"

#define L_TORCH_MT "wick.io.TorchEntries"

/* The loaded entries, owned by the GC so that a Lua error cannot leak them. */
typedef struct {
  wick_torch_entry *e;
  size_t n;
} torch_box;

static int torch_gc(lua_State *L) {
  torch_box *b = luaL_checkudata(L, 1, L_TORCH_MT);
  wick_torch_entries_free(b->e, b->n);
  b->e = NULL;
  b->n = 0;
  return 0;
}

/* wick.load_torch(path) -> {name = tensor, ...}, {name, name, ...} */
static int l_load_torch(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  torch_box *b = lua_newuserdatauv(L, sizeof *b, 0); /* 2 */
  b->e = NULL;
  b->n = 0;
  luaL_setmetatable(L, L_TORCH_MT);
  L_TRY(L, wick_torch_load(path, &b->e, &b->n));
  int n = b->n > 1000000 ? 1000000 : (int)b->n;
  lua_createtable(L, 0, n); /* 3 */
  lua_createtable(L, n, 0); /* 4 */
  for (size_t i = 0; i < b->n; i++) {
    lua_pushstring(L, b->e[i].name);
    lua_pushvalue(L, -1);
    lua_rawseti(L, 4, (lua_Integer)i + 1);
    l_pushtensor(L, b->e[i].tensor); /* stack: ..., tensors, names, name, tensor (the box's reference) */
    b->e[i].tensor = NULL;
    lua_rawset(L, 3);
  }
  wick_torch_entries_free(b->e, b->n);
  b->e = NULL;
  b->n = 0;
  l_gc_pace(L);
  return 2;
}

void l_open_torchload(lua_State *L, int core, int methods) {
  (void)methods;
  if (luaL_newmetatable(L, L_TORCH_MT)) {
    lua_pushcfunction(L, torch_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {{"load_torch", l_load_torch}, {NULL, NULL}};
  l_setfuncs(L, core, fns);
}
