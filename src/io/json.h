/* A small, strict JSON parser (RFC 8259, UTF-8 only, unique object keys, bounded nesting) and
 * a writer for the few shapes wick emits (safetensors headers). No Lua here. */
#ifndef WICK_JSON_H
#define WICK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Arrays and objects nested deeper than this are an error (the parser recurses). */
#define WICK_JSON_MAX_DEPTH 64

typedef enum {
  WICK_JSON_NULL,
  WICK_JSON_BOOL,
  WICK_JSON_INT,    /* an integer literal (no fraction or exponent) that fits in int64 */
  WICK_JSON_NUMBER, /* any other number, kept as written in v.str (no locale-dependent strtod) */
  WICK_JSON_STRING, /* decoded UTF-8 in v.str, NUL-terminated; may hold \u0000 (use len) */
  WICK_JSON_ARRAY,
  WICK_JSON_OBJECT,
} wick_json_kind;

typedef struct wick_json wick_json;

struct wick_json {
  wick_json_kind kind;
  size_t pos;           /* byte offset in the parsed text: of the key for object members */
  wick_json *next;      /* next element of the enclosing array or object, in document order */
  const char *key;      /* when inside an object: the decoded key (NUL-terminated) */
  size_t key_len;
  union {
    bool b;
    int64_t i;
    struct { const char *ptr; size_t len; } str;
    struct { wick_json *first; size_t n; } list; /* ARRAY items / OBJECT members */
  } v;
};

typedef struct wick_json_doc wick_json_doc;

/* Parses exactly one JSON value (surrounded by optional whitespace) from text[0, len). At most
 * max_values values are created (0: no limit), bounding memory on hostile input. On failure
 * returns WICK_ERR_PARSE with "invalid JSON at byte N: <what>" (N 0-based into text) or
 * WICK_ERR_OOM, and *out is NULL. The caller frees *out with wick_json_doc_free. */
wick_status wick_json_parse(const char *text, size_t len, size_t max_values, wick_json_doc **out);
const wick_json *wick_json_root(const wick_json_doc *doc);
void wick_json_doc_free(wick_json_doc *doc); /* NULL is fine */

/* The member of an object with this key (exact bytes), or NULL. */
const wick_json *wick_json_get(const wick_json *obj, const char *key);
/* "null" "boolean" "integer" "number" "string" "array" "object" */
const char *wick_json_kind_name(wick_json_kind k);

/* True when s[0, len) is well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF): what a strict reader on the other side (serde_json) accepts. */
bool wick_utf8_valid(const char *s, size_t len);

/* A growable output buffer. Allocation failure is sticky: check `oom` once at the end. */
typedef struct {
  char *data;
  size_t len, cap;
  bool oom;
} wick_json_writer;

void wick_json_write_raw(wick_json_writer *w, const char *s, size_t len);
/* A quoted string: '"' and '\\' escaped, control characters as \uXXXX, other bytes as they are
 * (the caller checks wick_utf8_valid first). */
void wick_json_write_string(wick_json_writer *w, const char *s, size_t len);
void wick_json_write_int(wick_json_writer *w, int64_t v);
void wick_json_writer_free(wick_json_writer *w);

#endif
