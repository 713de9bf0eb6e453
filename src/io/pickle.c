/* A restricted unpickler for torch.save(state_dict) files: the opcodes of pickle protocols 2-4
 * that a state dict uses, globals limited to OrderedDict / _rebuild_tensor_v2 /
 * _rebuild_parameter / torch.*Storage, storages resolved as zip members through persistent ids.
 * No Python object is ever constructed, so a hostile file can only be refused. */
#include "pickle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/zip.h"

#define OP "load_torch"
#define MAX_DEPTH 64

typedef enum { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR, V_MARK } vkind;
typedef enum { G_ORDERED_DICT, G_REBUILD_TENSOR, G_REBUILD_PARAM, G_STORAGE } gkind;

typedef struct value value;
struct value {
  vkind kind;
  int64_t i;          /* int, bool; global kind */
  double f;
  char *s;            /* str (NUL-terminated) */
  value **items;      /* tuple, list; dict as key, value, key, value, ... */
  size_t n, cap;
  wick_dtype dtype;   /* storage global, storage */
  const uint8_t *data; size_t nbytes; void *owned; /* storage */
  wick_tensor *t;     /* tensor */
  value *next;        /* every value is on the unpickler's list, freed at the end */
};

typedef struct {
  const char *path;
  wick_zip *zip;
  const char *prefix; /* "archive/" of "archive/data.pkl" */
  size_t prefix_len;
  const uint8_t *p, *end;
  value *all;
  value **stack; size_t sp, scap;
  value **memo; size_t mcap, mlen; /* mlen: entries set (MEMOIZE's next index) */
  size_t len;                        /* of the pickle: bounds memo indices */
} unpickler;

static value MARK_VALUE = {.kind = V_MARK};

static wick_status perr(unpickler *u, const char *fmt, const char *arg) {
  char msg[1024];
  snprintf(msg, sizeof msg, fmt, arg);
  return wick_errorf(WICK_ERR_PARSE, OP ": '%s': %s", u->path, msg);
}

static wick_status oom(void) { return wick_errorf(WICK_ERR_OOM, OP ": out of memory"); }

static const char *kind_name(vkind k) {
  static const char *const names[] = {"None", "bool", "int", "float", "str", "tuple", "list", "dict",
                                      "global", "storage", "tensor", "mark"};
  return names[k];
}

static value *new_value(unpickler *u, vkind k) {
  value *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  v->kind = k;
  v->next = u->all;
  u->all = v;
  return v;
}

static void free_values(unpickler *u) {
  for (value *v = u->all, *next; v; v = next) {
    next = v->next;
    free(v->s);
    free(v->items);
    free(v->owned);
    wick_tensor_release(v->t);
    free(v);
  }
  u->all = NULL;
}

static wick_status add_item(value *c, value *item) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 8;
    value **items = realloc(c->items, cap * sizeof *items);
    if (!items) return oom();
    c->items = items;
    c->cap = cap;
  }
  c->items[c->n++] = item;
  return WICK_OK;
}

static wick_status push(unpickler *u, value *v) {
  if (!v) return oom();
  if (u->sp == u->scap) {
    size_t cap = u->scap ? 2 * u->scap : 64;
    value **s = realloc(u->stack, cap * sizeof *s);
    if (!s) return oom();
    u->stack = s;
    u->scap = cap;
  }
  u->stack[u->sp++] = v;
  return WICK_OK;
}

static wick_status pop(unpickler *u, value **v) {
  if (u->sp == 0 || u->stack[u->sp - 1]->kind == V_MARK) return perr(u, "%s", "pickle stack underflow");
  *v = u->stack[--u->sp];
  return WICK_OK;
}

/* The position of the topmost mark. */
static wick_status find_mark(unpickler *u, size_t *at) {
  for (size_t i = u->sp; i-- > 0;)
    if (u->stack[i]->kind == V_MARK) { *at = i; return WICK_OK; }
  return perr(u, "%s", "pickle mark not found");
}

static wick_status need(unpickler *u, size_t n) {
  if ((size_t)(u->end - u->p) < n) return perr(u, "%s", "truncated pickle");
  return WICK_OK;
}

static uint64_t le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n; i-- > 0;) v = v << 8 | p[i];
  return v;
}

static wick_status push_str(unpickler *u, size_t len) {
  WICK_TRY(need(u, len));
  value *v = new_value(u, V_STR);
  if (!v || !(v->s = malloc(len + 1))) return oom();
  memcpy(v->s, u->p, len);
  v->s[len] = 0;
  v->n = len;
  u->p += len;
  return push(u, v);
}

static wick_status push_int(unpickler *u, int64_t i) {
  value *v = new_value(u, V_INT);
  if (!v) return oom();
  v->i = i;
  return push(u, v);
}

/* Pops stack[from..] into a new container of kind k (the mark at from - 1 is dropped if any). */
static wick_status collect(unpickler *u, vkind k, size_t from, int drop_mark) {
  value *c = new_value(u, k);
  if (!c) return oom();
  for (size_t i = from; i < u->sp; i++) WICK_TRY(add_item(c, u->stack[i]));
  u->sp = from - (drop_mark ? 1 : 0);
  return push(u, c);
}

static wick_status memo_put(unpickler *u, uint64_t idx) {
  if (u->sp == 0) return perr(u, "%s", "memo of an empty stack");
  /* picklers number memo entries from 0, one per put, so a larger index is not a pickle */
  if (idx > u->len) return perr(u, "%s", "memo index out of range");
  if (idx >= u->mcap) {
    size_t cap = (size_t)idx + 64;
    value **m = realloc(u->memo, cap * sizeof *m);
    if (!m) return oom();
    memset(m + u->mcap, 0, (cap - u->mcap) * sizeof *m);
    u->memo = m;
    u->mcap = cap;
  }
  if (!u->memo[idx]) u->mlen++;
  u->memo[idx] = u->stack[u->sp - 1];
  return WICK_OK;
}

static wick_status memo_get(unpickler *u, uint64_t idx) {
  if (idx >= u->mcap || !u->memo[idx]) return perr(u, "%s", "memo key not found");
  return push(u, u->memo[idx]);
}

static const struct { const char *name; wick_dtype dtype; } STORAGES[] = {
  {"FloatStorage", WICK_DTYPE_F32}, {"DoubleStorage", WICK_DTYPE_F64}, {"HalfStorage", WICK_DTYPE_F16},
  {"BFloat16Storage", WICK_DTYPE_BF16}, {"LongStorage", WICK_DTYPE_I64}, {"IntStorage", WICK_DTYPE_I32},
  {"ByteStorage", WICK_DTYPE_U8}, {"BoolStorage", WICK_DTYPE_BOOL},
};

static wick_status push_global(unpickler *u, const char *module, const char *name) {
  value *g = new_value(u, V_GLOBAL);
  if (!g) return oom();
  if (!strcmp(module, "collections") && !strcmp(name, "OrderedDict")) g->i = G_ORDERED_DICT;
  else if (!strcmp(module, "torch._utils") && !strcmp(name, "_rebuild_tensor_v2")) g->i = G_REBUILD_TENSOR;
  else if (!strcmp(module, "torch._utils") && !strcmp(name, "_rebuild_parameter")) g->i = G_REBUILD_PARAM;
  else {
    int found = 0;
    if (!strcmp(module, "torch"))
      for (size_t k = 0; k < sizeof STORAGES / sizeof *STORAGES; k++)
        if (!strcmp(name, STORAGES[k].name)) {
          g->i = G_STORAGE;
          g->dtype = STORAGES[k].dtype;
          found = 1;
        }
    if (!found)
      return wick_errorf(WICK_ERR_UNSUPPORTED, OP ": '%s': refusing global '%.100s.%.100s' (only a state dict of "
                         "tensors can be loaded)", u->path, module, name);
  }
  return push(u, g);
}

/* GLOBAL: "module\nname\n" */
static wick_status op_global(unpickler *u) {
  const uint8_t *nl1 = memchr(u->p, '\n', (size_t)(u->end - u->p));
  if (!nl1) return perr(u, "%s", "truncated GLOBAL");
  const uint8_t *nl2 = memchr(nl1 + 1, '\n', (size_t)(u->end - nl1 - 1));
  if (!nl2 || nl1 - u->p > 200 || nl2 - nl1 > 200) return perr(u, "%s", "bad GLOBAL");
  char module[256], name[256];
  memcpy(module, u->p, (size_t)(nl1 - u->p));
  module[nl1 - u->p] = 0;
  memcpy(name, nl1 + 1, (size_t)(nl2 - nl1 - 1));
  name[nl2 - nl1 - 1] = 0;
  u->p = nl2 + 1;
  return push_global(u, module, name);
}

/* BINPERSID: ('storage', torch.XStorage, key, location, numel) -> the zip member <prefix>data/<key> */
static wick_status op_persid(unpickler *u) {
  value *pid = NULL;
  WICK_TRY(pop(u, &pid));
  if (pid->kind != V_TUPLE || pid->n != 5 || pid->items[0]->kind != V_STR || strcmp(pid->items[0]->s, "storage") ||
      pid->items[1]->kind != V_GLOBAL || pid->items[1]->i != G_STORAGE || pid->items[2]->kind != V_STR ||
      pid->items[4]->kind != V_INT)
    return perr(u, "%s", "unsupported persistent id (expected a storage)");
  const char *key = pid->items[2]->s;
  if (strlen(key) > 200 || strchr(key, '/')) return perr(u, "%s", "bad storage key");
  char member[512];
  snprintf(member, sizeof member, "%.*sdata/%s", (int)u->prefix_len, u->prefix, key);
  long idx = wick_zip_find(u->zip, member);
  if (idx < 0) return perr(u, "missing storage member '%.300s'", member);
  value *s = new_value(u, V_STORAGE);
  if (!s) return oom();
  s->dtype = pid->items[1]->dtype;
  WICK_TRY(wick_zip_read(u->zip, (size_t)idx, &s->data, &s->nbytes, &s->owned));
  int64_t numel = pid->items[4]->i;
  size_t es = wick_dtype_size(s->dtype);
  if (numel < 0 || s->nbytes % es != 0 || (uint64_t)numel != s->nbytes / es)
    return perr(u, "storage '%s' does not hold the number of elements its header says", key);
  return push(u, s);
}

static wick_status int_tuple(unpickler *u, value *t, int64_t *out, int *ndim, const char *what) {
  if (t->kind != V_TUPLE || t->n > WICK_MAX_DIMS) return perr(u, "_rebuild_tensor_v2: bad %s", what);
  for (size_t i = 0; i < t->n; i++) {
    if (t->items[i]->kind != V_INT || t->items[i]->i < 0 || t->items[i]->i > ((int64_t)1 << 48))
      return perr(u, "_rebuild_tensor_v2: bad %s", what);
    out[i] = t->items[i]->i;
  }
  *ndim = (int)t->n;
  return WICK_OK;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]): copies
 * the strided view out of the storage after checking that all of it lies inside. */
static wick_status rebuild_tensor(unpickler *u, value *args, value **out) {
  if (args->kind != V_TUPLE || args->n < 4 || args->items[0]->kind != V_STORAGE || args->items[1]->kind != V_INT)
    return perr(u, "%s", "_rebuild_tensor_v2: unexpected arguments");
  value *st = args->items[0];
  int64_t sizes[WICK_MAX_DIMS], strides[WICK_MAX_DIMS];
  int nd, nd2;
  WICK_TRY(int_tuple(u, args->items[2], sizes, &nd, "size"));
  WICK_TRY(int_tuple(u, args->items[3], strides, &nd2, "stride"));
  if (nd != nd2) return perr(u, "%s", "_rebuild_tensor_v2: size and stride differ in length");
  int64_t offset = args->items[1]->i, numel = 1;
  size_t es = wick_dtype_size(st->dtype);
  int64_t storage_numel = (int64_t)(st->nbytes / es);
  for (int d = 0; d < nd; d++) numel = sizes[d] == 0 ? 0 : numel;
  if (numel) {
    /* the last element's position, offset + sum((size - 1) * stride), must lie in the storage */
    int64_t last = offset;
    if (offset < 0 || offset >= storage_numel) return perr(u, "%s", "_rebuild_tensor_v2: offset out of bounds");
    for (int d = 0; d < nd; d++) {
      int64_t term;
      if (__builtin_mul_overflow(sizes[d] - 1, strides[d], &term) || __builtin_add_overflow(last, term, &last) ||
          last >= storage_numel)
        return perr(u, "%s", "_rebuild_tensor_v2: view out of the storage's bounds");
      if (__builtin_mul_overflow(numel, sizes[d], &numel)) return perr(u, "%s", "_rebuild_tensor_v2: too many elements");
    }
  }
  /* zero strides (expanded tensors) can make a small storage a huge view: bound the copy */
  if (numel > storage_numel && numel > ((int64_t)1 << 24))
    return perr(u, "%s", "_rebuild_tensor_v2: view much larger than its storage");
  value *v = new_value(u, V_TENSOR);
  if (!v) return oom();
  WICK_TRY(wick_tensor_new(st->dtype, wick_cpu(), nd, sizes, &v->t));
  uint8_t *dst = wick_tensor_data(v->t);
  int64_t idx[WICK_MAX_DIMS] = {0};
  for (int64_t k = 0; k < numel; k++) {
    int64_t pos = offset;
    for (int d = 0; d < nd; d++) pos += idx[d] * strides[d];
    memcpy(dst + (size_t)k * es, st->data + (size_t)pos * es, es);
    for (int d = nd; d-- > 0;) {
      if (++idx[d] < sizes[d]) break;
      idx[d] = 0;
    }
  }
  *out = v;
  return WICK_OK;
}

static wick_status op_reduce(unpickler *u) {
  value *args = NULL, *fn = NULL, *res = NULL;
  WICK_TRY(pop(u, &args));
  WICK_TRY(pop(u, &fn));
  if (fn->kind != V_GLOBAL || args->kind != V_TUPLE) return perr(u, "%s", "REDUCE of something that is not an allowed global");
  switch ((gkind)fn->i) {
    case G_ORDERED_DICT:
      if (args->n != 0) return perr(u, "%s", "OrderedDict with arguments");
      res = new_value(u, V_DICT);
      if (!res) return oom();
      break;
    case G_REBUILD_TENSOR: WICK_TRY(rebuild_tensor(u, args, &res)); break;
    case G_REBUILD_PARAM:
      if (args->n < 1 || args->items[0]->kind != V_TENSOR) return perr(u, "%s", "_rebuild_parameter: expected a tensor");
      res = args->items[0];
      break;
    default: return perr(u, "%s", "a storage type cannot be called");
  }
  return push(u, res);
}

static wick_status op_setitems(unpickler *u, size_t from) {
  if (from == 0 || u->stack[from - 1]->kind != V_DICT) return perr(u, "%s", "SETITEMS on something that is not a dict");
  if ((u->sp - from) % 2) return perr(u, "%s", "SETITEMS with an odd number of items");
  value *d = u->stack[from - 1];
  for (size_t i = from; i < u->sp; i++) WICK_TRY(add_item(d, u->stack[i]));
  u->sp = from;
  return WICK_OK;
}

static wick_status run(unpickler *u, value **result) {
  while (u->p < u->end) {
    uint8_t op = *u->p++;
    value *v = NULL, *w = NULL;
    size_t at = 0;
    switch (op) {
      case 0x80: WICK_TRY(need(u, 1)); if (*u->p > 5) return perr(u, "%s", "unsupported pickle protocol"); u->p++; break;
      case 0x95: WICK_TRY(need(u, 8)); u->p += 8; break; /* FRAME: a hint only */
      case '.': WICK_TRY(pop(u, result)); return WICK_OK;
      case '(': WICK_TRY(push(u, &MARK_VALUE)); break;
      case '0': WICK_TRY(pop(u, &v)); break;
      case '1': WICK_TRY(find_mark(u, &at)); u->sp = at; break;
      case '2': if (u->sp == 0) return perr(u, "%s", "DUP of an empty stack"); WICK_TRY(push(u, u->stack[u->sp - 1])); break;
      case 'N': WICK_TRY(push(u, new_value(u, V_NONE))); break;
      case 0x88: case 0x89:
        if (!(v = new_value(u, V_BOOL))) return oom();
        v->i = op == 0x88;
        WICK_TRY(push(u, v));
        break;
      case 'J': WICK_TRY(need(u, 4)); WICK_TRY(push_int(u, (int32_t)(uint32_t)le(u->p, 4))); u->p += 4; break;
      case 'K': WICK_TRY(need(u, 1)); WICK_TRY(push_int(u, *u->p)); u->p += 1; break;
      case 'M': WICK_TRY(need(u, 2)); WICK_TRY(push_int(u, (int64_t)le(u->p, 2))); u->p += 2; break;
      case 0x8a: { /* LONG1: n-byte little-endian two's complement */
        WICK_TRY(need(u, 1));
        int n = *u->p++;
        if (n > 8) return perr(u, "%s", "integer too large");
        WICK_TRY(need(u, (size_t)n));
        uint64_t x = le(u->p, n);
        if (n > 0 && n < 8 && (u->p[n - 1] & 0x80)) x |= ~(uint64_t)0 << (8 * n);
        u->p += n;
        WICK_TRY(push_int(u, (int64_t)x));
        break;
      }
      case 'G': {
        WICK_TRY(need(u, 8));
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++) bits = bits << 8 | u->p[i];
        u->p += 8;
        if (!(v = new_value(u, V_FLOAT))) return oom();
        memcpy(&v->f, &bits, 8);
        WICK_TRY(push(u, v));
        break;
      }
      case 'X': case 'T': WICK_TRY(need(u, 4)); { size_t n = (size_t)le(u->p, 4); u->p += 4; WICK_TRY(push_str(u, n)); } break;
      case 0x8c: case 'U': WICK_TRY(need(u, 1)); { size_t n = *u->p++; WICK_TRY(push_str(u, n)); } break;
      case 0x8d: WICK_TRY(need(u, 8)); {
          uint64_t n = le(u->p, 8);
          u->p += 8;
          if (n > (uint64_t)(u->end - u->p)) return perr(u, "%s", "truncated pickle");
          WICK_TRY(push_str(u, (size_t)n));
        }
        break;
      case ')': WICK_TRY(collect(u, V_TUPLE, u->sp, 0)); break;
      case 't': WICK_TRY(find_mark(u, &at)); WICK_TRY(collect(u, V_TUPLE, at + 1, 1)); break;
      case 0x85: case 0x86: case 0x87: {
        size_t n = (size_t)(op - 0x84);
        if (u->sp < n) return perr(u, "%s", "pickle stack underflow");
        for (size_t i = u->sp - n; i < u->sp; i++)
          if (u->stack[i]->kind == V_MARK) return perr(u, "%s", "pickle stack underflow");
        WICK_TRY(collect(u, V_TUPLE, u->sp - n, 0));
        break;
      }
      case ']': WICK_TRY(collect(u, V_LIST, u->sp, 0)); break;
      case 'l': WICK_TRY(find_mark(u, &at)); WICK_TRY(collect(u, V_LIST, at + 1, 1)); break;
      case '}': WICK_TRY(push(u, new_value(u, V_DICT))); break;
      case 'd':
        WICK_TRY(find_mark(u, &at));
        if ((u->sp - at - 1) % 2) return perr(u, "%s", "DICT with an odd number of items");
        WICK_TRY(collect(u, V_DICT, at + 1, 1));
        break;
      case 'a':
        WICK_TRY(pop(u, &v));
        if (u->sp == 0 || u->stack[u->sp - 1]->kind != V_LIST) return perr(u, "%s", "APPEND to something that is not a list");
        WICK_TRY(add_item(u->stack[u->sp - 1], v));
        break;
      case 'e':
        WICK_TRY(find_mark(u, &at));
        if (at == 0 || u->stack[at - 1]->kind != V_LIST) return perr(u, "%s", "APPENDS to something that is not a list");
        for (size_t i = at + 1; i < u->sp; i++) WICK_TRY(add_item(u->stack[at - 1], u->stack[i]));
        u->sp = at;
        break;
      case 's':
        if (u->sp < 3) return perr(u, "%s", "pickle stack underflow");
        WICK_TRY(op_setitems(u, u->sp - 2));
        break;
      case 'u': WICK_TRY(find_mark(u, &at)); memmove(u->stack + at, u->stack + at + 1, (u->sp - at - 1) * sizeof *u->stack);
        u->sp--; WICK_TRY(op_setitems(u, at)); break;
      case 'q': WICK_TRY(need(u, 1)); WICK_TRY(memo_put(u, *u->p)); u->p += 1; break;
      case 'r': WICK_TRY(need(u, 4)); WICK_TRY(memo_put(u, le(u->p, 4))); u->p += 4; break;
      case 0x94: WICK_TRY(memo_put(u, u->mlen)); break; /* MEMOIZE: the next free index */
      case 'h': WICK_TRY(need(u, 1)); WICK_TRY(memo_get(u, *u->p)); u->p += 1; break;
      case 'j': WICK_TRY(need(u, 4)); WICK_TRY(memo_get(u, le(u->p, 4))); u->p += 4; break;
      case 'c': WICK_TRY(op_global(u)); break;
      case 0x93:
        WICK_TRY(pop(u, &w));
        WICK_TRY(pop(u, &v));
        if (v->kind != V_STR || w->kind != V_STR) return perr(u, "%s", "STACK_GLOBAL of non-strings");
        WICK_TRY(push_global(u, v->s, w->s));
        break;
      case 'Q': WICK_TRY(op_persid(u)); break;
      case 'R': WICK_TRY(op_reduce(u)); break;
      case 'b': /* BUILD: only a dict's attributes (a state dict's _metadata), which are dropped */
        WICK_TRY(pop(u, &v));
        if (u->sp == 0 || u->stack[u->sp - 1]->kind != V_DICT) return perr(u, "%s", "BUILD of something that is not a dict");
        break;
      default: {
        char hex[8];
        snprintf(hex, sizeof hex, "0x%02x", op);
        return wick_errorf(WICK_ERR_UNSUPPORTED, OP ": '%s': refusing pickle opcode %s (only a state dict of tensors "
                           "can be loaded)", u->path, hex);
      }
    }
  }
  return perr(u, "%s", "pickle ends without STOP");
}

typedef struct {
  wick_torch_entry *e;
  size_t n, cap;
} entries;

static wick_status flatten(unpickler *u, value *d, const char *prefix, entries *out, int depth) {
  if (depth > MAX_DEPTH) return perr(u, "%s", "dicts nested too deeply");
  for (size_t i = 0; i + 1 < d->n; i += 2) {
    value *k = d->items[i], *v = d->items[i + 1];
    if (k->kind != V_STR) return perr(u, "a dict key is a %s, not a string", kind_name(k->kind));
    size_t len = strlen(prefix) + strlen(k->s) + 2;
    char *name = malloc(len);
    if (!name) return oom();
    snprintf(name, len, "%s%s%s", prefix, *prefix ? "." : "", k->s);
    wick_status s = WICK_OK;
    if (v->kind == V_DICT) {
      s = flatten(u, v, name, out, depth + 1);
    } else if (v->kind != V_TENSOR) {
      char msg[300];
      snprintf(msg, sizeof msg, "'%.200s' is not a tensor (%s)", name, kind_name(v->kind));
      s = perr(u, "%s", msg);
    } else if (out->n == out->cap) {
      size_t cap = out->cap ? 2 * out->cap : 64;
      wick_torch_entry *e = realloc(out->e, cap * sizeof *e);
      if (!e) s = oom();
      else { out->e = e; out->cap = cap; }
    }
    if (s != WICK_OK || v->kind == V_DICT) {
      free(name);
      if (s != WICK_OK) return s;
      continue;
    }
    wick_tensor_retain(v->t);
    out->e[out->n].name = name;
    out->e[out->n].tensor = v->t;
    out->n++;
  }
  return WICK_OK;
}

void wick_torch_entries_free(wick_torch_entry *e, size_t n) {
  if (!e) return;
  for (size_t i = 0; i < n; i++) {
    free(e[i].name);
    wick_tensor_release(e[i].tensor);
  }
  free(e);
}

/* The member ".../data.pkl" with the shortest name fixes the archive's prefix. */
static wick_status find_pickle(unpickler *u, long *idx) {
  *idx = -1;
  size_t best = SIZE_MAX;
  for (size_t i = 0; i < wick_zip_count(u->zip); i++) {
    const char *name = wick_zip_name(u->zip, i);
    size_t len = strlen(name);
    if (len >= 8 && !strcmp(name + len - 8, "data.pkl") && (len == 8 || name[len - 9] == '/') && len < best) {
      best = len;
      *idx = (long)i;
      u->prefix = name;
      u->prefix_len = len - 8;
    }
  }
  if (*idx < 0) return perr(u, "%s", "no data.pkl member (not a torch.save zip file; legacy .pt files are not supported)");
  if (u->prefix_len > 200) return perr(u, "%s", "member name too long");
  char bo[256];
  snprintf(bo, sizeof bo, "%.*sbyteorder", (int)u->prefix_len, u->prefix);
  long b = wick_zip_find(u->zip, bo);
  if (b >= 0) {
    const uint8_t *d;
    size_t n;
    void *owned;
    WICK_TRY(wick_zip_read(u->zip, (size_t)b, &d, &n, &owned));
    int little = n == 6 && !memcmp(d, "little", 6);
    free(owned);
    if (!little) return perr(u, "%s", "big-endian files are not supported");
  }
  return WICK_OK;
}

wick_status wick_torch_load(const char *path, wick_torch_entry **out, size_t *n) {
  *out = NULL;
  *n = 0;
  unpickler u = {.path = path};
  WICK_TRY(wick_zip_open(OP, path, &u.zip));
  long idx;
  const uint8_t *pkl = NULL;
  size_t len = 0;
  void *owned = NULL;
  entries res = {0};
  value *top = NULL;
  wick_status s = find_pickle(&u, &idx);
  if (s == WICK_OK) s = wick_zip_read(u.zip, (size_t)idx, &pkl, &len, &owned);
  if (s == WICK_OK) {
    u.p = pkl;
    u.end = pkl + len;
    u.len = len;
    s = run(&u, &top);
  }
  if (s == WICK_OK && top->kind != V_DICT) s = perr(&u, "the pickled object is not a state dict (%s)", kind_name(top->kind));
  if (s == WICK_OK) s = flatten(&u, top, "", &res, 0);
  free_values(&u);
  free(u.stack);
  free(u.memo);
  free(owned);
  wick_zip_free(u.zip);
  if (s != WICK_OK) {
    wick_torch_entries_free(res.e, res.n);
    return s;
  }
  *out = res.e;
  *n = res.n;
  return WICK_OK;
}
