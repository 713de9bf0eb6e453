/* Strict JSON: a recursive-descent parser into an arena-allocated tree, and a small writer.
 * Every read is bounded by the input length; errors carry the byte offset. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena: the whole tree is freed at once ---- */

typedef struct arena_block {
  struct arena_block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} arena_block;

struct wick_json_doc {
  arena_block *blocks;
  wick_json *root;
};

#define ARENA_BLOCK 65536

static void *arena_alloc(wick_json_doc *d, size_t n) {
  if (n > SIZE_MAX / 2) return NULL;
  n = (n + 15) & ~(size_t)15;
  arena_block *b = d->blocks;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->used = 0;
    b->cap = cap;
    b->next = d->blocks;
    d->blocks = b;
  }
  void *p = b->data + b->used;
  b->used += n;
  return p;
}

void wick_json_doc_free(wick_json_doc *doc) {
  if (!doc) return;
  for (arena_block *b = doc->blocks, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  free(doc);
}

const wick_json *wick_json_root(const wick_json_doc *doc) { return doc->root; }

const wick_json *wick_json_get(const wick_json *obj, const char *key) {
  if (!obj || obj->kind != WICK_JSON_OBJECT) return NULL;
  size_t n = strlen(key);
  for (const wick_json *m = obj->v.list.first; m; m = m->next)
    if (m->key_len == n && memcmp(m->key, key, n) == 0) return m;
  return NULL;
}

const char *wick_json_kind_name(wick_json_kind k) {
  static const char *const names[] = {"null", "boolean", "integer", "number", "string", "array",
                                      "object"};
  return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* ---- UTF-8 ---- */

/* Decodes one well-formed UTF-8 sequence at s (n bytes available): its length, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned char c = s[0];
  size_t len;
  uint32_t v, min;
  if (c < 0x80) { *cp = c; return 1; }
  if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; min = 0x10000; }
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

bool wick_utf8_valid(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  uint32_t cp;
  for (size_t i = 0; i < len;) {
    size_t k = utf8_seq(u + i, len - i, &cp);
    if (!k) return false;
    i += k;
  }
  return true;
}

static size_t utf8_put(char *out, uint32_t cp) {
  if (cp < 0x80) { out[0] = (char)cp; return 1; }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* ---- parser ---- */

typedef struct {
  const char *s;
  size_t len, pos;
  wick_json_doc *doc;
  size_t nvalues, max_values;
} parser;

static wick_status perr(parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static wick_status perr(parser *p, size_t at, const char *fmt, ...) {
  (void)p;
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return wick_errorf(WICK_ERR_PARSE, "invalid JSON at byte %zu: %s", at, buf);
}

static wick_status oom(void) { return wick_errorf(WICK_ERR_OOM, "JSON: out of memory"); }

/* "unexpected 'x'" or "unexpected byte 0xNN" or "unexpected end of input" at p->pos. */
static wick_status unexpected(parser *p, const char *expected) {
  if (p->pos >= p->len) return perr(p, p->pos, "unexpected end of input (expected %s)", expected);
  unsigned char c = (unsigned char)p->s[p->pos];
  if (c >= 0x20 && c < 0x7F)
    return perr(p, p->pos, "unexpected '%c' (expected %s)", c, expected);
  return perr(p, p->pos, "unexpected byte 0x%02X (expected %s)", c, expected);
}

static void skip_ws(parser *p) {
  while (p->pos < p->len) {
    char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static wick_status new_node(parser *p, wick_json_kind kind, wick_json **out) {
  if (p->max_values && p->nvalues >= p->max_values)
    return perr(p, p->pos, "more than %zu values", p->max_values);
  wick_json *n = arena_alloc(p->doc, sizeof *n);
  if (!n) return oom();
  memset(n, 0, sizeof *n);
  n->kind = kind;
  n->pos = p->pos;
  p->nvalues++;
  *out = n;
  return WICK_OK;
}

static int hex4(const char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/* A string starting at the '"' at p->pos: decoded into the arena. */
static wick_status parse_string(parser *p, const char **out, size_t *out_len) {
  size_t start = ++p->pos, end = start;
  while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
  if (end >= p->len) return perr(p, start - 1, "unterminated string");
  /* Escapes only shrink: the raw length bounds the decoded one. */
  char *buf = arena_alloc(p->doc, end - start + 1);
  if (!buf) return oom();
  size_t n = 0;
  const unsigned char *u = (const unsigned char *)p->s;
  while (p->pos < end) {
    unsigned char c = u[p->pos];
    if (c < 0x20) return perr(p, p->pos, "control character 0x%02X in a string", c);
    if (c != '\\') {
      uint32_t cp;
      size_t k = utf8_seq(u + p->pos, end - p->pos, &cp);
      if (!k) return perr(p, p->pos, "invalid UTF-8 in a string");
      memcpy(buf + n, p->s + p->pos, k);
      n += k;
      p->pos += k;
      continue;
    }
    size_t esc = p->pos;
    char e = p->s[p->pos + 1]; /* end - pos >= 2: the scan above skipped escaped bytes */
    p->pos += 2;
    switch (e) {
      case '"': buf[n++] = '"'; break;
      case '\\': buf[n++] = '\\'; break;
      case '/': buf[n++] = '/'; break;
      case 'b': buf[n++] = '\b'; break;
      case 'f': buf[n++] = '\f'; break;
      case 'n': buf[n++] = '\n'; break;
      case 'r': buf[n++] = '\r'; break;
      case 't': buf[n++] = '\t'; break;
      case 'u': {
        int hi = end - p->pos >= 4 ? hex4(p->s + p->pos) : -1;
        if (hi < 0) return perr(p, esc, "invalid \\u escape");
        p->pos += 4;
        uint32_t cp = (uint32_t)hi;
        if (hi >= 0xDC00 && hi <= 0xDFFF) return perr(p, esc, "lone surrogate in a \\u escape");
        if (hi >= 0xD800 && hi <= 0xDBFF) {
          int lo = end - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u'
                       ? hex4(p->s + p->pos + 2) : -1;
          if (lo < 0xDC00 || lo > 0xDFFF) return perr(p, esc, "lone surrogate in a \\u escape");
          p->pos += 6;
          cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
        }
        n += utf8_put(buf + n, cp);
        break;
      }
      default:
        if ((unsigned char)e >= 0x20 && (unsigned char)e < 0x7F)
          return perr(p, esc, "invalid escape '\\%c'", e);
        return perr(p, esc, "invalid escape");
    }
  }
  buf[n] = '\0';
  p->pos = end + 1;
  *out = buf;
  *out_len = n;
  return WICK_OK;
}

static bool is_digit(parser *p) { return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9'; }

static wick_status parse_number(parser *p, wick_json *node) {
  size_t start = p->pos;
  bool neg = false, isint = true;
  if (p->s[p->pos] == '-') { neg = true; p->pos++; }
  if (!is_digit(p)) return perr(p, start, "invalid number");
  if (p->s[p->pos] == '0') p->pos++;
  else while (is_digit(p)) p->pos++;
  if (p->pos < p->len && p->s[p->pos] == '.') {
    p->pos++;
    if (!is_digit(p)) return perr(p, start, "invalid number");
    while (is_digit(p)) p->pos++;
    isint = false;
  }
  if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    p->pos++;
    if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
    if (!is_digit(p)) return perr(p, start, "invalid number");
    while (is_digit(p)) p->pos++;
    isint = false;
  }
  if (isint) {
    /* Accumulate the magnitude as uint64; past int64's range it stays a NUMBER. */
    uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = start + neg; i < p->pos && isint; i++) {
      unsigned d = (unsigned)(p->s[i] - '0');
      if (mag > (limit - d) / 10) isint = false;
      else mag = mag * 10 + d;
    }
    if (isint) {
      node->kind = WICK_JSON_INT;
      node->v.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
      return WICK_OK;
    }
  }
  size_t n = p->pos - start;
  char *buf = arena_alloc(p->doc, n + 1);
  if (!buf) return oom();
  memcpy(buf, p->s + start, n);
  buf[n] = '\0';
  node->kind = WICK_JSON_NUMBER;
  node->v.str.ptr = buf;
  node->v.str.len = n;
  return WICK_OK;
}

static int cmp_member(const void *a, const void *b) {
  const wick_json *x = *(wick_json *const *)a, *y = *(wick_json *const *)b;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = memcmp(x->key, y->key, n);
  if (c) return c;
  if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static wick_status dup_error(parser *p, const wick_json *m) {
  /* Keys are valid UTF-8 (checked while decoding); a NUL inside one ends the message early. */
  return perr(p, m->pos, "duplicate key '%.100s'", m->key);
}

/* Unique keys (RFC 7493): the first repeated key in document order is reported. Sorting keeps
 * objects with many members (state dicts) from going quadratic. */
static wick_status check_unique(parser *p, wick_json *obj) {
  size_t n = obj->v.list.n;
  if (n < 2) return WICK_OK;
  wick_json **v = malloc(n * sizeof *v);
  if (!v) return oom();
  size_t i = 0;
  for (wick_json *m = obj->v.list.first; m; m = m->next) v[i++] = m;
  qsort(v, n, sizeof *v, cmp_member);
  const wick_json *worst = NULL;
  for (i = 1; i < n; i++)
    if (v[i]->key_len == v[i - 1]->key_len && memcmp(v[i]->key, v[i - 1]->key, v[i]->key_len) == 0 &&
        (!worst || v[i]->pos < worst->pos))
      worst = v[i];
  free(v);
  return worst ? dup_error(p, worst) : WICK_OK;
}

static wick_status parse_value(parser *p, int depth, wick_json **out);

/* An array or object at p->pos; `close` is ']' or '}'. */
static wick_status parse_list(parser *p, int depth, wick_json *node) {
  bool obj = node->kind == WICK_JSON_OBJECT;
  char close = obj ? '}' : ']';
  if (depth >= WICK_JSON_MAX_DEPTH)
    return perr(p, p->pos, "nesting deeper than %d levels", WICK_JSON_MAX_DEPTH);
  p->pos++;
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; return WICK_OK; }
  wick_json **tail = &node->v.list.first;
  for (;;) {
    const char *key = NULL;
    size_t key_len = 0, key_pos = p->pos;
    if (obj) {
      if (p->pos >= p->len || p->s[p->pos] != '"') return unexpected(p, "a string key");
      WICK_TRY(parse_string(p, &key, &key_len));
      skip_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != ':') return unexpected(p, "':'");
      p->pos++;
      skip_ws(p);
    }
    wick_json *item;
    WICK_TRY(parse_value(p, depth + 1, &item));
    if (obj) {
      item->key = key;
      item->key_len = key_len;
      item->pos = key_pos; /* members are located by their key */
    }
    *tail = item;
    tail = &item->next;
    node->v.list.n++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ',') {
      p->pos++;
      skip_ws(p);
      continue;
    }
    if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; break; }
    return unexpected(p, obj ? "',' or '}'" : "',' or ']'");
  }
  return obj ? check_unique(p, node) : WICK_OK;
}

static bool literal(parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return false;
  p->pos += n;
  return true;
}

static wick_status parse_value(parser *p, int depth, wick_json **out) {
  if (p->pos >= p->len) return unexpected(p, "a value");
  wick_json *node = NULL;
  WICK_TRY(new_node(p, WICK_JSON_NULL, &node));
  char c = p->s[p->pos];
  switch (c) {
    case '{': node->kind = WICK_JSON_OBJECT; WICK_TRY(parse_list(p, depth, node)); break;
    case '[': node->kind = WICK_JSON_ARRAY; WICK_TRY(parse_list(p, depth, node)); break;
    case '"':
      node->kind = WICK_JSON_STRING;
      WICK_TRY(parse_string(p, &node->v.str.ptr, &node->v.str.len));
      break;
    case 't': case 'f': case 'n':
      if (literal(p, "true")) { node->kind = WICK_JSON_BOOL; node->v.b = true; }
      else if (literal(p, "false")) { node->kind = WICK_JSON_BOOL; node->v.b = false; }
      else if (!literal(p, "null")) return unexpected(p, "a value");
      break;
    default:
      if (c == '-' || (c >= '0' && c <= '9')) WICK_TRY(parse_number(p, node));
      else return unexpected(p, "a value");
  }
  *out = node;
  return WICK_OK;
}

wick_status wick_json_parse(const char *text, size_t len, size_t max_values, wick_json_doc **out) {
  *out = NULL;
  wick_json_doc *doc = calloc(1, sizeof *doc);
  if (!doc) return oom();
  parser p = {.s = text, .len = len, .doc = doc, .max_values = max_values};
  skip_ws(&p);
  wick_status s = parse_value(&p, 0, &doc->root);
  if (s == WICK_OK) {
    skip_ws(&p);
    if (p.pos < p.len) s = unexpected(&p, "the end after the JSON value");
  }
  if (s != WICK_OK) {
    wick_json_doc_free(doc);
    return s;
  }
  *out = doc;
  return WICK_OK;
}

/* ---- writer ---- */

void wick_json_write_raw(wick_json_writer *w, const char *s, size_t len) {
  if (w->oom) return;
  if (w->cap - w->len < len) {
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->len < len) {
      if (cap > SIZE_MAX / 2) { w->oom = true; return; }
      cap *= 2;
    }
    char *d = realloc(w->data, cap);
    if (!d) { w->oom = true; return; }
    w->data = d;
    w->cap = cap;
  }
  memcpy(w->data + w->len, s, len);
  w->len += len;
}

void wick_json_write_string(wick_json_writer *w, const char *s, size_t len) {
  wick_json_write_raw(w, "\"", 1);
  size_t run = 0; /* bytes copied as they are, flushed before each escape */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    wick_json_write_raw(w, s + run, i - run);
    run = i + 1;
    char esc[8];
    switch (c) {
      case '"': wick_json_write_raw(w, "\\\"", 2); break;
      case '\\': wick_json_write_raw(w, "\\\\", 2); break;
      case '\n': wick_json_write_raw(w, "\\n", 2); break;
      case '\r': wick_json_write_raw(w, "\\r", 2); break;
      case '\t': wick_json_write_raw(w, "\\t", 2); break;
      default:
        snprintf(esc, sizeof esc, "\\u%04x", c);
        wick_json_write_raw(w, esc, 6);
    }
  }
  wick_json_write_raw(w, s + run, len - run);
  wick_json_write_raw(w, "\"", 1);
}

void wick_json_write_int(wick_json_writer *w, int64_t v) {
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
  wick_json_write_raw(w, buf, (size_t)n);
}

void wick_json_writer_free(wick_json_writer *w) {
  free(w->data);
  w->data = NULL;
  w->len = w->cap = 0;
}
