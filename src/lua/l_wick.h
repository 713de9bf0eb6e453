/* Entry point of the C half of the wick Lua module. */
#ifndef WICK_L_WICK_H
#define WICK_L_WICK_H

#include <lua.h>

/* Pushes the table of C functions that lua/wick/init.lua builds `wick` on. */
int luaopen_wick_core(lua_State *L);

#endif
