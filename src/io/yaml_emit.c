/* YAML emitter: a wick_yaml_node tree -> block-style YAML text (libyaml), with keys sorted and
 * scalars written so that they load back as the same type. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "io/yaml_doc.h"

typedef struct {
  char *buf;
  size_t len, cap;
  int oom;
} outbuf;

static int write_out(void *data, unsigned char *bytes, size_t size) {
  outbuf *o = data;
  if (o->len + size + 1 > o->cap) {
    size_t c = o->cap ? o->cap : 256;
    while (c < o->len + size + 1) c *= 2;
    char *p = realloc(o->buf, c);
    if (!p) { o->oom = 1; return 0; }
    o->buf = p, o->cap = c;
  }
  memcpy(o->buf + o->len, bytes, size);
  o->len += size;
  o->buf[o->len] = 0;
  return 1;
}

/* Shortest "%.Ng" that reads back as the same double, with ".0" added where it would otherwise
 * read back as an integer (1.0, 1.0e+20: the dot also keeps YAML 1.1 readers typing it a float). */
static void format_float(double f, char *buf, size_t n) {
  if (isnan(f)) { snprintf(buf, n, ".nan"); return; }
  if (isinf(f)) { snprintf(buf, n, f < 0 ? "-.inf" : ".inf"); return; }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, n, "%.*g", prec, f);
    if (strtod(buf, NULL) == f) break;
  }
  if (strchr(buf, '.')) return;
  char *e = strchr(buf, 'e');
  if (!e) { strncat(buf, ".0", n - strlen(buf) - 1); return; }
  char exp[16];
  snprintf(exp, sizeof exp, "%s", e);
  snprintf(e, n - (size_t)(e - buf), ".0%s", exp);
}

/* Strings that a YAML 1.1 reader (PyYAML) would type: yes/no/on/off, and anything that starts
 * like a number or a date. Quoting them costs nothing and keeps dumps portable. (y and n are
 * booleans in the YAML 1.1 spec but not in PyYAML or libyaml-based loaders: "n" stays plain.) */
static int looks_typed_in_yaml11(const char *s, size_t len) {
  static const char *const words[] = {"yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON",
                                      "off", "Off", "OFF", NULL};
  for (int i = 0; words[i]; i++)
    if (strlen(words[i]) == len && memcmp(s, words[i], len) == 0) return 1;
  if (len > 0 && s[0] >= '0' && s[0] <= '9') return 1;
  if (len > 1 && (s[0] == '-' || s[0] == '+' || s[0] == '.') && s[1] >= '0' && s[1] <= '9') return 1;
  return 0;
}

static yaml_scalar_style_t string_style(const char *s, size_t len, int is_key) {
  wick_yaml_node typed = {0};
  if (wick_yaml_resolve_plain(s, len, &typed) != WICK_OK || typed.kind != WICK_YAML_STR)
    return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  if ((len == 2 && memcmp(s, "<<", 2) == 0) || looks_typed_in_yaml11(s, len))
    return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  if (!is_key && memchr(s, '\n', len)) return YAML_LITERAL_SCALAR_STYLE;
  return YAML_ANY_SCALAR_STYLE;
}

static wick_status emit_error(yaml_emitter_t *e, outbuf *o) {
  if (o->oom || e->error == YAML_MEMORY_ERROR) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  return wick_errorf(WICK_ERR_ARG, "config: cannot emit YAML: %s",
                     e->problem ? e->problem : "unknown error");
}

static wick_status emit_scalar(yaml_emitter_t *e, outbuf *o, const char *s, size_t len,
                               yaml_scalar_style_t style) {
  yaml_event_t ev;
  if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1, style))
    return wick_errorf(WICK_ERR_ARG, "config: cannot dump a string that is not valid UTF-8");
  if (!yaml_emitter_emit(e, &ev)) return emit_error(e, o);
  return WICK_OK;
}

static wick_status emit_node(yaml_emitter_t *e, outbuf *o, const wick_yaml_node *n, int is_key,
                             int depth) {
  char num[64];
  yaml_event_t ev;
  if (depth > WICK_YAML_MAX_DEPTH)
    return wick_errorf(WICK_ERR_ARG, "config: nesting deeper than %d levels", WICK_YAML_MAX_DEPTH);
  switch (n->kind) {
    case WICK_YAML_NULL: return emit_scalar(e, o, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    case WICK_YAML_BOOL:
      return emit_scalar(e, o, n->v.b ? "true" : "false", n->v.b ? 4 : 5, YAML_PLAIN_SCALAR_STYLE);
    case WICK_YAML_INT:
      snprintf(num, sizeof num, "%" PRId64, n->v.i);
      return emit_scalar(e, o, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
    case WICK_YAML_FLOAT:
      format_float(n->v.f, num, sizeof num);
      return emit_scalar(e, o, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
    case WICK_YAML_STR:
      if (n->v.str.len > INT32_MAX) return wick_errorf(WICK_ERR_ARG, "config: string too long");
      return emit_scalar(e, o, n->v.str.ptr, n->v.str.len,
                         string_style(n->v.str.ptr, n->v.str.len, is_key));
    case WICK_YAML_SEQ: {
      int empty = n->v.seq.n == 0;
      yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                           empty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
      if (!yaml_emitter_emit(e, &ev)) return emit_error(e, o);
      for (size_t i = 0; i < n->v.seq.n; i++) WICK_TRY(emit_node(e, o, n->v.seq.items[i], 0, depth + 1));
      yaml_sequence_end_event_initialize(&ev);
      if (!yaml_emitter_emit(e, &ev)) return emit_error(e, o);
      return WICK_OK;
    }
    case WICK_YAML_MAP: {
      int empty = n->v.map.n == 0;
      yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                          empty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
      if (!yaml_emitter_emit(e, &ev)) return emit_error(e, o);
      for (size_t i = 0; i < n->v.map.n; i++) {
        if (i > 0 && wick_yaml_key_cmp(n->v.map.pairs[i - 1].key, n->v.map.pairs[i].key) >= 0)
          return wick_errorf(WICK_ERR_ARG, "config: mapping not finished (keys unsorted)");
        WICK_TRY(emit_node(e, o, n->v.map.pairs[i].key, 1, depth + 1));
        WICK_TRY(emit_node(e, o, n->v.map.pairs[i].value, 0, depth + 1));
      }
      yaml_mapping_end_event_initialize(&ev);
      if (!yaml_emitter_emit(e, &ev)) return emit_error(e, o);
      return WICK_OK;
    }
  }
  return wick_errorf(WICK_ERR_ARG, "config: bad node kind %d", (int)n->kind);
}

static wick_status emit_document(yaml_emitter_t *e, outbuf *o, const wick_yaml_node *root) {
  yaml_event_t ev;
  yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
  if (!yaml_emitter_emit(e, &ev)) return emit_error(e, o);
  yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
  if (!yaml_emitter_emit(e, &ev)) return emit_error(e, o);
  WICK_TRY(emit_node(e, o, root, 0, 0));
  yaml_document_end_event_initialize(&ev, 1);
  if (!yaml_emitter_emit(e, &ev)) return emit_error(e, o);
  yaml_stream_end_event_initialize(&ev);
  if (!yaml_emitter_emit(e, &ev)) return emit_error(e, o);
  if (!yaml_emitter_flush(e)) return emit_error(e, o);
  return WICK_OK;
}

wick_status wick_yaml_emit(wick_yaml_doc *doc, const wick_yaml_node *root, const char **text,
                           size_t *len) {
  *text = NULL;
  *len = 0;
  yaml_emitter_t e;
  if (!yaml_emitter_initialize(&e)) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  outbuf o = {0};
  yaml_emitter_set_output(&e, write_out, &o);
  yaml_emitter_set_unicode(&e, 1);
  yaml_emitter_set_indent(&e, 2);
  yaml_emitter_set_width(&e, -1); /* never fold long strings */
  wick_status s = emit_document(&e, &o, root);
  yaml_emitter_delete(&e);
  if (s != WICK_OK) { free(o.buf); return s; }
  if (!o.buf && !write_out(&o, (unsigned char *)"", 0)) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  char **out = wick_yaml_doc_out(doc);
  free(*out);
  *out = o.buf;
  *text = o.buf;
  *len = o.len;
  return WICK_OK;
}
