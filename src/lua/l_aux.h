/* Shared helpers of the Lua bindings: tensor boxes, argument checks, option tables. */
#ifndef WICK_L_AUX_H
#define WICK_L_AUX_H

#include <lauxlib.h>
#include <lua.h>

#include "core/ops.h"

#define L_TENSOR_MT "wick.Tensor"

/* Raises the current wick error as a Lua error when s != WICK_OK. */
#define L_TRY(L, expr)                                \
  do {                                                \
    if ((expr) != WICK_OK) return l_raise_last(L);    \
  } while (0)

/* Raises a Lua error with exactly this message (no "file:line:" prefix: the message names
 * the operation, and the traceback says where). */
int l_errorf(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Raises the current wick error message. */
int l_raise_last(lua_State *L);

typedef struct { wick_tensor *t; } l_tensor_box;

/* Pushes an empty tensor box (with metatable); fill box->t afterwards. Create it BEFORE
 * allocating so an error in between cannot leak. */
l_tensor_box *l_newbox(lua_State *L);
/* Pushes t, taking over the caller's reference. */
void l_pushtensor(lua_State *L, wick_tensor *t);
/* Runs `expr` (which sets a new reference into *out) into a pre-pushed box and returns 1. */
#define L_PUSH_NEW(L, out_var, expr)                       \
  do {                                                     \
    l_tensor_box *box_ = l_newbox(L);                      \
    wick_tensor *out_var = NULL;                           \
    L_TRY(L, (expr));                                      \
    box_->t = out_var;                                     \
    l_gc_pace(L);                                          \
    return 1;                                              \
  } while (0)

/* Called once the wick.Tensor metatable exists. */
void l_register_tensor_mt(lua_State *L);
wick_tensor *l_checktensor(lua_State *L, int idx);
wick_tensor *l_testtensor(lua_State *L, int idx); /* NULL when not a (live) tensor */
l_tensor_box *l_tobox(lua_State *L, int idx);     /* NULL when not a tensor box */

/* A 0-d tensor living inside a Lua-owned buffer: how numbers enter tensor ops without a
 * malloc. Never released; valid while the C function runs. */
typedef struct {
  wick_tensor t;
  wick_storage s;
  union { double f; int64_t i; uint8_t b; } v;
} l_scalar;
/* A tensor argument, or a number/boolean as a weak ("wrapped") 0-d tensor in *tmp. */
wick_tensor *l_checkoperand(lua_State *L, int idx, l_scalar *tmp);

/* Tensor memory is invisible to Lua's GC: turn fresh allocations into GC work. */
void l_gc_pace(lua_State *L);

/* Option tables: `idx` is a table or none/nil. l_checkoptions raises on a key not in
 * `allowed` (NULL-terminated), with wick.util.check_options's suggestion and wording. */
int l_isoptions(lua_State *L, int idx); /* a table with no [1]: an options table */
void l_checkoptions(lua_State *L, int idx, const char *op, const char *const *allowed);
wick_dtype l_optdtype(lua_State *L, int idx, const char *key, wick_dtype def);
wick_device l_optdevice(lua_State *L, int idx, const char *key, wick_device def);
/* A wick.Device (wick.device("cuda:0")) at idx: fills *out and returns 1; 0 otherwise. */
#define L_DEVICE_MT "wick.Device"
int l_testdevice(lua_State *L, int idx, wick_device *out);
int l_optbool(lua_State *L, int idx, const char *key, int def);
lua_Number l_optnumber(lua_State *L, int idx, const char *key, lua_Number def);
lua_Integer l_optinteger(lua_State *L, int idx, const char *key, lua_Integer def);
wick_dtype l_checkdtype(lua_State *L, int idx);

/* Sizes given as varargs (2, 3) or one table ({2, 3}) from `first` up to `last`. */
int l_checksizes(lua_State *L, int first, int last, const char *op, int64_t *sizes);
/* dims as one integer or a table of integers at idx; returns the count. */
int l_checkdims(lua_State *L, int idx, const char *op, int64_t *dims);
void l_pushsizes(lua_State *L, int n, const int64_t *sizes);

/* Area registration: each binding file adds its functions to the wick core table and its
 * methods to the Tensor method table (absolute stack indices). */
void l_open_tensor(lua_State *L, int core, int methods);
void l_open_factory(lua_State *L, int core, int methods);
void l_open_math(lua_State *L, int core, int methods);
void l_open_reduce(lua_State *L, int core, int methods);
void l_open_index(lua_State *L, int core, int methods);
void l_open_random(lua_State *L, int core, int methods);
/* A wick.Generator argument (l_random.c); l_optgenerator reads opts.generator, NULL if absent. */
wick_generator *l_checkgenerator(lua_State *L, int idx);
wick_generator *l_optgenerator(lua_State *L, int opts);
void l_open_config(lua_State *L, int core, int methods);
void l_open_info(lua_State *L, int core, int methods);
void l_open_autograd(lua_State *L, int core, int methods);
void l_open_nn(lua_State *L, int core, int methods);
void l_open_optim(lua_State *L, int core, int methods);
void l_open_data(lua_State *L, int core, int methods);
void l_open_io(lua_State *L, int core, int methods);
void l_open_torchload(lua_State *L, int core, int methods);
void l_open_dist(lua_State *L, int core, int methods);
void l_open_pg(lua_State *L, int core, int methods);
struct wick_store_client *l_dist_checkstore(lua_State *L, int idx);
/* The live group of a wick.dist.ProcessGroup (l_pg.c, Gloo builds only); raises naming op. */
struct wick_pg *l_checkpg(lua_State *L, int idx, const char *op);
void l_open_ddp(lua_State *L, int core, int methods);
void l_open_tb(lua_State *L, int core, int methods);
/* wick.device, the CUDA runtime (core._cuda), autocast, pin_memory (l_cuda.c). */
void l_open_cuda(lua_State *L, int core, int methods);

/* Creates the metatable `name` for a userdata type: methods behind __index (may be NULL),
 * `gc` as both __gc and __close (may be NULL), `tostring` as __tostring (may be NULL).
 * Leaves the stack as it was. */
void l_newtype(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc,
               lua_CFunction tostring);

/* Registers fns into the table at absolute index t. */
void l_setfuncs(lua_State *L, int t, const luaL_Reg *fns);

#endif
