/* Indexing and joining for Lua: index_select, gather, scatter, masks, nonzero, cat/stack,
 * chunk/split/unbind (views), and t:index{...} / t:index_put_{...} (PyTorch's t[...]). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "autograd/autograd.h"
#include "l_aux.h"

/* Positions in Lua lists are reported 0-based, like dims and indices. */

static const char *type_name(lua_State *L, int idx) {
  return luaL_testudata(L, idx, L_TENSOR_MT) ? "Tensor" : luaL_typename(L, idx);
}

/* An index argument: a tensor, or a Lua table of integers turned into an i64 tensor that
 * replaces the argument on the stack (so it stays alive for the call). */
static wick_tensor *check_index(lua_State *L, int idx, const char *op) {
  if (lua_type(L, idx) != LUA_TTABLE) {
    wick_tensor *t = l_testtensor(L, idx);
    if (!t) l_errorf(L, "%s: index must be a tensor or a table of integers (got %s)", op, type_name(L, idx));
    return t;
  }
  int64_t n = (int64_t)lua_rawlen(L, idx);
  l_tensor_box *box = l_newbox(L);
  if (wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 1, &n, &box->t)) l_raise_last(L);
  int64_t *p = wick_tensor_data(box->t);
  for (int64_t i = 0; i < n; i++) {
    lua_rawgeti(L, idx, (lua_Integer)(i + 1));
    int isint;
    p[i] = (int64_t)lua_tointegerx(L, -1, &isint);
    if (!isint)
      l_errorf(L, "%s: index table must hold integers (got %s at position %lld)", op, luaL_typename(L, -1),
               (long long)i);
    lua_pop(L, 1);
  }
  lua_replace(L, idx);
  return box->t;
}

static int64_t check_dim(lua_State *L, int idx, const char *op) {
  int isint;
  lua_Integer d = lua_tointegerx(L, idx, &isint);
  if (!isint) l_errorf(L, "%s: dim must be an integer (got %s)", op, type_name(L, idx));
  return d;
}

/* An optional dim: nil/none, an integer, or an options table {dim = d}. */
static int64_t opt_dim(lua_State *L, int idx, const char *op, int64_t def) {
  static const char *const opts[] = {"dim", NULL};
  if (lua_isnoneornil(L, idx)) return def;
  if (lua_type(L, idx) == LUA_TTABLE) {
    l_checkoptions(L, idx, op, opts);
    return l_optinteger(L, idx, "dim", def);
  }
  return check_dim(L, idx, op);
}

/* ---- index_select / gather / scatter ---- */

static int l_index_select(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int64_t d = check_dim(L, 2, "index_select");
  wick_tensor *ix = check_index(L, 3, "index_select");
  L_PUSH_NEW(L, o, wick_ag_index_select(t, d, ix, &o));
}

static int l_gather(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int64_t d = check_dim(L, 2, "gather");
  wick_tensor *ix = check_index(L, 3, "gather");
  L_PUSH_NEW(L, o, wick_ag_gather(t, d, ix, &o));
}

/* These writes are not recorded by autograd: refuse them where a gradient would be lost. */
static wick_status no_grad_inplace(const char *op, const wick_tensor *t, const wick_tensor *src) {
  WICK_TRY(wick_ag_check_inplace(op, t));
  if (wick_grad_enabled() && (wick_requires_grad(t) || (src && wick_requires_grad(src))))
    return wick_errorf(WICK_ERR_UNSUPPORTED,
                       "%s: not differentiable yet; use the out-of-place form or wick.no_grad", op);
  return WICK_OK;
}

/* upvalue 1: reduce (0 assign, 1 add); upvalue 2: in place */
static int l_scatter(lua_State *L) {
  int reduce = (int)lua_tointeger(L, lua_upvalueindex(1)), inplace = lua_toboolean(L, lua_upvalueindex(2));
  const char *op = reduce ? (inplace ? "scatter_add_" : "scatter_add") : (inplace ? "scatter_" : "scatter");
  wick_tensor *t = l_checktensor(L, 1);
  int64_t d = check_dim(L, 2, op);
  wick_tensor *ix = check_index(L, 3, op);
  l_scalar tmp;
  wick_tensor *src = l_checkoperand(L, 4, &tmp);
  if (!inplace) L_PUSH_NEW(L, o, wick_ag_scatter(t, d, ix, src, reduce, &o));
  L_TRY(L, no_grad_inplace(op, t, src));
  L_TRY(L, wick_scatter_(t, d, ix, src, reduce));
  lua_settop(L, 1);
  return 1;
}

/* index_fill_/index_copy_/index_add_ and their out-of-place twins (a clone, then in place).
 * upvalue 1: 0 fill, 1 copy, 2 add; upvalue 2: in place */
static int l_index_along(lua_State *L) {
  static const char *const names[3][2] = {{"index_fill", "index_fill_"}, {"index_copy", "index_copy_"},
                                          {"index_add", "index_add_"}};
  static const char *const add_opts[] = {"alpha", NULL};
  int mode = (int)lua_tointeger(L, lua_upvalueindex(1)), inplace = lua_toboolean(L, lua_upvalueindex(2));
  const char *op = names[mode][inplace];
  wick_tensor *t = l_checktensor(L, 1);
  int64_t d = check_dim(L, 2, op);
  wick_tensor *ix = check_index(L, 3, op);
  l_scalar tmp;
  wick_tensor *src = mode == 0 ? l_checkoperand(L, 4, &tmp) : l_checktensor(L, 4);
  double alpha = 1;
  if (mode == 2) {
    l_checkoptions(L, 5, op, add_opts);
    alpha = l_optnumber(L, 5, "alpha", 1);
  } else if (!lua_isnone(L, 5)) {
    return l_errorf(L, "%s: expected 4 arguments (got %d)", op, lua_gettop(L));
  }
  wick_tensor *dst = t;
  L_TRY(L, no_grad_inplace(op, t, src));
  if (!inplace) {
    l_tensor_box *box = l_newbox(L);
    L_TRY(L, wick_clone(t, &box->t));
    dst = box->t;
  }
  wick_status s = mode == 0 ? wick_index_fill_(dst, d, ix, src)
                : mode == 1 ? wick_index_copy_(dst, d, ix, src)
                            : wick_index_add_(dst, d, ix, src, alpha);
  L_TRY(L, s);
  if (inplace) lua_settop(L, 1);
  return 1;
}

/* ---- masks, nonzero ---- */

static int l_masked_fill(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1), *m = l_checktensor(L, 2);
  l_scalar tmp;
  wick_tensor *v = l_checkoperand(L, 3, &tmp);
  L_PUSH_NEW(L, o, wick_ag_masked_fill(t, m, v, &o));
}

static int l_masked_fill_(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1), *m = l_checktensor(L, 2);
  l_scalar tmp;
  wick_tensor *v = l_checkoperand(L, 3, &tmp);
  L_TRY(L, no_grad_inplace("masked_fill_", t, v));
  L_TRY(L, wick_masked_fill_(t, m, v));
  lua_settop(L, 1);
  return 1;
}

static int l_masked_select(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1), *m = l_checktensor(L, 2);
  L_PUSH_NEW(L, o, wick_masked_select(t, m, &o));
}

static int l_nonzero(lua_State *L) {
  static const char *const opts[] = {"as_tuple", NULL};
  wick_tensor *t = l_checktensor(L, 1);
  l_checkoptions(L, 2, "nonzero", opts);
  int as_tuple = l_optbool(L, 2, "as_tuple", 0);
  l_tensor_box *nz = l_newbox(L);
  L_TRY(L, wick_nonzero(t, &nz->t));
  if (!as_tuple) return 1;
  /* as_tuple: one 1-D tensor per dim (views of the columns); a 0-d input gives one column */
  int cols = t->ndim ? t->ndim : 1;
  lua_createtable(L, cols, 0);
  for (int j = 0; j < cols; j++) {
    l_tensor_box *box = l_newbox(L);
    if (t->ndim) L_TRY(L, wick_select(nz->t, 1, j, &box->t));
    else L_TRY(L, wick_tensor_zeros(WICK_DTYPE_I64, t->device, 1, nz->t->sizes, &box->t));
    lua_rawseti(L, -2, j + 1);
  }
  return 1;
}

/* ---- cat / stack ---- */

/* The tensors of the list at idx, in a GC-owned array pushed on the stack. */
static const wick_tensor **check_list(lua_State *L, int idx, const char *op, int *n) {
  if (lua_type(L, idx) != LUA_TTABLE)
    l_errorf(L, "%s: expected a table of tensors (got %s)", op, type_name(L, idx));
  lua_Unsigned len = lua_rawlen(L, idx);
  if (len > INT32_MAX / 2) l_errorf(L, "%s: too many tensors", op);
  *n = (int)len;
  const wick_tensor **ts = lua_newuserdatauv(L, sizeof *ts * (len ? len : 1), 0);
  for (int i = 0; i < *n; i++) {
    lua_rawgeti(L, idx, i + 1);
    ts[i] = l_testtensor(L, -1);
    if (!ts[i]) l_errorf(L, "%s: expected a table of tensors (got %s at position %d)", op, type_name(L, -1), i);
    lua_pop(L, 1);
  }
  return ts;
}

/* cat / stack (list, dim = 0) */
static int join_common(lua_State *L, const char *op,
                       wick_status (*join)(int, const wick_tensor *const *, int64_t, wick_tensor **)) {
  int n;
  lua_settop(L, 2); /* stack: list, dim */
  const wick_tensor **ts = check_list(L, 1, op, &n);
  int64_t d = opt_dim(L, 2, op, 0);
  L_PUSH_NEW(L, o, join(n, ts, d, &o));
}
static int l_cat(lua_State *L) { return join_common(L, "cat", wick_ag_cat); }
static int l_stack(lua_State *L) { return join_common(L, "stack", wick_ag_stack); }

/* ---- chunk / split / unbind: Lua arrays of views ---- */

/* Pushes the narrow of t at [start, start + len) along d into the array on top. */
static void push_piece(lua_State *L, wick_tensor *t, int d, int64_t start, int64_t len, lua_Integer i) {
  l_tensor_box *box = l_newbox(L);
  int64_t p[3] = {d, start, len};
  if (wick_ag_view(WICK_VIEW_NARROW, t, 3, p, &box->t)) l_raise_last(L);
  lua_rawseti(L, -2, i);
}

/* PyTorch's split(split_size): pieces of split_size, the last one smaller (at least one). */
static int split_even(lua_State *L, wick_tensor *t, int d, int64_t size, const char *op) {
  int64_t dim_size = t->sizes[d];
  if (size < 0) return l_errorf(L, "%s: split_size must be non-negative (got %lld)", op, (long long)size);
  if (size == 0 && dim_size != 0)
    return l_errorf(L, "%s: split_size can only be 0 if dimension size is 0, but got dimension size of %lld",
                    op, (long long)dim_size);
  int64_t num = size ? (dim_size + size - 1) / size : 1;
  if (num < 1) num = 1;
  lua_createtable(L, num > INT32_MAX ? 0 : (int)num, 0);
  for (int64_t i = 0; i < num; i++) {
    int64_t len = i == num - 1 ? dim_size - size * (num - 1) : size;
    push_piece(L, t, d, i * size, len, (lua_Integer)(i + 1));
  }
  return 1;
}

static int wrap_dim(lua_State *L, wick_tensor *t, int64_t dim, const char *op) {
  if (t->ndim == 0) l_errorf(L, "%s: expects at least a 1-dimensional tensor", op);
  int d;
  L_TRY(L, wick_dim_wrap(op, dim, t->ndim, &d));
  return d;
}

static int l_split(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  int d = wrap_dim(L, t, opt_dim(L, 3, "split", 0), "split");
  if (lua_type(L, 2) != LUA_TTABLE) {
    int isint;
    lua_Integer s = lua_tointegerx(L, 2, &isint);
    if (!isint) return l_errorf(L, "split: expected an integer or a table of sizes (got %s)", type_name(L, 2));
    return split_even(L, t, d, s, "split");
  }
  /* split_with_sizes: check every size and the sum before making any view */
  lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
  int64_t sum = 0;
  int bad = 0;
  char list[512];
  int len = snprintf(list, sizeof list, "[");
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, 2, i + 1);
    int isint;
    lua_Integer s = lua_tointegerx(L, -1, &isint);
    if (!isint)
      return l_errorf(L, "split: split_sizes must be integers (got %s at position %lld)", luaL_typename(L, -1),
                      (long long)i);
    lua_pop(L, 1);
    if (s < 0) bad = 1;
    sum += s;
    if (len < (int)sizeof list)
      len += snprintf(list + len, sizeof list - (size_t)len, i ? ", %lld" : "%lld", (long long)s);
  }
  if (len < (int)sizeof list) snprintf(list + len, sizeof list - (size_t)len, "]");
  if (bad)
    return l_errorf(L, "split: split_sizes must be non-negative (got split_sizes=%s)", list);
  if (sum != t->sizes[d])
    return l_errorf(L, "split: split_sizes must sum exactly to %lld (the input's size at dimension %d), but got "
                    "split_sizes=%s", (long long)t->sizes[d], d, list);
  lua_createtable(L, (int)n, 0);
  int64_t at = 0;
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, 2, i + 1);
    int64_t s = lua_tointeger(L, -1);
    lua_pop(L, 1);
    push_piece(L, t, d, at, s, i + 1);
    at += s;
  }
  return 1;
}

static int l_chunk(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  lua_Integer chunks = luaL_checkinteger(L, 2);
  int d = wrap_dim(L, t, opt_dim(L, 3, "chunk", 0), "chunk");
  if (chunks <= 0) return l_errorf(L, "chunk: chunks must be greater than 0 (got %lld)", (long long)chunks);
  int64_t dim_size = t->sizes[d];
  if (dim_size == 0) { /* `chunks` empty pieces, as PyTorch */
    if (chunks > INT32_MAX) return l_errorf(L, "chunk: too many chunks (%lld)", (long long)chunks);
    lua_createtable(L, (int)chunks, 0);
    for (lua_Integer i = 0; i < chunks; i++) push_piece(L, t, d, 0, 0, i + 1);
    return 1;
  }
  return split_even(L, t, d, (dim_size + chunks - 1) / chunks, "chunk");
}

static int l_unbind(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  if (t->ndim == 0) return l_errorf(L, "unbind: dimension specified as 0 but tensor has no dimensions");
  int d = wrap_dim(L, t, opt_dim(L, 2, "unbind", 0), "unbind");
  int64_t n = t->sizes[d];
  lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
  for (int64_t i = 0; i < n; i++) {
    l_tensor_box *box = l_newbox(L);
    int64_t p[2] = {d, i};
    L_TRY(L, wick_ag_view(WICK_VIEW_SELECT, t, 2, p, &box->t));
    lua_rawseti(L, -2, (lua_Integer)(i + 1));
  }
  return 1;
}

/* ---- t:index(spec) / t:index_put_(spec, value) ---- */

#define MAX_ITEMS (2 * WICK_MAX_DIMS)
#define BOUND_MAX ((int64_t)1 << 62) /* clamps Lua's extreme integers before slice arithmetic */

static int64_t slice_bound(lua_State *L, int tbl, int k, int64_t def, int pos) {
  if (lua_rawgeti(L, tbl, k) == LUA_TNIL) { lua_pop(L, 1); return def; }
  int isint;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint)
    l_errorf(L, "index: slice bounds must be integers or nil (got %s at position %d)", luaL_typename(L, -1), pos);
  lua_pop(L, 1);
  return v > BOUND_MAX ? BOUND_MAX : v < -BOUND_MAX ? -BOUND_MAX : v;
}

static void parse_item(lua_State *L, int v, int pos, wick_index_item *it) {
  memset(it, 0, sizeof *it);
  int isint;
  switch (lua_type(L, v)) {
    case LUA_TNUMBER:
      it->kind = WICK_INDEX_INT;
      it->start = (int64_t)lua_tointegerx(L, v, &isint);
      if (!isint) l_errorf(L, "index: expected an integer index (got %g at position %d)", lua_tonumber(L, v), pos);
      return;
    case LUA_TSTRING: {
      const char *s = lua_tostring(L, v);
      if (!strcmp(s, ":")) { it->kind = WICK_INDEX_SLICE; it->stop = BOUND_MAX; it->step = 1; return; }
      if (!strcmp(s, "...")) { it->kind = WICK_INDEX_ELLIPSIS; return; }
      if (!strcmp(s, "newaxis")) { it->kind = WICK_INDEX_NEWAXIS; return; }
      l_errorf(L, "index: invalid string '%s' at position %d (expected ':', '...' or 'newaxis')", s, pos);
      return;
    }
    case LUA_TTABLE:
      if (lua_rawlen(L, v) > 3)
        l_errorf(L, "index: a slice is {start, stop[, step]} (got %d entries at position %d)", (int)lua_rawlen(L, v), pos);
      it->kind = WICK_INDEX_SLICE;
      it->start = slice_bound(L, v, 1, 0, pos);
      it->stop = slice_bound(L, v, 2, BOUND_MAX, pos);
      it->step = slice_bound(L, v, 3, 1, pos);
      return;
    default:
      it->tensor = l_testtensor(L, v);
      if (!it->tensor) l_errorf(L, "index: invalid index of type %s at position %d", type_name(L, v), pos);
      it->kind = WICK_INDEX_TENSOR;
  }
}

/* A spec table's entries (or a single non-table spec) at idx into items; returns the count. */
static int parse_spec(lua_State *L, int idx, wick_index_item *items) {
  if (lua_type(L, idx) != LUA_TTABLE) {
    if (lua_isnoneornil(L, idx)) l_errorf(L, "index: expected an index spec (got %s)", luaL_typename(L, idx));
    parse_item(L, idx, 0, &items[0]);
    return 1;
  }
  int n = (int)lua_rawlen(L, idx);
  if (n > MAX_ITEMS) l_errorf(L, "index: too many entries in the index spec (%d, at most %d)", n, MAX_ITEMS);
  luaL_checkstack(L, n + 8, "index");
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, idx, i + 1); /* stays on the stack: keeps a slice table's values reachable */
    parse_item(L, lua_gettop(L), i, &items[i]);
  }
  return n;
}

static int l_index(lua_State *L) {
  wick_tensor *t = l_checktensor(L, 1);
  wick_index_item items[MAX_ITEMS];
  int n = parse_spec(L, 2, items);
  L_PUSH_NEW(L, o, wick_ag_index(t, n, items, &o));
}

static int l_index_put(lua_State *L) {
  int inplace = lua_toboolean(L, lua_upvalueindex(1));
  wick_tensor *t = l_checktensor(L, 1);
  l_scalar tmp;
  wick_tensor *v = l_checkoperand(L, 3, &tmp);
  wick_index_item items[MAX_ITEMS];
  int n = parse_spec(L, 2, items);
  wick_tensor *dst = t;
  L_TRY(L, no_grad_inplace(inplace ? "index_put_" : "index_put", t, v));
  if (!inplace) {
    l_tensor_box *box = l_newbox(L);
    L_TRY(L, wick_clone(t, &box->t));
    dst = box->t;
  } else {
    lua_pushvalue(L, 1);
  }
  L_TRY(L, wick_index_put_(dst, n, items, v));
  return 1;
}

/* ---- registration ---- */

static const luaL_Reg index_both[] = {
  {"index_select", l_index_select}, {"gather", l_gather}, {"masked_fill", l_masked_fill},
  {"masked_select", l_masked_select}, {"nonzero", l_nonzero}, {"chunk", l_chunk}, {"split", l_split},
  {"unbind", l_unbind}, {NULL, NULL},
};

static const luaL_Reg index_methods[] = {
  {"masked_fill_", l_masked_fill_}, {"index", l_index}, {NULL, NULL},
};

static const luaL_Reg index_core[] = {
  {"cat", l_cat}, {"concat", l_cat}, {"concatenate", l_cat}, {"stack", l_stack}, {NULL, NULL},
};

static void reg2(lua_State *L, int t, const char *name, lua_CFunction f, int a, int b) {
  lua_pushinteger(L, a);
  lua_pushboolean(L, b);
  lua_pushcclosure(L, f, 2);
  lua_setfield(L, t, name);
}

void l_open_index(lua_State *L, int core, int methods) {
  l_setfuncs(L, core, index_both);
  l_setfuncs(L, methods, index_both);
  l_setfuncs(L, methods, index_methods);
  l_setfuncs(L, core, index_core);
  static const struct { const char *name; int reduce, inplace; } sc[] = {
    {"scatter", 0, 0}, {"scatter_", 0, 1}, {"scatter_add", 1, 0}, {"scatter_add_", 1, 1},
  };
  for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
    reg2(L, methods, sc[i].name, l_scatter, sc[i].reduce, sc[i].inplace);
    if (!sc[i].inplace) reg2(L, core, sc[i].name, l_scatter, sc[i].reduce, 0);
  }
  static const char *const along[3] = {"index_fill", "index_copy", "index_add"};
  for (int m = 0; m < 3; m++) {
    char name[32];
    snprintf(name, sizeof name, "%s_", along[m]);
    reg2(L, methods, along[m], l_index_along, m, 0);
    reg2(L, methods, name, l_index_along, m, 1);
    reg2(L, core, along[m], l_index_along, m, 0);
  }
  lua_pushboolean(L, 1);
  lua_pushcclosure(L, l_index_put, 1);
  lua_setfield(L, methods, "index_put_");
  lua_pushboolean(L, 0);
  lua_pushcclosure(L, l_index_put, 1);
  lua_setfield(L, methods, "index_put");
  lua_pushliteral(L, "newaxis");
  lua_setfield(L, core, "newaxis");
}
