/* The REPL: reads statements, continues incomplete ones, prints values. */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "host.h"

void wick_repl(lua_State *L) {
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    int status = luaL_loadbuffer(L, line, strlen(line), "=stdin");
    if (status == LUA_OK) status = wick_host_docall(L, 0, 0);
    wick_host_report(L, status);
  }
}
