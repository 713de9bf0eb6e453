/* luaopen_wick_core: the C half of the `wick` module, assembled from every binding area. */
#include "l_wick.h"

#include <cblas.h>
#include <omp.h>
#include <time.h>

#include "cpu/iter.h"
#include "cpu/threads.h"
#include "core/determinism.h"
#include "cpu/conv_dnnl.h"
#include "cpu/vec.h"
#include "l_aux.h"

#ifndef WICK_VERSION
#define WICK_VERSION "0.0.0"
#endif
#ifndef WICK_BLAS_NAME
#define WICK_BLAS_NAME "BLAS"
#endif

static int l_build_info(lua_State *L) {
  lua_createtable(L, 0, 8);
  lua_pushliteral(L, WICK_VERSION); lua_setfield(L, -2, "version");
  lua_pushliteral(L, LUA_RELEASE); lua_setfield(L, -2, "lua");
  lua_pushliteral(L, WICK_BLAS_NAME); lua_setfield(L, -2, "blas");
  lua_pushstring(L, openblas_get_config()); lua_setfield(L, -2, "blas_config");
  lua_pushinteger(L, openblas_get_num_threads()); lua_setfield(L, -2, "blas_threads");
  lua_pushinteger(L, wick_num_threads()); lua_setfield(L, -2, "threads");
  lua_pushstring(L, wick_cpu_vec_get()->name); lua_setfield(L, -2, "cpu_isa");
  lua_createtable(L, wick_cpu_isa_count(), 0); /* the sets this CPU runs, widest first */
  for (int i = 0, k = 0; i < wick_cpu_isa_count(); i++) {
    int ok;
    const char *name = wick_cpu_isa_name(i, &ok);
    if (ok) { lua_pushstring(L, name); lua_rawseti(L, -2, ++k); }
  }
  lua_setfield(L, -2, "cpu_isas");
  const char *dnnl = wick_dnnl_version(); /* NULL: convolutions use im2col + BLAS */
  if (dnnl) { lua_pushstring(L, dnnl); lua_setfield(L, -2, "dnnl"); }
#ifdef WICK_HAVE_CUDA
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "cuda");
#ifdef WICK_HAVE_NCCL
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "nccl");
#ifdef WICK_HAVE_GLOO
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "gloo");
  return 1;
}

/* Seconds from a monotonic clock, like Python's time.perf_counter(). */
static int l_perf_counter(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
  return 1;
}

static int l_set_num_threads(lua_State *L) {
  L_TRY(L, wick_set_num_threads(luaL_checkinteger(L, 1)));
  return 0;
}

static int l_get_num_threads(lua_State *L) {
  lua_pushinteger(L, wick_num_threads());
  return 1;
}

/* use_deterministic_algorithms(on): PyTorch's switch (core/determinism.h) */
static int l_use_deterministic(lua_State *L) {
  luaL_checktype(L, 1, LUA_TBOOLEAN);
  wick_set_deterministic(lua_toboolean(L, 1));
  return 0;
}

static int l_deterministic_enabled(lua_State *L) {
  lua_pushboolean(L, wick_deterministic());
  return 1;
}

void l_open_info(lua_State *L, int core, int methods) {
  (void)methods;
  static const luaL_Reg fns[] = {
    {"build_info", l_build_info}, {"perf_counter", l_perf_counter},
    {"set_num_threads", l_set_num_threads}, {"get_num_threads", l_get_num_threads},
    {"use_deterministic_algorithms", l_use_deterministic},
    {"are_deterministic_algorithms_enabled", l_deterministic_enabled},
    {NULL, NULL},
  };
  l_setfuncs(L, core, fns);
}

int luaopen_wick_core(lua_State *L) {
  lua_newtable(L);
  int core = lua_gettop(L);
  luaL_newmetatable(L, L_TENSOR_MT);
  lua_pop(L, 1);
  l_register_tensor_mt(L);
  lua_newtable(L);
  int methods = lua_gettop(L);
  lua_pushvalue(L, methods);
  lua_setfield(L, core, "Tensor");
  l_open_tensor(L, core, methods);
  l_open_factory(L, core, methods);
  l_open_math(L, core, methods);
  l_open_reduce(L, core, methods);
  l_open_index(L, core, methods);
  l_open_random(L, core, methods);
  l_open_config(L, core, methods);
  l_open_info(L, core, methods);
  l_open_autograd(L, core, methods);
  l_open_nn(L, core, methods);
  l_open_optim(L, core, methods);
  l_open_data(L, core, methods);
  l_open_io(L, core, methods);
  l_open_torchload(L, core, methods);
  l_open_dist(L, core, methods);
  l_open_pg(L, core, methods);
  l_open_ddp(L, core, methods);
  l_open_tb(L, core, methods);
  l_open_cuda(L, core, methods);
  lua_settop(L, core);
  return 1;
}
