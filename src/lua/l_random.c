/* Bindings for random numbers: wick.Generator objects, seeding and state, the random factories
 * (rand, randn, randint, randperm, normal, bernoulli, *_like) and in-place fills. */
#include <string.h>

#include "core/rng.h"
#include "l_aux.h"

#define L_GENERATOR_MT "wick.Generator"

typedef struct { wick_generator *g; } l_generator_box;

/* ---- wick.Generator ---- */

wick_generator *l_checkgenerator(lua_State *L, int idx) {
  l_generator_box *box = luaL_checkudata(L, idx, L_GENERATOR_MT);
  if (!box->g) l_errorf(L, "attempt to use a released generator");
  return box->g;
}

wick_generator *l_optgenerator(lua_State *L, int opts) {
  if (opts <= 0 || lua_type(L, opts) != LUA_TTABLE) return NULL;
  if (lua_getfield(L, opts, "generator") == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  l_generator_box *box = luaL_testudata(L, -1, L_GENERATOR_MT);
  if (!box) l_errorf(L, "option 'generator' must be a wick.Generator (got %s)", luaL_typename(L, -1));
  if (!box->g) l_errorf(L, "attempt to use a released generator");
  lua_pop(L, 1); /* the options table keeps it alive */
  return box->g;
}

static l_generator_box *new_generator_box(lua_State *L) {
  l_generator_box *box = lua_newuserdatauv(L, sizeof *box, 0);
  box->g = NULL;
  luaL_setmetatable(L, L_GENERATOR_MT);
  return box;
}

static int l_generator_new(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) {
    wick_device dev;
    if (lua_type(L, 1) == LUA_TSTRING) {
      L_TRY(L, wick_device_parse(lua_tostring(L, 1), &dev));
    } else {
      static const char *const opts[] = {"device", NULL};
      l_checkoptions(L, 1, "Generator", opts);
      dev = l_optdevice(L, 1, "device", wick_cpu());
    }
    if (dev.type != WICK_DEVICE_CPU) {
      char buf[32];
      wick_device_format(dev, buf, sizeof buf);
      return l_errorf(L, "Generator: only CPU generators are supported (got %s)", buf);
    }
  }
  l_generator_box *box = new_generator_box(L);
  box->g = wick_generator_new();
  if (!box->g) return l_errorf(L, "Generator: out of memory");
  return 1;
}

static int l_generator_gc(lua_State *L) {
  l_generator_box *box = luaL_checkudata(L, 1, L_GENERATOR_MT);
  if (box->g != wick_default_generator()) {
    wick_generator_release(box->g);
    box->g = NULL;
  }
  return 0;
}

/* Seeds are any Lua integer: negative ones wrap to 2^64 + s, as torch.manual_seed does. */
static uint64_t check_seed(lua_State *L, int idx, const char *op) {
  int isint;
  lua_Integer s = lua_tointegerx(L, idx, &isint);
  if (!isint) {
    if (lua_type(L, idx) == LUA_TNUMBER)
      l_errorf(L, "%s: seed must be an integer (got %s)", op, lua_tostring(L, idx));
    l_errorf(L, "%s: seed must be an integer (got %s)", op, luaL_typename(L, idx));
  }
  return (uint64_t)s;
}

static int l_generator_manual_seed(lua_State *L) {
  wick_generator *g = l_checkgenerator(L, 1);
  uint64_t s = check_seed(L, 2, "manual_seed");
  pthread_mutex_lock(&g->lock);
  wick_generator_manual_seed(g, s);
  pthread_mutex_unlock(&g->lock);
  lua_settop(L, 1);
  return 1;
}

/* 64-bit seeds come back as Lua integers with the same bits (2^64 - 1 reads -1). */
static int l_generator_initial_seed(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)wick_generator_initial_seed(l_checkgenerator(L, 1)));
  return 1;
}

static int l_generator_seed(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)wick_generator_seed(l_checkgenerator(L, 1)));
  return 1;
}

static int push_state(lua_State *L, wick_generator *g) {
  int64_t n = WICK_GENERATOR_STATE_SIZE;
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(WICK_DTYPE_U8, wick_cpu(), 1, &n, &box->t));
  wick_generator_get_state(g, wick_tensor_data(box->t));
  return 1;
}

static int set_state(lua_State *L, wick_generator *g, int idx) {
  wick_tensor *t = l_checktensor(L, idx);
  if (t->dtype != WICK_DTYPE_U8)
    return l_errorf(L, "set_state: expected a u8 tensor, got %s", wick_dtype_name(t->dtype));
  wick_tensor *c;
  L_TRY(L, wick_to(t, WICK_DTYPE_U8, wick_cpu(), false, &c));
  l_pushtensor(L, c); /* owned by Lua from here */
  wick_tensor *cc;
  L_TRY(L, wick_contiguous(c, &cc));
  l_pushtensor(L, cc);
  L_TRY(L, wick_generator_set_state(g, wick_tensor_data(cc), (size_t)wick_tensor_numel(cc)));
  return 0;
}

static int l_generator_get_state(lua_State *L) { return push_state(L, l_checkgenerator(L, 1)); }

static int l_generator_set_state(lua_State *L) {
  set_state(L, l_checkgenerator(L, 1), 2);
  lua_settop(L, 1);
  return 1;
}

static int l_generator_tostring(lua_State *L) {
  l_generator_box *box = luaL_checkudata(L, 1, L_GENERATOR_MT);
  if (!box->g) lua_pushliteral(L, "wick.Generator (released)");
  else lua_pushfstring(L, "wick.Generator(initial_seed=%I)", (lua_Integer)wick_generator_initial_seed(box->g));
  return 1;
}

static int l_generator_index(lua_State *L) {
  l_checkgenerator(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "device") == 0) {
    lua_pushliteral(L, "cpu");
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static const luaL_Reg generator_methods[] = {
  {"manual_seed", l_generator_manual_seed}, {"initial_seed", l_generator_initial_seed},
  {"seed", l_generator_seed}, {"get_state", l_generator_get_state},
  {"set_state", l_generator_set_state}, {NULL, NULL},
};

/* ---- the default generator ---- */

static int l_manual_seed(lua_State *L) {
  uint64_t s = check_seed(L, 1, "manual_seed");
  wick_generator *g = wick_default_generator();
  pthread_mutex_lock(&g->lock);
  wick_generator_manual_seed(g, s);
  pthread_mutex_unlock(&g->lock);
  lua_getfield(L, lua_upvalueindex(1), "default_generator");
  return 1;
}

static int l_initial_seed(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)wick_generator_initial_seed(wick_default_generator()));
  return 1;
}

static int l_seed(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)wick_generator_seed(wick_default_generator()));
  return 1;
}

static int l_get_rng_state(lua_State *L) { return push_state(L, wick_default_generator()); }

static int l_set_rng_state(lua_State *L) {
  return set_state(L, wick_default_generator(), 1);
}

/* ---- factories ---- */

static const char *const factory_opts[] = {"dtype", "device", "generator", "requires_grad", "pin_memory", NULL};

/* requires_grad = true: through the Tensor method, so autograd stays its own business */
static void apply_requires_grad(lua_State *L, int opts) {
  if (opts <= 0 || !l_optbool(L, opts, "requires_grad", 0)) return;
  /* stack: ... t */
  lua_getfield(L, -1, "requires_grad_");
  if (lua_isnil(L, -1)) l_errorf(L, "requires_grad is not available in this build");
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_call(L, 2, 0);
}

static int trailing_opts(lua_State *L, int first, const char *op) {
  int top = lua_gettop(L);
  if (top >= first && l_isoptions(L, top)) {
    l_checkoptions(L, top, op, factory_opts);
    return top;
  }
  return 0;
}

static wick_dtype float_dtype_opt(lua_State *L, int opts, const char *op, wick_dtype def) {
  wick_dtype dt = l_optdtype(L, opts, "dtype", def);
  if (!wick_dtype_is_float(dt))
    l_errorf(L, "%s: dtype must be a floating point type (got %s)", op, wick_dtype_name(dt));
  return dt;
}

/* rand / randn (sizes..., {dtype, device, generator, requires_grad}) */
static int rand_common(lua_State *L, const char *op, int normal) {
  int opts = trailing_opts(L, 1, op);
  int64_t sizes[WICK_MAX_DIMS];
  int nd = l_checksizes(L, 1, opts ? opts - 1 : lua_gettop(L), op, sizes);
  wick_dtype dt = float_dtype_opt(L, opts, op, WICK_DTYPE_F32);
  wick_device dev = l_optdevice(L, opts, "device", wick_cpu());
  wick_generator *g = l_optgenerator(L, opts);
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(dt, dev, nd, sizes, &box->t));
  L_TRY(L, normal ? wick_normal_(box->t, 0, 1, g) : wick_uniform_(box->t, 0, 1, g));
  apply_requires_grad(L, opts);
  l_gc_pace(L);
  return 1;
}
static int l_rand(lua_State *L) { return rand_common(L, "rand", 0); }
static int l_randn(lua_State *L) { return rand_common(L, "randn", 1); }

static int64_t check_int(lua_State *L, int idx, const char *op, const char *what) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint) l_errorf(L, "%s: %s must be an integer (got %s)", op, what, luaL_typename(L, idx));
  return (int64_t)v;
}

/* fills t with integers in [low, high); errors read "<op>: random_ expects ..." */
static void fill_ints(lua_State *L, const char *op, wick_tensor *t, int64_t low, int64_t high,
                      wick_generator *g) {
  if (wick_random_(t, low, true, high, g) != WICK_OK) {
    wick_error_prefix(op);
    l_raise_last(L);
  }
}

/* randint(high, size) / randint(low, high, size), then {dtype, device, generator, requires_grad} */
static int l_randint(lua_State *L) {
  int opts = trailing_opts(L, 1, "randint");
  int n = opts ? opts - 1 : lua_gettop(L);
  if (n != 2 && n != 3) return l_errorf(L, "randint: expected (high, size) or (low, high, size)");
  if (lua_type(L, n) != LUA_TTABLE)
    return l_errorf(L, "randint: size must be a table of integers (got %s)", luaL_typename(L, n));
  int64_t low = n == 3 ? check_int(L, 1, "randint", "low") : 0;
  int64_t high = check_int(L, n - 1, "randint", "high");
  int64_t sizes[WICK_MAX_DIMS];
  int nd = l_checksizes(L, n, n, "randint", sizes);
  wick_dtype dt = l_optdtype(L, opts, "dtype", WICK_DTYPE_I64);
  wick_device dev = l_optdevice(L, opts, "device", wick_cpu());
  wick_generator *g = l_optgenerator(L, opts);
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(dt, dev, nd, sizes, &box->t));
  fill_ints(L, "randint", box->t, low, high, g);
  apply_requires_grad(L, opts);
  l_gc_pace(L);
  return 1;
}

static int l_randperm(lua_State *L) {
  int64_t n = check_int(L, 1, "randperm", "n");
  int opts = lua_gettop(L) >= 2 ? 2 : 0;
  if (opts) l_checkoptions(L, opts, "randperm", factory_opts);
  wick_dtype dt = l_optdtype(L, opts, "dtype", WICK_DTYPE_I64);
  wick_device dev = l_optdevice(L, opts, "device", wick_cpu());
  wick_generator *g = l_optgenerator(L, opts);
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_randperm_tensor(n, dt, dev, g, &box->t));
  apply_requires_grad(L, opts);
  l_gc_pace(L);
  return 1;
}

/* normal(mean, std, size, opts) with numbers, or normal(mean, std, opts) with a tensor in either */
static int l_normal(lua_State *L) {
  int opts = trailing_opts(L, 1, "normal");
  int n = opts ? opts - 1 : lua_gettop(L);
  wick_generator *g = l_optgenerator(L, opts);
  if (l_testtensor(L, 1) || l_testtensor(L, 2)) {
    if (n != 2) return l_errorf(L, "normal: a size cannot be given with tensor mean or std");
    l_scalar ms, ss;
    wick_tensor *mean = l_checkoperand(L, 1, &ms), *std = l_checkoperand(L, 2, &ss);
    L_PUSH_NEW(L, o, wick_normal_tensor(mean, std, g, &o));
  }
  if (n != 3 || lua_type(L, 3) != LUA_TTABLE)
    return l_errorf(L, "normal: expected (mean, std, size) with numbers, or tensors for mean or std");
  double mean = luaL_checknumber(L, 1), std = luaL_checknumber(L, 2);
  int64_t sizes[WICK_MAX_DIMS];
  int nd = l_checksizes(L, 3, 3, "normal", sizes);
  wick_dtype dt = float_dtype_opt(L, opts, "normal", WICK_DTYPE_F32);
  wick_device dev = l_optdevice(L, opts, "device", wick_cpu());
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(dt, dev, nd, sizes, &box->t));
  L_TRY(L, wick_normal_(box->t, mean, std, g));
  apply_requires_grad(L, opts);
  l_gc_pace(L);
  return 1;
}

/* bernoulli(probs, opts) draws each element with its probability; bernoulli(t, p, opts) with one p */
static int l_bernoulli(lua_State *L) {
  wick_tensor *p = l_checktensor(L, 1);
  int opts = trailing_opts(L, 2, "bernoulli");
  wick_generator *g = l_optgenerator(L, opts);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    double pv = lua_tonumber(L, 2);
    l_tensor_box *box = l_newbox(L);
    L_TRY(L, wick_tensor_new_like(p, &box->t));
    L_TRY(L, wick_bernoulli_(box->t, pv, g));
    l_gc_pace(L);
    return 1;
  }
  L_PUSH_NEW(L, o, wick_bernoulli(p, g, &o));
}

/* multinomial(probs, n, [replacement], {replacement, generator}) */
static int l_multinomial(lua_State *L) {
  static const char *const opts_allowed[] = {"replacement", "generator", NULL};
  wick_tensor *p = l_checktensor(L, 1);
  int64_t n = check_int(L, 2, "multinomial", "num_samples");
  int opts = 0, replacement = 0;
  if (lua_isboolean(L, 3)) {
    replacement = lua_toboolean(L, 3);
    opts = lua_isnoneornil(L, 4) ? 0 : 4;
  } else if (!lua_isnoneornil(L, 3)) {
    opts = 3;
  }
  if (opts) {
    l_checkoptions(L, opts, "multinomial", opts_allowed);
    replacement = l_optbool(L, opts, "replacement", replacement);
  }
  L_PUSH_NEW(L, o, wick_multinomial(p, n, replacement, l_optgenerator(L, opts), &o));
}

/* rand_like / randn_like (t, opts) */
static int like_common(lua_State *L, const char *op, int normal) {
  wick_tensor *t = l_checktensor(L, 1);
  l_checkoptions(L, 2, op, factory_opts);
  wick_dtype dt = float_dtype_opt(L, 2, op, t->dtype);
  wick_device dev = l_optdevice(L, 2, "device", t->device);
  wick_generator *g = l_optgenerator(L, 2);
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(dt, dev, t->ndim, t->sizes, &box->t));
  L_TRY(L, normal ? wick_normal_(box->t, 0, 1, g) : wick_uniform_(box->t, 0, 1, g));
  apply_requires_grad(L, 2);
  l_gc_pace(L);
  return 1;
}
static int l_rand_like(lua_State *L) { return like_common(L, "rand_like", 0); }
static int l_randn_like(lua_State *L) { return like_common(L, "randn_like", 1); }

/* randint_like(t, high, opts) / randint_like(t, low, high, opts) */
static int l_randint_like(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int opts = trailing_opts(L, 2, "randint_like");
  int n = opts ? opts - 1 : lua_gettop(L);
  if (n != 2 && n != 3) return l_errorf(L, "randint_like: expected (t, high) or (t, low, high)");
  int64_t low = n == 3 ? check_int(L, 2, "randint_like", "low") : 0;
  int64_t high = check_int(L, n, "randint_like", "high");
  wick_dtype dt = l_optdtype(L, opts, "dtype", t->dtype);
  wick_device dev = l_optdevice(L, opts, "device", t->device);
  wick_generator *g = l_optgenerator(L, opts);
  l_tensor_box *box = l_newbox(L);
  L_TRY(L, wick_tensor_new(dt, dev, t->ndim, t->sizes, &box->t));
  fill_ints(L, "randint_like", box->t, low, high, g);
  l_gc_pace(L);
  return 1;
}

/* ---- in-place methods: numbers first, then {generator} ---- */

static const char *const fill_opts[] = {"generator", NULL};

/* Returns the options index (or 0) and the count of positional numbers after self. */
static int method_args(lua_State *L, const char *op, int *npos) {
  int top = lua_gettop(L), opts = 0;
  if (top >= 2 && l_isoptions(L, top)) {
    opts = top;
    l_checkoptions(L, opts, op, fill_opts);
  }
  *npos = (opts ? opts : top + 1) - 2;
  return opts;
}

/* uniform_(from = 0, to = 1) / normal_(mean = 0, std = 1) */
static int fill_common(lua_State *L, const char *op, int normal) {
  wick_tensor *t = l_checktensor(L, 1);
  int n, opts = method_args(L, op, &n);
  double a = n >= 1 ? luaL_checknumber(L, 2) : 0.0, b = n >= 2 ? luaL_checknumber(L, 3) : 1.0;
  wick_generator *g = l_optgenerator(L, opts);
  L_TRY(L, normal ? wick_normal_(t, a, b, g) : wick_uniform_(t, a, b, g));
  lua_settop(L, 1);
  return 1;
}
static int l_uniform_(lua_State *L) { return fill_common(L, "uniform_", 0); }
static int l_normal_(lua_State *L) { return fill_common(L, "normal_", 1); }

static int l_bernoulli_(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int n, opts = method_args(L, "bernoulli_", &n);
  wick_generator *g = l_optgenerator(L, opts);
  wick_tensor *p = n >= 1 ? l_testtensor(L, 2) : NULL;
  if (p) L_TRY(L, wick_bernoulli_tensor_(t, p, g));
  else L_TRY(L, wick_bernoulli_(t, n >= 1 ? luaL_checknumber(L, 2) : 0.5, g));
  lua_settop(L, 1);
  return 1;
}

/* random_() / random_(to) / random_(from, to), as Tensor.random_ */
static int l_random_(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int n, opts = method_args(L, "random_", &n);
  wick_generator *g = l_optgenerator(L, opts);
  if (n == 0) L_TRY(L, wick_random_(t, 0, false, 0, g));
  else if (n == 1) L_TRY(L, wick_random_(t, 0, true, check_int(L, 2, "random_", "to"), g));
  else L_TRY(L, wick_random_(t, check_int(L, 2, "random_", "from"), true, check_int(L, 3, "random_", "to"), g));
  lua_settop(L, 1);
  return 1;
}

static int l_exponential_(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int n, opts = method_args(L, "exponential_", &n);
  L_TRY(L, wick_exponential_(t, n >= 1 ? luaL_checknumber(L, 2) : 1.0, l_optgenerator(L, opts)));
  lua_settop(L, 1);
  return 1;
}

static const luaL_Reg random_methods[] = {
  {"uniform_", l_uniform_}, {"normal_", l_normal_}, {"bernoulli_", l_bernoulli_},
  {"random_", l_random_}, {"exponential_", l_exponential_}, {"bernoulli", l_bernoulli},
  {"multinomial", l_multinomial},
  {NULL, NULL},
};

static const luaL_Reg random_functions[] = {
  {"Generator", l_generator_new}, {"initial_seed", l_initial_seed}, {"seed", l_seed},
  {"get_rng_state", l_get_rng_state}, {"set_rng_state", l_set_rng_state},
  {"rand", l_rand}, {"randn", l_randn}, {"randint", l_randint}, {"randperm", l_randperm},
  {"normal", l_normal}, {"bernoulli", l_bernoulli}, {"rand_like", l_rand_like},
  {"randn_like", l_randn_like}, {"randint_like", l_randint_like}, {"multinomial", l_multinomial},
  {NULL, NULL},
};

void l_open_random(lua_State *L, int core, int methods) {
  /* the Generator metatable: methods behind __index, with a `device` field */
  luaL_newmetatable(L, L_GENERATOR_MT);
  int meta = lua_gettop(L);
  lua_newtable(L);
  l_setfuncs(L, lua_gettop(L), generator_methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, core, "_generator_methods");
  lua_pushcclosure(L, l_generator_index, 1);
  lua_setfield(L, meta, "__index");
  lua_pushcfunction(L, l_generator_gc);
  lua_setfield(L, meta, "__gc");
  lua_pushcfunction(L, l_generator_gc);
  lua_setfield(L, meta, "__close");
  lua_pushcfunction(L, l_generator_tostring);
  lua_setfield(L, meta, "__tostring");
  lua_settop(L, meta - 1);

  l_generator_box *box = new_generator_box(L);
  box->g = wick_default_generator();
  lua_setfield(L, core, "default_generator");
  lua_pushvalue(L, core);
  lua_pushcclosure(L, l_manual_seed, 1);
  lua_setfield(L, core, "manual_seed");
  l_setfuncs(L, core, random_functions);
  l_setfuncs(L, methods, random_methods);
}
