/* The wick program: state setup, protected calls with tracebacks, the REPL. */
#ifndef WICK_HOST_H
#define WICK_HOST_H

#include <lua.h>

/* Runs the function on top of the stack (with narg args below it... as lua_pcall) under a
 * traceback handler with Ctrl-C turned into a Lua error. Returns the lua_pcall status. */
int wick_host_docall(lua_State *L, int narg, int nres);
/* Prints the error message on top of the stack to stderr and pops it. */
void wick_host_report(lua_State *L, int status);
/* The interactive loop (libedit on a terminal, plain lines otherwise). Returns how many
 * statements failed: piped input that hit errors makes wick exit non-zero. */
int wick_repl(lua_State *L);

#endif
