/* Bindings of src/tb: event files with their writer thread (wick.tb.FileWriter) and builders of
 * serialized Summary values; the SummaryWriter API itself is Lua (lua/wick/tb/). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lua/l_aux.h"
#include "tb/event.h"
#include "tb/histogram.h"
#include "tb/image.h"
#include "tb/png.h"
#include "tb/proto.h"
#include "tb/record.h"
#include "tb/writer.h"

#define FW_MT "wick.tb.FileWriter"
#define PB_MT "wick.tb.buffer"

typedef struct {
  wick_tb_writer *w;
  wick_pb scratch[2]; /* add_scalar's value and event buffers, reused from call to call */
} fw_box;

/* A protobuf buffer owned by the Lua GC, so that a raised error cannot leak it. */
static wick_pb *newpb(lua_State *L) {
  wick_pb *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, PB_MT);
  return b;
}

static int pb_gc(lua_State *L) {
  wick_pb_free(luaL_checkudata(L, 1, PB_MT));
  return 0;
}

/* Replaces the buffer on top of the stack by its bytes as a Lua string. */
static int pushpb(lua_State *L, wick_pb *b, const char *op) {
  L_TRY(L, wick_pb_check(b, op));
  lua_pushlstring(L, (const char *)b->data, b->len);
  wick_pb_free(b);
  return 1;
}

/* Temporary malloc'ed memory owned by the GC (freed by __gc of the same buffer type). */
static void *gcmem(lua_State *L, void *p) {
  wick_pb *b = newpb(L);
  b->data = p;
  return p;
}

static fw_box *checkfw(lua_State *L, int idx) {
  fw_box *b = luaL_checkudata(L, idx, FW_MT);
  if (!b->w) l_errorf(L, "SummaryWriter: attempt to use a released writer");
  return b;
}

/* _tb.open(dir, suffix, max_queue, flush_secs, walltime) */
static int l_fw_open(lua_State *L) {
  const char *dir = luaL_checkstring(L, 1), *suffix = luaL_optstring(L, 2, "");
  lua_Integer mq = luaL_checkinteger(L, 3);
  double fs = luaL_checknumber(L, 4), wt = luaL_checknumber(L, 5);
  fw_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, FW_MT);
  if (mq < 1 || mq > 1000000) return l_errorf(L, "SummaryWriter: max_queue must be between 1 and 1000000 (got %lld)", (long long)mq);
  L_TRY(L, wick_tb_writer_open(dir, suffix, (int)mq, fs, wt, &b->w));
  return 1;
}

static int64_t checkstep(lua_State *L, int idx) {
  return lua_isnoneornil(L, idx) ? 0 : (int64_t)luaL_checkinteger(L, idx);
}

static int add_event(lua_State *L, fw_box *b, wick_pb *ev) {
  L_TRY(L, wick_pb_check(ev, "SummaryWriter"));
  L_TRY(L, wick_tb_writer_add(b->w, ev->data, ev->len));
  wick_pb_free(ev);
  return 0;
}

/* fw:add_summary(values, step, walltime) */
static int l_fw_add_summary(lua_State *L) {
  fw_box *b = checkfw(L, 1);
  size_t n;
  const char *v = luaL_checklstring(L, 2, &n);
  int64_t step = checkstep(L, 3);
  double wt = luaL_checknumber(L, 4);
  wick_pb *ev = newpb(L);
  wick_tb_event_summary(ev, wt, step, v, n);
  return add_event(L, b, ev);
}

/* Is s[0, n) valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF, as
 * Lua's utf8.len) without NUL bytes? */
static bool utf8_tag(const unsigned char *s, size_t n) {
  static const unsigned min[4] = {0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    if (c == 0) return false;
    if (c < 0x80) { i++; continue; }
    int k = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0; /* continuation bytes */
    if (k == 0 || c > 0xF4 || n - i <= (size_t)k) return false;
    unsigned cp = c & (0x3Fu >> k);
    for (int j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += (size_t)k + 1;
  }
  return true;
}

/* fw:add_scalar(tag, value, step): SummaryWriter.add_scalar's common call (a string tag, a Lua
 * number, an integer step or nil, the current time) checked and written here; returns false,
 * writing nothing, for anything else, which the Lua method then checks and reports. */
static int l_fw_add_scalar(lua_State *L) {
  fw_box *b = luaL_checkudata(L, 1, FW_MT);
  size_t n;
  int ok = b->w && !wick_tb_writer_is_closed(b->w) && lua_type(L, 2) == LUA_TSTRING &&
           lua_type(L, 3) == LUA_TNUMBER && (lua_isnoneornil(L, 4) || lua_isinteger(L, 4));
  const char *tag = ok ? lua_tolstring(L, 2, &n) : NULL;
  int64_t step = ok && !lua_isnoneornil(L, 4) ? (int64_t)lua_tointeger(L, 4) : 0;
  if (!ok || step < 0 || !utf8_tag((const unsigned char *)tag, n)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  wick_pb *value = &b->scratch[0], *ev = &b->scratch[1];
  value->len = ev->len = 0;
  wick_tb_value_simple(value, tag, (float)lua_tonumber(L, 3));
  wick_tb_event_summary(ev, (double)ts.tv_sec + ts.tv_nsec * 1e-9, step, value->data, value->len);
  wick_status s = wick_pb_check(value, "add_scalar");
  if (!s) s = wick_pb_check(ev, "add_scalar");
  if (!s) s = wick_tb_writer_add(b->w, ev->data, ev->len);
  if (s) { /* a failed growth is sticky: start over next time */
    wick_pb_free(value);
    wick_pb_free(ev);
  }
  L_TRY(L, s);
  lua_pushboolean(L, 1);
  return 1;
}

/* fw:add_event_bytes(field, bytes, step, walltime): graph_def (4), tagged_run_metadata (8) */
static int l_fw_add_event_bytes(lua_State *L) {
  fw_box *b = checkfw(L, 1);
  int field = (int)luaL_checkinteger(L, 2);
  size_t n;
  const char *v = luaL_checklstring(L, 3, &n);
  int64_t step = checkstep(L, 4);
  double wt = luaL_checknumber(L, 5);
  wick_pb *ev = newpb(L);
  wick_tb_event_bytes(ev, wt, step, field, v, n);
  return add_event(L, b, ev);
}

/* fw:add_session_log(status, step, walltime) */
static int l_fw_add_session_log(lua_State *L) {
  fw_box *b = checkfw(L, 1);
  int status = (int)luaL_checkinteger(L, 2);
  int64_t step = checkstep(L, 3);
  double wt = luaL_checknumber(L, 4);
  wick_pb *ev = newpb(L);
  wick_tb_event_session_log(ev, wt, step, status);
  return add_event(L, b, ev);
}

static int l_fw_flush(lua_State *L) {
  fw_box *b = checkfw(L, 1);
  if (!wick_tb_writer_is_closed(b->w)) L_TRY(L, wick_tb_writer_flush(b->w));
  return 0;
}

static int l_fw_close(lua_State *L) {
  fw_box *b = checkfw(L, 1);
  L_TRY(L, wick_tb_writer_close(b->w));
  return 0;
}

static int l_fw_gc(lua_State *L) {
  fw_box *b = luaL_checkudata(L, 1, FW_MT);
  wick_tb_writer_free(b->w); /* closes (flush + fsync) first */
  b->w = NULL;
  wick_pb_free(&b->scratch[0]);
  wick_pb_free(&b->scratch[1]);
  return 0;
}

static int l_fw_path(lua_State *L) {
  lua_pushstring(L, wick_tb_writer_path(checkfw(L, 1)->w));
  return 1;
}

static int l_fw_closed(lua_State *L) {
  fw_box *b = luaL_checkudata(L, 1, FW_MT);
  lua_pushboolean(L, !b->w || wick_tb_writer_is_closed(b->w));
  return 1;
}

static int l_fw_tostring(lua_State *L) {
  fw_box *b = luaL_checkudata(L, 1, FW_MT);
  if (!b->w) lua_pushstring(L, "wick.tb.FileWriter (released)");
  else lua_pushfstring(L, "wick.tb.FileWriter(%s%s)", wick_tb_writer_path(b->w),
                       wick_tb_writer_is_closed(b->w) ? ", closed" : "");
  return 1;
}

/* _tb.scalar(tag, value) -> Summary.value bytes */
static int l_tb_scalar(lua_State *L) {
  const char *tag = luaL_checkstring(L, 1);
  float v = (float)luaL_checknumber(L, 2);
  wick_pb *b = newpb(L);
  wick_tb_value_simple(b, tag, v);
  return pushpb(L, b, "add_scalar");
}

/* A tensor or a Lua array of numbers as float64 values, owned by the GC. */
static double *checkvalues(lua_State *L, int idx, const char *op, size_t *n) {
  wick_tensor *t = l_testtensor(L, idx);
  double *v;
  if (t) {
    if (wick_tb_values_f64(op, t, &v, n) != WICK_OK) l_raise_last(L);
    return gcmem(L, v);
  }
  if (!lua_istable(L, idx)) {
    l_errorf(L, "%s: expected a tensor or a table of numbers (got %s)", op, luaL_typename(L, idx));
    return NULL;
  }
  size_t len = (size_t)luaL_len(L, idx);
  v = gcmem(L, malloc((len ? len : 1) * sizeof(double)));
  if (!v) l_errorf(L, "%s: out of memory", op);
  for (size_t i = 0; i < len; i++) {
    lua_geti(L, idx, (lua_Integer)i + 1);
    int ok;
    v[i] = lua_tonumberx(L, -1, &ok);
    if (!ok) l_errorf(L, "%s: element %zu of the table is not a number (got %s)", op, i + 1, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  *n = len;
  return v;
}

/* _tb.histogram(tag, values, bins, max_bins): bins "tensorflow", a count or an edge table. */
static int l_tb_histogram(lua_State *L) {
  const char *op = "add_histogram";
  const char *tag = luaL_checkstring(L, 1);
  size_t n, ne;
  double *vals = checkvalues(L, 2, op, &n);
  const double *edges;
  lua_Integer max_bins = luaL_optinteger(L, 4, 0);
  if (max_bins < 0) return l_errorf(L, "%s: max_bins must be positive (got %lld)", op, (long long)max_bins);
  if (lua_type(L, 3) == LUA_TSTRING) {
    if (strcmp(lua_tostring(L, 3), "tensorflow") != 0)
      return l_errorf(L, "%s: bins \"%s\" is not supported (use \"tensorflow\", a number of bins or a table of edges)", op, lua_tostring(L, 3));
    edges = wick_tb_default_edges(&ne);
  } else if (lua_isinteger(L, 3)) {
    lua_Integer k = lua_tointeger(L, 3);
    if (k < 1 || k > 10000000) return l_errorf(L, "%s: bins must be a positive number of bins (got %lld)", op, (long long)k);
    if (n == 0) return l_errorf(L, "%s: the input has no element", op);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
      if (vals[i] < lo) lo = vals[i];
      if (vals[i] > hi) hi = vals[i];
    }
    if (!isfinite(lo) || !isfinite(hi))
      return l_errorf(L, "%s: the range [%g, %g] of the values is not finite", op, lo, hi);
    ne = (size_t)k + 1;
    double *e = gcmem(L, malloc(ne * sizeof(double)));
    if (!e) return l_errorf(L, "%s: out of memory", op);
    wick_tb_uniform_edges(lo, hi, (size_t)k, e);
    edges = e;
  } else if (lua_istable(L, 3)) {
    edges = checkvalues(L, 3, op, &ne);
  } else {
    return l_errorf(L, "%s: bins must be \"tensorflow\", an integer or a table of edges (got %s)", op, luaL_typename(L, 3));
  }
  wick_tb_histo h;
  double *st;
  L_TRY(L, wick_tb_histogram(op, vals, n, edges, ne, (size_t)max_bins, &h, &st));
  gcmem(L, st);
  wick_pb *b = newpb(L);
  wick_tb_value_histo(b, tag, &h);
  return pushpb(L, b, op);
}

/* _tb.histogram_raw(tag, min, max, num, sum, sum_squares, limits, counts) */
static int l_tb_histogram_raw(lua_State *L) {
  const char *op = "add_histogram_raw";
  wick_tb_histo h;
  const char *tag = luaL_checkstring(L, 1);
  h.min = luaL_checknumber(L, 2);
  h.max = luaL_checknumber(L, 3);
  h.num = luaL_checknumber(L, 4);
  h.sum = luaL_checknumber(L, 5);
  h.sum_squares = luaL_checknumber(L, 6);
  size_t nl, nc;
  h.limits = checkvalues(L, 7, op, &nl);
  h.counts = checkvalues(L, 8, op, &nc);
  if (nl != nc) return l_errorf(L, "%s: len(bucket_limits) != len(bucket_counts) (%zu != %zu)", op, nl, nc);
  h.n = nl;
  wick_pb *b = newpb(L);
  wick_tb_value_histo(b, tag, &h);
  return pushpb(L, b, op);
}

/* _tb.image(op, tag, tensor, dataformats) -> value bytes, height, width, channels */
static int l_tb_image(lua_State *L) {
  const char *op = luaL_checkstring(L, 1), *tag = luaL_checkstring(L, 2);
  wick_tensor *t = l_testtensor(L, 3);
  if (!t) return l_errorf(L, "%s: expected a tensor for img_tensor (got %s)", op, luaL_typename(L, 3));
  const char *fmt = luaL_checkstring(L, 4);
  uint8_t *px, *png;
  int64_t h, w;
  int c;
  size_t pn;
  L_TRY(L, wick_tb_image_hwc(op, t, fmt, 0, 0, &px, &h, &w, &c));
  gcmem(L, px);
  L_TRY(L, wick_png_encode(px, h, w, c, &png, &pn));
  gcmem(L, png);
  wick_pb *b = newpb(L);
  wick_tb_value_image(b, tag, h, w, c, png, pn);
  pushpb(L, b, op);
  lua_pushinteger(L, h);
  lua_pushinteger(L, w);
  lua_pushinteger(L, c);
  return 4;
}

/* _tb.png(op, tensor, dataformats, ncols, square) -> PNG bytes, height, width (sprites of the
 * projector: ncols images per row on a square canvas) */
static int l_tb_png(lua_State *L) {
  const char *op = luaL_checkstring(L, 1);
  wick_tensor *t = l_testtensor(L, 2);
  if (!t) return l_errorf(L, "%s: expected a tensor (got %s)", op, luaL_typename(L, 2));
  uint8_t *px, *png;
  int64_t h, w;
  int c;
  size_t pn;
  const char *fmt = luaL_checkstring(L, 3);
  lua_Integer ncols = luaL_optinteger(L, 4, 0);
  if (ncols < 0 || ncols > 65535) return l_errorf(L, "%s: bad ncols %lld", op, (long long)ncols);
  L_TRY(L, wick_tb_image_hwc(op, t, fmt, (int)ncols, lua_toboolean(L, 5), &px, &h, &w, &c));
  gcmem(L, px);
  L_TRY(L, wick_png_encode(px, h, w, c, &png, &pn));
  gcmem(L, png);
  lua_pushlstring(L, (const char *)png, pn);
  lua_pushinteger(L, h);
  lua_pushinteger(L, w);
  return 3;
}

/* _tb.tensor(tag, {dtype = 1|7, shape = {...}, values = {...}}, plugin, content, data_class) */
static int l_tb_tensor(lua_State *L) {
  const char *tag = luaL_checkstring(L, 1);
  const char *plugin = luaL_checkstring(L, 3);
  size_t cl = 0;
  const char *content = luaL_optlstring(L, 4, "", &cl);
  int dc = (int)luaL_optinteger(L, 5, 0);
  wick_pb *b = newpb(L);
  if (lua_isnil(L, 2)) {
    wick_tb_value_tensor(b, tag, NULL, plugin, content, cl, dc);
    return pushpb(L, b, "SummaryWriter");
  }
  luaL_checktype(L, 2, LUA_TTABLE);
  wick_tb_tensor t = {0};
  int64_t shape[WICK_MAX_DIMS];
  lua_getfield(L, 2, "dtype");
  t.dtype = (int)luaL_checkinteger(L, -1);
  lua_getfield(L, 2, "shape");
  luaL_checktype(L, -1, LUA_TTABLE);
  t.ndim = (int)luaL_len(L, -1);
  if (t.ndim > WICK_MAX_DIMS) return l_errorf(L, "SummaryWriter: tensor of rank %d", t.ndim);
  for (int d = 0; d < t.ndim; d++) {
    lua_geti(L, -1, d + 1);
    shape[d] = luaL_checkinteger(L, -1);
    lua_pop(L, 1);
  }
  t.shape = shape;
  lua_getfield(L, 2, "values"); /* stack: tag, spec, plugin, content, dc, buf, dtype, shape, values */
  int vi = lua_gettop(L);
  if (t.dtype == WICK_TB_DT_STRING) {
    luaL_checktype(L, vi, LUA_TTABLE);
    t.count = (size_t)luaL_len(L, vi);
    const char **s = gcmem(L, malloc((t.count + 1) * sizeof(char *)));
    size_t *sl = gcmem(L, malloc((t.count + 1) * sizeof(size_t)));
    if (!s || !sl) return l_errorf(L, "SummaryWriter: out of memory");
    for (size_t i = 0; i < t.count; i++) {
      lua_geti(L, vi, (lua_Integer)i + 1);
      s[i] = luaL_checklstring(L, -1, &sl[i]);
      lua_pop(L, 1); /* still referenced by the values table */
    }
    t.strs = s;
    t.str_lens = sl;
  } else {
    size_t n;
    double *v = checkvalues(L, vi, "SummaryWriter", &n);
    float *f = gcmem(L, malloc((n + 1) * sizeof(float)));
    if (!f) return l_errorf(L, "SummaryWriter: out of memory");
    for (size_t i = 0; i < n; i++) f[i] = (float)v[i];
    t.floats = f;
    t.count = n;
  }
  wick_tb_value_tensor(b, tag, &t, plugin, content, cl, dc);
  return pushpb(L, b, "SummaryWriter");
}

/* Generic encoder: fields = {{number, kind, value}, ...} with kind "int", "double", "float",
 * "bytes", "msg" (value: nested fields), "packed_double", "packed_float", "packed_int". */
static void encode(lua_State *L, int idx, wick_pb *b, int depth) {
  if (depth > 32) l_errorf(L, "tb.encode: messages nested too deeply");
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer n = luaL_len(L, idx);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, idx, i); /* stack: ..., field */
    int f = lua_gettop(L);
    luaL_checktype(L, f, LUA_TTABLE);
    lua_geti(L, f, 1);
    lua_geti(L, f, 2);
    lua_geti(L, f, 3); /* stack: ..., field, number, kind, value */
    int num = (int)luaL_checkinteger(L, f + 1);
    const char *kind = luaL_checkstring(L, f + 2);
    int v = f + 3;
    if (!strcmp(kind, "int")) wick_pb_int(b, num, lua_isboolean(L, v) ? lua_toboolean(L, v) : luaL_checkinteger(L, v));
    else if (!strcmp(kind, "double")) wick_pb_double(b, num, luaL_checknumber(L, v));
    else if (!strcmp(kind, "float")) wick_pb_float(b, num, (float)luaL_checknumber(L, v));
    else if (!strcmp(kind, "bytes")) {
      size_t len;
      const char *s = luaL_checklstring(L, v, &len);
      wick_pb_bytes(b, num, s, len);
    } else if (!strcmp(kind, "msg")) {
      size_t m = wick_pb_begin(b, num);
      encode(L, v, b, depth + 1);
      wick_pb_end(b, m);
    } else if (!strncmp(kind, "packed_", 7)) {
      size_t k;
      double *d = checkvalues(L, v, "tb.encode", &k);
      if (!strcmp(kind, "packed_double")) wick_pb_packed_double(b, num, d, k);
      else if (!strcmp(kind, "packed_float")) {
        float *x = lua_newuserdatauv(L, k * sizeof(float) + 1, 0); /* GC-owned */
        for (size_t j = 0; j < k; j++) x[j] = (float)d[j];
        wick_pb_packed_float(b, num, x, k);
        lua_pop(L, 1);
      } else {
        int64_t *x = lua_newuserdatauv(L, k * sizeof(int64_t) + 1, 0);
        for (size_t j = 0; j < k; j++) x[j] = (int64_t)d[j];
        wick_pb_packed_int(b, num, x, k);
        lua_pop(L, 1);
      }
      lua_pop(L, 1); /* the values' GC buffer */
    } else {
      l_errorf(L, "tb.encode: unknown field kind \"%s\"", kind);
    }
    lua_settop(L, f - 1);
  }
}

static int l_tb_encode(lua_State *L) {
  wick_pb *b = newpb(L);
  encode(L, 1, b, 0);
  return pushpb(L, b, "tb.encode");
}

/* _tb.values(op, tensor_or_table) -> a Lua array of the values as numbers, row-major */
static int l_tb_values(lua_State *L) {
  const char *op = luaL_checkstring(L, 1);
  size_t n;
  double *v = checkvalues(L, 2, op, &n);
  lua_createtable(L, (int)(n < 0x7fffffff ? n : 0), 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_tb_mkdirs(lua_State *L) {
  L_TRY(L, wick_tb_mkdirs(luaL_checkstring(L, 1)));
  return 0;
}

/* _tb.scan(bytes) -> complete valid records, bytes they span (CRC-checked framing) */
static int l_tb_scan(lua_State *L) {
  size_t n, valid;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_pushinteger(L, (lua_Integer)wick_tb_records_scan((const uint8_t *)s, n, &valid));
  lua_pushinteger(L, (lua_Integer)valid);
  return 2;
}

/* _tb.now() -> seconds since the epoch, fractional (PyTorch's time.time() walltime) */
static int l_tb_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (double)ts.tv_sec + ts.tv_nsec * 1e-9);
  return 1;
}

static int l_tb_hostname(lua_State *L) {
  char host[256] = "localhost";
  if (gethostname(host, sizeof host - 1) != 0) strcpy(host, "localhost");
  host[sizeof host - 1] = 0;
  lua_pushstring(L, host);
  return 1;
}

void l_open_tb(lua_State *L, int core, int methods) {
  (void)methods;
  static const luaL_Reg fw_methods[] = {
      {"add_summary", l_fw_add_summary}, {"add_scalar", l_fw_add_scalar}, {"add_event_bytes", l_fw_add_event_bytes},
      {"add_session_log", l_fw_add_session_log}, {"flush", l_fw_flush}, {"close", l_fw_close},
      {"path", l_fw_path}, {"closed", l_fw_closed}, {NULL, NULL}};
  l_newtype(L, FW_MT, fw_methods, l_fw_gc, l_fw_tostring);
  luaL_newmetatable(L, PB_MT);
  lua_pushcfunction(L, pb_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  static const luaL_Reg fns[] = {
      {"open", l_fw_open}, {"scalar", l_tb_scalar}, {"histogram", l_tb_histogram},
      {"histogram_raw", l_tb_histogram_raw}, {"image", l_tb_image}, {"png", l_tb_png},
      {"tensor", l_tb_tensor}, {"encode", l_tb_encode}, {"scan", l_tb_scan}, {"now", l_tb_now}, {"values", l_tb_values}, {"mkdirs", l_tb_mkdirs},
      {"hostname", l_tb_hostname}, {NULL, NULL}};
  lua_newtable(L);
  l_setfuncs(L, lua_gettop(L), fns);
  lua_setfield(L, core, "_tb");
}
