/* YAML loader: libyaml events -> a wick_yaml_node tree, typed with the YAML 1.2 core schema,
 * data only (standard tags), with anchors, aliases, merge keys and bounded expansion. */
#include "io/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "io/yaml_doc.h"

/* ---- scalar typing: YAML 1.2 core schema ---- */

static int all_digits(const char *s, const char *e, int base) {
  if (s >= e) return 0;
  for (; s < e; s++) {
    int c = (unsigned char)*s;
    int ok = base == 16 ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
           : base == 8 ? (c >= '0' && c <= '7') : (c >= '0' && c <= '9');
    if (!ok) return 0;
  }
  return 1;
}

static int is_one_of(const char *s, size_t len, const char *const *words) {
  for (; *words; words++)
    if (strlen(*words) == len && memcmp(s, *words, len) == 0) return 1;
  return 0;
}

/* [-+]? ( \.[0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int is_core_float(const char *s, const char *e) {
  if (s < e && (*s == '-' || *s == '+')) s++;
  const char *d = s;
  while (s < e && *s >= '0' && *s <= '9') s++;
  int int_digits = (int)(s - d);
  if (s < e && *s == '.') {
    s++;
    const char *f = s;
    while (s < e && *s >= '0' && *s <= '9') s++;
    if (int_digits == 0 && s == f) return 0;
  } else if (int_digits == 0) {
    return 0;
  }
  if (s < e && (*s == 'e' || *s == 'E')) {
    s++;
    if (s < e && (*s == '-' || *s == '+')) s++;
    if (!all_digits(s, e, 10)) return 0;
    s = e;
  }
  return s == e;
}

wick_status wick_yaml_resolve_plain(const char *s, size_t len, wick_yaml_node *out) {
  static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
  static const char *const trues[] = {"true", "True", "TRUE", NULL};
  static const char *const falses[] = {"false", "False", "FALSE", NULL};
  static const char *const infs[] = {".inf", ".Inf", ".INF", NULL};
  static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
  const char *e = s + len;
  out->kind = WICK_YAML_STR;
  if (len == 0 || is_one_of(s, len, nulls)) { out->kind = WICK_YAML_NULL; return WICK_OK; }
  if (is_one_of(s, len, trues)) { out->kind = WICK_YAML_BOOL; out->v.b = 1; return WICK_OK; }
  if (is_one_of(s, len, falses)) { out->kind = WICK_YAML_BOOL; out->v.b = 0; return WICK_OK; }
  if (len > 1 && (*s == '-' || *s == '+') && is_one_of(s + 1, len - 1, infs)) {
    out->kind = WICK_YAML_FLOAT;
    out->v.f = *s == '-' ? -INFINITY : INFINITY;
    return WICK_OK;
  }
  if (is_one_of(s, len, infs)) { out->kind = WICK_YAML_FLOAT; out->v.f = INFINITY; return WICK_OK; }
  if (is_one_of(s, len, nans)) { out->kind = WICK_YAML_FLOAT; out->v.f = NAN; return WICK_OK; }
  int base = 0;
  const char *digits = s;
  if (len > 2 && s[0] == '0' && s[1] == 'x' && all_digits(s + 2, e, 16)) base = 16, digits = s + 2;
  else if (len > 2 && s[0] == '0' && s[1] == 'o' && all_digits(s + 2, e, 8)) base = 8, digits = s + 2;
  else if (all_digits(s + (*s == '-' || *s == '+'), e, 10)) base = 10;
  int is_float = !base && is_core_float(s, e);
  if (!base && !is_float) return WICK_OK; /* a string */
  /* strtoll/strtod need a terminated copy; numbers are short, anything long is rare */
  char small[64], *buf = len < sizeof small ? small : malloc(len + 1);
  if (!buf) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  memcpy(buf, digits, (size_t)(e - digits));
  buf[e - digits] = 0;
  wick_status st = WICK_OK;
  errno = 0;
  if (base) {
    char *end;
    if (base == 10) {
      long long v = strtoll(buf, &end, 10);
      out->v.i = v;
    } else {
      unsigned long long v = strtoull(buf, &end, base);
      if (v > (unsigned long long)INT64_MAX) errno = ERANGE;
      out->v.i = (int64_t)v;
    }
    out->kind = WICK_YAML_INT;
    if (errno == ERANGE)
      st = wick_errorf(WICK_ERR_PARSE, "config: integer %.*s does not fit in 64 bits",
                       (int)(len > 40 ? 40 : len), s);
  } else {
    out->kind = WICK_YAML_FLOAT;
    out->v.f = strtod(buf, NULL); /* overflow gives +-inf, as YAML loaders do */
  }
  if (buf != small) free(buf);
  return st;
}

/* ---- the loader ---- */

typedef struct {
  char *name;
  wick_yaml_node *node;
} anchor;

typedef struct {
  wick_yaml_doc *doc;
  const char *name; /* file name for messages, or NULL */
  yaml_parser_t parser;
  anchor *anchors; /* open-addressing hash table, cap a power of two */
  size_t n_anchors, cap_anchors;
  uint64_t parsed; /* nodes written in the document */
  uint64_t merged; /* pairs copied in by merge keys */
  int depth;
} loader;

static wick_status fail_at(loader *ld, wick_status s, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static wick_status fail_at(loader *ld, wick_status s, int line, int col, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (ld->name) return wick_errorf(s, "config: %s:%d:%d: %s", ld->name, line, col, msg);
  return wick_errorf(s, "config: %s at line %d, column %d", msg, line, col);
}

#define MARK(m) (int)(m).line + 1, (int)(m).column + 1

static wick_status parser_error(loader *ld, const char *text, size_t len) {
  yaml_parser_t *p = &ld->parser;
  if (p->error == YAML_MEMORY_ERROR) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  const char *problem = p->problem ? p->problem : "cannot parse";
  if (p->error == YAML_READER_ERROR) {
    /* the reader reports a byte offset; turn it into a line and column */
    int line = 1, col = 1;
    for (size_t i = 0; i < p->problem_offset && i < len; i++) {
      if (text[i] == '\n') line++, col = 1;
      else col++;
    }
    return fail_at(ld, WICK_ERR_PARSE, line, col, "%s", problem);
  }
  return fail_at(ld, WICK_ERR_PARSE, MARK(p->problem_mark), "%s", problem);
}

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static anchor *anchor_slot(loader *ld, const char *name) {
  size_t mask = ld->cap_anchors - 1;
  for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask)
    if (!ld->anchors[i].name || strcmp(ld->anchors[i].name, name) == 0) return &ld->anchors[i];
}

/* Anchors may be redefined: an alias refers to the latest node with that anchor. */
static wick_status anchor_set(loader *ld, const unsigned char *uname, wick_yaml_node *node) {
  const char *name = (const char *)uname;
  if (!name) return WICK_OK;
  if ((ld->n_anchors + 1) * 2 > ld->cap_anchors) {
    size_t cap = ld->cap_anchors ? ld->cap_anchors * 2 : 16;
    anchor *old = ld->anchors;
    size_t old_cap = ld->cap_anchors;
    ld->anchors = calloc(cap, sizeof *ld->anchors);
    if (!ld->anchors) { ld->anchors = old; return wick_errorf(WICK_ERR_OOM, "config: out of memory"); }
    ld->cap_anchors = cap;
    for (size_t i = 0; i < old_cap; i++)
      if (old[i].name) *anchor_slot(ld, old[i].name) = old[i];
    free(old);
  }
  anchor *a = anchor_slot(ld, name);
  if (!a->name) {
    a->name = strdup(name);
    if (!a->name) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
    ld->n_anchors++;
  }
  a->node = node;
  return WICK_OK;
}

static void anchors_free(loader *ld) {
  for (size_t i = 0; i < ld->cap_anchors; i++) free(ld->anchors[i].name);
  free(ld->anchors);
}

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

/* The standard tag's short name ("str", "seq", ...), "" for the non-specific "!", NULL when
 * no tag was written; *bad set when the tag is not allowed. */
static const char *tag_name(const unsigned char *utag, int *bad) {
  static const char *const allowed[] = {"str", "int", "float", "bool", "null", "seq", "map", NULL};
  const char *tag = (const char *)utag;
  *bad = 0;
  if (!tag) return NULL;
  if (strcmp(tag, "!") == 0) return "";
  size_t plen = strlen(YAML_TAG_PREFIX);
  if (strncmp(tag, YAML_TAG_PREFIX, plen) == 0)
    for (int i = 0; allowed[i]; i++)
      if (strcmp(tag + plen, allowed[i]) == 0) return allowed[i];
  *bad = 1;
  return NULL;
}

static wick_status bad_tag(loader *ld, const unsigned char *utag, yaml_mark_t m) {
  const char *tag = (const char *)utag;
  size_t plen = strlen(YAML_TAG_PREFIX);
  if (strncmp(tag, YAML_TAG_PREFIX, plen) == 0)
    return fail_at(ld, WICK_ERR_PARSE, MARK(m), "tag '!!%s' is not allowed (YAML is data only)",
                   tag + plen);
  return fail_at(ld, WICK_ERR_PARSE, MARK(m), "tag '%s' is not allowed (YAML is data only)", tag);
}

static wick_status wrong_tag(loader *ld, const char *tag, const char *what, yaml_mark_t m) {
  return fail_at(ld, WICK_ERR_PARSE, MARK(m), "tag '!!%s' does not fit a %s", tag, what);
}

static wick_status next_event(loader *ld, yaml_event_t *ev, const char *text, size_t len) {
  if (!yaml_parser_parse(&ld->parser, ev)) return parser_error(ld, text, len);
  return WICK_OK;
}

typedef struct { const char *text; size_t len; } source;

static wick_status load_node(loader *ld, const source *src, yaml_event_t *ev, int as_key,
                             wick_yaml_node **out);

static wick_yaml_node *new_at(loader *ld, wick_yaml_kind kind, yaml_mark_t m) {
  wick_yaml_node *n = wick_yaml_node_alloc(ld->doc, kind);
  if (n) { n->line = (int)m.line + 1; n->column = (int)m.column + 1; ld->parsed++; }
  return n;
}

static wick_status load_scalar(loader *ld, yaml_event_t *ev, int as_key, wick_yaml_node **out) {
  yaml_mark_t m = ev->start_mark;
  const char *s = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  int bad;
  const char *tag = tag_name(ev->data.scalar.tag, &bad);
  if (bad) return bad_tag(ld, ev->data.scalar.tag, m);
  if (tag && (!strcmp(tag, "seq") || !strcmp(tag, "map"))) return wrong_tag(ld, tag, "scalar", m);
  wick_yaml_node typed = {.kind = WICK_YAML_STR};
  int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  if (!tag ? plain : (*tag && strcmp(tag, "str") != 0)) {
    if (wick_yaml_resolve_plain(s, len, &typed) != WICK_OK) {
      if (typed.kind == WICK_YAML_INT)
        return fail_at(ld, WICK_ERR_PARSE, MARK(m), "integer %.*s does not fit in 64 bits",
                       (int)(len > 40 ? 40 : len), s);
      return wick_errorf(WICK_ERR_OOM, "config: out of memory");
    }
  }
  if (tag && *tag && strcmp(tag, "str") != 0) { /* !!int !!float !!bool !!null check the text */
    int ok = (!strcmp(tag, "int") && typed.kind == WICK_YAML_INT) ||
             (!strcmp(tag, "float") && (typed.kind == WICK_YAML_FLOAT || typed.kind == WICK_YAML_INT)) ||
             (!strcmp(tag, "bool") && typed.kind == WICK_YAML_BOOL) ||
             (!strcmp(tag, "null") && typed.kind == WICK_YAML_NULL);
    if (!ok)
      return fail_at(ld, WICK_ERR_PARSE, MARK(m), "'%.*s' is not a valid !!%s",
                     (int)(len > 40 ? 40 : len), s, tag);
    if (!strcmp(tag, "float") && typed.kind == WICK_YAML_INT) {
      typed.kind = WICK_YAML_FLOAT;
      typed.v.f = (double)typed.v.i;
    }
  }
  /* keys are integers or strings: any other scalar key is the text as written */
  if (as_key && typed.kind != WICK_YAML_INT) typed.kind = WICK_YAML_STR;
  wick_yaml_node *n;
  if (typed.kind == WICK_YAML_STR) {
    n = wick_yaml_new_str(ld->doc, s, len);
    if (n) { n->line = (int)m.line + 1; n->column = (int)m.column + 1; ld->parsed++; }
  } else {
    n = new_at(ld, typed.kind, m);
    if (n) n->v = typed.v;
  }
  if (!n) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  *out = n;
  return anchor_set(ld, ev->data.scalar.anchor, n);
}

static wick_status check_expansion(loader *ld, wick_yaml_node *n, yaml_mark_t m) {
  if (n->expanded > ld->parsed + WICK_YAML_MAX_ALIAS_NODES || ld->merged > WICK_YAML_MAX_ALIAS_NODES)
    return fail_at(ld, WICK_ERR_PARSE, MARK(m),
                   "aliases expand to more than %d nodes (is this a \"billion laughs\" document?)",
                   WICK_YAML_MAX_ALIAS_NODES);
  return WICK_OK;
}

static wick_status load_seq(loader *ld, const source *src, yaml_event_t *start,
                            wick_yaml_node **out) {
  yaml_mark_t m = start->start_mark;
  int bad;
  const char *tag = tag_name(start->data.sequence_start.tag, &bad);
  if (bad) return bad_tag(ld, start->data.sequence_start.tag, m);
  if (tag && *tag && strcmp(tag, "seq") != 0) return wrong_tag(ld, tag, "sequence", m);
  wick_yaml_node *seq = new_at(ld, WICK_YAML_SEQ, m);
  if (!seq) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  uint64_t expanded = 1;
  for (;;) {
    yaml_event_t ev;
    WICK_TRY(next_event(ld, &ev, src->text, src->len));
    if (ev.type == YAML_SEQUENCE_END_EVENT) { yaml_event_delete(&ev); break; }
    wick_yaml_node *item = NULL;
    wick_status s = load_node(ld, src, &ev, 0, &item);
    yaml_event_delete(&ev);
    WICK_TRY(s);
    WICK_TRY(wick_yaml_seq_push(ld->doc, seq, item));
    expanded += item->expanded;
  }
  seq->expanded = expanded;
  WICK_TRY(check_expansion(ld, seq, m));
  *out = seq;
  return anchor_set(ld, start->data.sequence_start.anchor, seq);
}

/* Merge sources of "<<": a mapping or a sequence of mappings. */
static wick_status add_merge(loader *ld, wick_yaml_node *v, wick_yaml_node ***srcs, size_t *n,
                             size_t *cap, yaml_mark_t m) {
  size_t count = v->kind == WICK_YAML_SEQ ? v->v.seq.n : 1;
  for (size_t i = 0; i < count; i++) {
    wick_yaml_node *src = v->kind == WICK_YAML_SEQ ? v->v.seq.items[i] : v;
    if (src->kind != WICK_YAML_MAP)
      return fail_at(ld, WICK_ERR_PARSE, MARK(m),
                     "merge key '<<' needs a mapping or a sequence of mappings");
    if (*n == *cap) {
      size_t c = *cap ? *cap * 2 : 4;
      wick_yaml_node **p = realloc(*srcs, c * sizeof *p);
      if (!p) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
      *srcs = p, *cap = c;
    }
    (*srcs)[(*n)++] = src;
  }
  return WICK_OK;
}

static int is_merge_key(const yaml_event_t *ev) {
  return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         !ev->data.scalar.tag && ev->data.scalar.length == 2 &&
         memcmp(ev->data.scalar.value, "<<", 2) == 0;
}

static wick_status load_map_pairs(loader *ld, const source *src, wick_yaml_node *map,
                                  wick_yaml_node ***srcs, size_t *n_srcs, size_t *cap_srcs) {
  for (;;) {
    yaml_event_t ev;
    WICK_TRY(next_event(ld, &ev, src->text, src->len));
    if (ev.type == YAML_MAPPING_END_EVENT) { yaml_event_delete(&ev); return WICK_OK; }
    yaml_mark_t km = ev.start_mark;
    int merge = is_merge_key(&ev);
    wick_yaml_node *key = NULL, *value = NULL;
    wick_status s = merge ? WICK_OK : load_node(ld, src, &ev, 1, &key);
    yaml_event_delete(&ev);
    WICK_TRY(s);
    WICK_TRY(next_event(ld, &ev, src->text, src->len));
    s = load_node(ld, src, &ev, 0, &value);
    yaml_event_delete(&ev);
    WICK_TRY(s);
    if (merge) WICK_TRY(add_merge(ld, value, srcs, n_srcs, cap_srcs, km));
    else WICK_TRY(wick_yaml_map_add(ld->doc, map, key, value));
  }
}

static wick_status load_map(loader *ld, const source *src, yaml_event_t *start,
                            wick_yaml_node **out) {
  yaml_mark_t m = start->start_mark;
  int bad;
  const char *tag = tag_name(start->data.mapping_start.tag, &bad);
  if (bad) return bad_tag(ld, start->data.mapping_start.tag, m);
  if (tag && *tag && strcmp(tag, "map") != 0) return wrong_tag(ld, tag, "mapping", m);
  wick_yaml_node *map = new_at(ld, WICK_YAML_MAP, m);
  if (!map) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  wick_yaml_node **srcs = NULL;
  size_t n_srcs = 0, cap_srcs = 0;
  wick_status s = load_map_pairs(ld, src, map, &srcs, &n_srcs, &cap_srcs);
  size_t n_explicit = map->v.map.n;
  for (size_t i = 0; s == WICK_OK && i < n_srcs; i++) {
    ld->merged += srcs[i]->v.map.n;
    s = check_expansion(ld, map, m);
    for (size_t j = 0; s == WICK_OK && j < srcs[i]->v.map.n; j++)
      s = wick_yaml_map_add(ld->doc, map, srcs[i]->v.map.pairs[j].key, srcs[i]->v.map.pairs[j].value);
  }
  free(srcs);
  WICK_TRY(s);
  /* explicit keys win over merged ones, earlier merge sources over later ones */
  const wick_yaml_node *dup = NULL;
  WICK_TRY(wick_yaml_map_sort(map, n_explicit, &dup));
  if (dup) {
    if (dup->kind == WICK_YAML_INT)
      return fail_at(ld, WICK_ERR_PARSE, dup->line, dup->column, "duplicate key %lld",
                     (long long)dup->v.i);
    return fail_at(ld, WICK_ERR_PARSE, dup->line, dup->column, "duplicate key '%.*s'",
                   (int)(dup->v.str.len > 80 ? 80 : dup->v.str.len), dup->v.str.ptr);
  }
  uint64_t expanded = 1;
  for (size_t i = 0; i < map->v.map.n; i++)
    expanded += map->v.map.pairs[i].key->expanded + map->v.map.pairs[i].value->expanded;
  map->expanded = expanded;
  WICK_TRY(check_expansion(ld, map, m));
  *out = map;
  return anchor_set(ld, start->data.mapping_start.anchor, map);
}

static wick_status load_node(loader *ld, const source *src, yaml_event_t *ev, int as_key,
                             wick_yaml_node **out) {
  yaml_mark_t m = ev->start_mark;
  switch (ev->type) {
    case YAML_ALIAS_EVENT: {
      const char *name = (const char *)ev->data.alias.anchor;
      anchor *a = ld->cap_anchors ? anchor_slot(ld, name) : NULL;
      if (!a || !a->name)
        return fail_at(ld, WICK_ERR_PARSE, MARK(m), "undefined alias '*%s'", name);
      if (as_key && a->node->kind != WICK_YAML_INT && a->node->kind != WICK_YAML_STR)
        return fail_at(ld, WICK_ERR_PARSE, MARK(m),
                       "alias '*%s' used as a key must refer to a string or an integer", name);
      *out = a->node;
      return WICK_OK;
    }
    case YAML_SCALAR_EVENT:
      return load_scalar(ld, ev, as_key, out);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
      if (as_key)
        return fail_at(ld, WICK_ERR_PARSE, MARK(m), "mapping keys must be scalars");
      if (ld->depth >= WICK_YAML_MAX_DEPTH)
        return fail_at(ld, WICK_ERR_PARSE, MARK(m), "nesting deeper than %d levels",
                       WICK_YAML_MAX_DEPTH);
      ld->depth++;
      wick_status s = ev->type == YAML_SEQUENCE_START_EVENT ? load_seq(ld, src, ev, out)
                                                            : load_map(ld, src, ev, out);
      ld->depth--;
      return s;
    }
    default:
      return fail_at(ld, WICK_ERR_PARSE, MARK(m), "unexpected event in a node");
  }
}

static wick_status load_document(loader *ld, const source *src) {
  yaml_event_t ev;
  WICK_TRY(next_event(ld, &ev, src->text, src->len)); /* stream start */
  yaml_event_delete(&ev);
  WICK_TRY(next_event(ld, &ev, src->text, src->len));
  if (ev.type == YAML_STREAM_END_EVENT) { /* no document at all: null */
    yaml_event_delete(&ev);
    wick_yaml_node *n = wick_yaml_new_null(ld->doc);
    if (!n) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
    wick_yaml_set_root(ld->doc, n);
    return WICK_OK;
  }
  yaml_event_delete(&ev); /* document start */
  WICK_TRY(next_event(ld, &ev, src->text, src->len));
  wick_yaml_node *root = NULL;
  wick_status s = load_node(ld, src, &ev, 0, &root);
  yaml_event_delete(&ev);
  WICK_TRY(s);
  wick_yaml_set_root(ld->doc, root);
  WICK_TRY(next_event(ld, &ev, src->text, src->len)); /* document end */
  yaml_event_delete(&ev);
  WICK_TRY(next_event(ld, &ev, src->text, src->len));
  yaml_mark_t m = ev.start_mark;
  int more = ev.type == YAML_DOCUMENT_START_EVENT;
  yaml_event_delete(&ev);
  if (more)
    return fail_at(ld, WICK_ERR_PARSE, MARK(m),
                   "found a second document (a config holds exactly one)");
  return WICK_OK;
}

wick_status wick_yaml_parse(const char *text, size_t len, const char *name, wick_yaml_doc **out) {
  *out = NULL;
  loader ld = {0};
  ld.name = name;
  ld.doc = wick_yaml_doc_new();
  if (!ld.doc) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  if (!yaml_parser_initialize(&ld.parser)) {
    wick_yaml_doc_free(ld.doc);
    return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  }
  yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text, len);
  source src = {text, len};
  wick_status s = load_document(&ld, &src);
  yaml_parser_delete(&ld.parser);
  anchors_free(&ld);
  if (s != WICK_OK) { wick_yaml_doc_free(ld.doc); return s; }
  *out = ld.doc;
  return WICK_OK;
}

wick_status wick_yaml_parse_file(const char *path, wick_yaml_doc **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return wick_errorf(WICK_ERR_IO, "config: cannot open '%s': %s", path, strerror(errno));
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      size_t c = cap ? cap * 2 : 4096;
      char *p = realloc(buf, c);
      if (!p) { free(buf); fclose(f); return wick_errorf(WICK_ERR_OOM, "config: out of memory"); }
      buf = p, cap = c;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    return wick_errorf(WICK_ERR_IO, "config: cannot read '%s'", path);
  }
  wick_status s = wick_yaml_parse(buf, len, path, out);
  free(buf);
  return s;
}
