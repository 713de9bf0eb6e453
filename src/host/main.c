/* main(): command line, Lua state with `wick` preloaded, scripts, and the subcommands of
 * lua/wick/commands.lua (`wick run`, `wick info`, ...). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "core/alloc.h"
#include "cpu/vec.h"
#include "lua/l_wick.h"

static const char *progname = "wick";

/* ---- Ctrl-C: a hook raises "interrupted!" at the next Lua instruction (as lua.c does) ---- */

static lua_State *global_L;

static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

static void laction(int i) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  signal(i, SIG_DFL); /* a second Ctrl-C kills the process */
  lua_sethook(global_L, lstop, flag, 1);
}

static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  /* a container (wick.util.call_in) rethrew this error with context: show the traceback of
   * where it was raised, which its message handler kept */
  if (lua_getfield(L, LUA_REGISTRYINDEX, "wick.error_traceback") == LUA_TTABLE) {
    lua_getfield(L, -1, "msg");
    lua_getfield(L, -2, "traceback");
    int kept = lua_rawequal(L, -2, 1) && lua_type(L, -1) == LUA_TSTRING;
    if (kept) {
      lua_pushfstring(L, "%s\n%s", msg, lua_tostring(L, -1));
      lua_pushnil(L);
      lua_setfield(L, LUA_REGISTRYINDEX, "wick.error_traceback");
      return 1;
    }
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int wick_host_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  global_L = L;
  void (*old)(int) = signal(SIGINT, laction);
  int status = lua_pcall(L, narg, nres, base);
  signal(SIGINT, old == SIG_ERR ? SIG_DFL : old);
  lua_remove(L, base);
  return status;
}

void wick_host_report(lua_State *L, int status) {
  if (status == LUA_OK) return;
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(error object is not a string)");
  fflush(stderr);
  lua_pop(L, 1);
}

/* ---- finding lua/wick ---- */

static int file_exists(const char *p) { return access(p, R_OK) == 0; }

static void find_lua_dir(char *out, size_t n) {
  const char *env = getenv("WICK_LUA_DIR");
  char probe[PATH_MAX + 64];
  if (env && *env) { snprintf(out, n, "%s", env); return; }
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len > 0) {
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = 0;
      int k = snprintf(probe, sizeof probe, "%s/%s/wick/init.lua", exe, WICK_INSTALL_LUA_REL);
      if (k > 0 && (size_t)k < sizeof probe && file_exists(probe)) { snprintf(out, n, "%s/%s", exe, WICK_INSTALL_LUA_REL); return; }
    }
  }
  snprintf(out, n, "%s", WICK_SOURCE_LUA_DIR);
}

/* Opens the standard libraries and points package.path at lua/wick (dir gets its path). */
static void open_libs(lua_State *L, char *dir, size_t n) {
  luaL_openlibs(L);
  find_lua_dir(dir, n);
  /* stack: package */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);
}

/* ---- subcommands: the rows of lua/wick/commands.lua ---- */

/* Pushes the commands table; on failure reports the error and pushes nothing. */
static int push_commands(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "wick.commands");
  int status = wick_host_docall(L, 1, 1);
  if (status != LUA_OK) { wick_host_report(L, status); return 0; }
  return 1;
}

/* Is `name` a subcommand? */
static int is_command(lua_State *L, const char *name) {
  if (!push_commands(L)) return 0;
  int found = 0;
  for (lua_Integer i = 1; !found && lua_rawgeti(L, -1, i) == LUA_TTABLE; i++) {
    /* stack: commands, row */
    lua_getfield(L, -1, "name");
    const char *n = lua_tostring(L, -1);
    found = n && strcmp(n, name) == 0;
    lua_pop(L, 2);
  }
  lua_pop(L, found ? 1 : 2); /* the table, and the nil that ended the loop */
  return found;
}

/* Prints the commands' synopsis lines (what = "args") or one help line each (what = "help"). */
static void print_commands(FILE *f, lua_State *L, const char *what) {
  for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TTABLE; i++) {
    lua_getfield(L, -1, "name");
    lua_getfield(L, -2, what);
    const char *n = lua_tostring(L, -2), *v = lua_tostring(L, -1);
    if (strcmp(what, "args") == 0) fprintf(f, "       wick %s%s%s\n", n ? n : "?", v && *v ? " " : "", v ? v : "");
    else fprintf(f, "  %-9s %s\n", n ? n : "?", v ? v : "");
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
}

/* The help: the subcommands come from lua/wick/commands.lua, read in a state of their own so
 * that usage errors need no loaded library. */
static void usage(FILE *f) {
  lua_State *L = luaL_newstate();
  char dir[PATH_MAX];
  if (L) open_libs(L, dir, sizeof dir);
  int have = L && push_commands(L);
  fprintf(f, "usage: wick [options] [script [args]]\n");
  if (have) print_commands(f, L, "args");
  if (have) {
    fprintf(f, "\ncommands (wick COMMAND --help tells more):\n");
    print_commands(f, L, "help");
  }
  fprintf(f,
          "\n"
          "options:\n"
          "  -e CODE        run CODE\n"
          "  -i             enter the REPL after running the script or -e code\n"
          "  -v, --version  print the version\n"
          "  -h, --help     print this help\n"
          "  -              read the script from standard input\n"
          "\n"
          "With no script, wick starts the REPL (or reads statements from standard input when it\n"
          "is not a terminal).\n");
  if (have) lua_pop(L, 1);
  if (L) lua_close(L);
}

static int setup_state(lua_State *L) {
  char dir[PATH_MAX];
  open_libs(L, dir, sizeof dir);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_wick_core);
  lua_setfield(L, -2, "wick.core");
  lua_pop(L, 2);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "wick");
  int status = wick_host_docall(L, 1, 1);
  if (status != LUA_OK) {
    wick_host_report(L, status);
    fprintf(stderr, "wick: could not load the Lua library from %s (set WICK_LUA_DIR?)\n", dir);
    return 0;
  }
  lua_setglobal(L, "wick");
  return 1;
}

/* Sets the global `arg` like lua.c: arg[0] = script, arg[1..] = its arguments. */
static void create_arg(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int run_chunk_status(lua_State *L, int status) {
  if (status == LUA_OK) status = wick_host_docall(L, 0, 0);
  wick_host_report(L, status);
  return status == LUA_OK;
}

/* Subcommands are Lua policy: wick.cli.main(command, args...), with the command argv[first],
 * or `command` before argv[first..] when it is not NULL. */
static int run_cli(lua_State *L, const char *command, char **argv, int argc, int first) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "wick.cli");
  int status = wick_host_docall(L, 1, 1);
  if (status != LUA_OK) { wick_host_report(L, status); return 0; }
  lua_getfield(L, -1, "main");
  lua_remove(L, -2);
  luaL_checkstack(L, argc - first + 3, "too many arguments");
  if (command) lua_pushstring(L, command);
  for (int i = first; i < argc; i++) lua_pushstring(L, argv[i]);
  status = wick_host_docall(L, argc - first + (command != NULL), 1);
  if (status != LUA_OK) { wick_host_report(L, status); return 0; }
  int ok = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) == 0 : lua_toboolean(L, -1) || lua_isnil(L, -1);
  lua_pop(L, 1);
  return ok;
}

/* A script that returns wick.recipe{...} (the README's first example, `wick recipes/hello.lua`)
 * runs as `wick run FILE ARGS...` would: config resolved, run directory, result recorded. */
static int is_recipe(lua_State *L) {
  /* stack: value */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "wick.recipe");
  if (wick_host_docall(L, 1, 1) != LUA_OK) { lua_pop(L, 1); return 0; }
  lua_getfield(L, -1, "is_recipe");
  lua_pushvalue(L, -3);
  int yes = wick_host_docall(L, 1, 1) == LUA_OK && lua_toboolean(L, -1);
  lua_pop(L, 2);
  return yes;
}

static int run_script(lua_State *L, char **argv, int argc, int script) {
  const char *fname = strcmp(argv[script], "-") == 0 ? NULL : argv[script];
  int status = luaL_loadfile(L, fname);
  if (status != LUA_OK) { wick_host_report(L, status); return 0; }
  int nargs = argc - script - 1;
  luaL_checkstack(L, nargs + 3, "too many arguments to script");
  for (int i = script + 1; i < argc; i++) lua_pushstring(L, argv[i]);
  status = wick_host_docall(L, nargs, 1);
  if (status != LUA_OK) { wick_host_report(L, status); return 0; }
  int recipe = fname && is_recipe(L);
  lua_pop(L, 1);
  return recipe ? run_cli(L, "run", argv, argc, script) : 1;
}

/* With WICK_CHECK_LEAKS=1 (the test suite sets it), every tensor must be gone once the Lua
 * state is closed: a survivor means a binding leaked a reference. */
static int check_leaks(int ok) {
  const char *flag = getenv("WICK_CHECK_LEAKS");
  if (!flag || strcmp(flag, "1") != 0) return ok;
  int64_t n = wick_tensor_live_count();
  if (n != 0) {
    fprintf(stderr, "wick: %lld tensor(s) still alive after the Lua state was closed (leak)\n", (long long)n);
    return 0;
  }
  return ok;
}

/* Tensors of a training step are freed and allocated again at the same sizes every step.
 * glibc would hand large blocks back to the kernel each time (mmap/munmap, heap trimming) and
 * take page faults on every reuse; keeping them in the heap makes the steady state fault-free. */
static void tune_malloc(void) {
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1024 << 20);
}

/* OpenBLAS runs its own threads next to OpenMP's; OpenMP threads that spin-wait between
 * parallel regions (libgomp's default) take the cores OpenBLAS needs, which halved training
 * speed on 2 cores. libgomp reads OMP_WAIT_POLICY only when it is loaded, before main(), so
 * when the user has not chosen a policy, wick sets "passive" and re-executes itself once. */
static void choose_omp_wait_policy(char **argv) {
  if (getenv("OMP_WAIT_POLICY")) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0) return;
  execv("/proc/self/exe", argv); /* returns only on failure: then run with the default */
}

int main(int argc, char **argv) {
  choose_omp_wait_policy(argv);
  tune_malloc();
  int script = 0, interactive = 0, has_e = 0, i;
  /* first pass: validate options so that errors come before any work */
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "-") == 0) { script = i; break; }
    if (strcmp(a, "--") == 0) { if (i + 1 < argc) script = i + 1; break; }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return 0; }
    if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
      printf("wick %s (%s)\n", WICK_VERSION, LUA_RELEASE);
      return 0;
    }
    if (strcmp(a, "-i") == 0) { interactive = 1; continue; }
    if (strcmp(a, "-e") == 0) {
      if (++i >= argc) { fprintf(stderr, "wick: '-e' needs an argument\n"); usage(stderr); return 1; }
      has_e = 1;
      continue;
    }
    fprintf(stderr, "wick: unrecognized option '%s'\n", a);
    usage(stderr);
    return 1;
  }
  /* the CPU kernels' instruction set, once (WICK_CPU_ISA may force one) */
  if (wick_cpu_isa_select() != WICK_OK) { fprintf(stderr, "wick: %s\n", wick_last_error()); return 1; }
  lua_State *L = luaL_newstate();
  if (!L) { fprintf(stderr, "wick: cannot create the Lua state: not enough memory\n"); return 1; }
  int ok = setup_state(L);
  if (ok && script && is_command(L, argv[script])) {
    create_arg(L, argv, argc, script);
    ok = run_cli(L, NULL, argv, argc, script);
    lua_close(L);
    return check_leaks(ok) ? 0 : 1;
  }
  if (ok) create_arg(L, argv, argc, script);
  for (i = 1; ok && i < argc && (!script || i < script); i++) {
    if (strcmp(argv[i], "-e") == 0) {
      const char *code = argv[++i];
      ok = run_chunk_status(L, luaL_loadbuffer(L, code, strlen(code), "=(command line)"));
    }
  }
  if (ok && script) ok = run_script(L, argv, argc, script);
  if (ok && (interactive || (!script && !has_e))) {
    int failures = wick_repl(L);
    if (failures && !isatty(STDIN_FILENO)) ok = 0;
  }
  lua_close(L);
  return check_leaks(ok) ? 0 : 1;
}
