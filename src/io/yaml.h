/* YAML (libyaml) <-> a C node tree: a data-only loader with YAML 1.2 core-schema typing, and a
 * block-style emitter. No Lua here: src/lua/l_config.c converts nodes to and from tables. */
#ifndef WICK_YAML_H
#define WICK_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Nesting deeper than this (sequences and mappings inside each other) is an error. */
#define WICK_YAML_MAX_DEPTH 200
/* Aliases and merge keys may add at most this many nodes beyond those written in the
 * document: a "billion laughs" document fails at parse time instead of exhausting memory. */
#define WICK_YAML_MAX_ALIAS_NODES 1000000

typedef enum {
  WICK_YAML_NULL,
  WICK_YAML_BOOL,
  WICK_YAML_INT,
  WICK_YAML_FLOAT,
  WICK_YAML_STR,
  WICK_YAML_SEQ,
  WICK_YAML_MAP,
} wick_yaml_kind;

typedef struct wick_yaml_node wick_yaml_node;

/* One key/value pair of a mapping. Keys are always WICK_YAML_INT or WICK_YAML_STR: a plain
 * scalar key that types as an integer stays an integer; any other scalar key (true, 1.5, ~)
 * becomes the string written in the document. */
typedef struct {
  wick_yaml_node *key;
  wick_yaml_node *value;
} wick_yaml_pair;

struct wick_yaml_node {
  wick_yaml_kind kind;
  int line, column; /* 1-based position in the source; 0 for built nodes */
  union {
    int b;
    int64_t i;
    double f;
    struct { char *ptr; size_t len; } str; /* NUL-terminated; may contain NULs */
    struct { wick_yaml_node **items; size_t n, cap; } seq;
    /* Sorted: integer keys by value, then string keys bytewise; no duplicates. */
    struct { wick_yaml_pair *pairs; size_t n, cap; } map;
  } v;
  uint64_t expanded; /* nodes in this node's full expansion (itself included) */
};

/* A document owns all of its nodes. Aliases and merge keys share nodes, so the tree is a DAG:
 * walk it as a tree (each shared node is visited once per reference), never free nodes one by
 * one. */
typedef struct wick_yaml_doc wick_yaml_doc;

/* Parses one YAML document from text[0..len). `name` (a file name, or NULL for a string)
 * appears in error messages: "config: NAME:LINE:COL: problem", or without a name
 * "config: problem at line LINE, column COL". Sets *out to a new document (free it with
 * wick_yaml_doc_free); an empty document has a WICK_YAML_NULL root. */
wick_status wick_yaml_parse(const char *text, size_t len, const char *name, wick_yaml_doc **out);
/* Reads and parses the file at path (its name in messages is the path as given). */
wick_status wick_yaml_parse_file(const char *path, wick_yaml_doc **out);

/* An empty document to build nodes in (for wick_yaml_emit). NULL when out of memory. */
wick_yaml_doc *wick_yaml_doc_new(void);
void wick_yaml_doc_free(wick_yaml_doc *doc);
/* The root node (NULL for a new document until wick_yaml_set_root). Owned by doc. */
wick_yaml_node *wick_yaml_root(const wick_yaml_doc *doc);
void wick_yaml_set_root(wick_yaml_doc *doc, wick_yaml_node *root);

/* Builders: each returns a node owned by doc, or NULL when out of memory. */
wick_yaml_node *wick_yaml_new_null(wick_yaml_doc *doc);
wick_yaml_node *wick_yaml_new_bool(wick_yaml_doc *doc, int b);
wick_yaml_node *wick_yaml_new_int(wick_yaml_doc *doc, int64_t i);
wick_yaml_node *wick_yaml_new_float(wick_yaml_doc *doc, double f);
wick_yaml_node *wick_yaml_new_str(wick_yaml_doc *doc, const char *s, size_t len);
wick_yaml_node *wick_yaml_new_seq(wick_yaml_doc *doc);
wick_yaml_node *wick_yaml_new_map(wick_yaml_doc *doc);
/* Appends item to the sequence. */
wick_status wick_yaml_seq_push(wick_yaml_doc *doc, wick_yaml_node *seq, wick_yaml_node *item);
/* Appends a pair (key must be an INT or STR node). Call wick_yaml_map_finish once all pairs are
 * in: it sorts them and rejects duplicate keys. */
wick_status wick_yaml_map_add(wick_yaml_doc *doc, wick_yaml_node *map, wick_yaml_node *key,
                              wick_yaml_node *value);
wick_status wick_yaml_map_finish(wick_yaml_node *map);
/* The value under a string key, or NULL. */
wick_yaml_node *wick_yaml_map_get(const wick_yaml_node *map, const char *key);

/* Emits root as block-style YAML (keys sorted, strings quoted where they would re-load as
 * another type, floats that re-load as floats). *text (NUL-terminated) is owned by doc and
 * lives until the next emit or wick_yaml_doc_free. */
wick_status wick_yaml_emit(wick_yaml_doc *doc, const wick_yaml_node *root, const char **text,
                           size_t *len);

/* Types a plain scalar with the YAML 1.2 core schema into *out (NULL, BOOL, INT, FLOAT or
 * STR; a STR result carries no string: the caller keeps its text). Returns WICK_ERR_PARSE for
 * an integer that does not fit in 64 bits. */
wick_status wick_yaml_resolve_plain(const char *s, size_t len, wick_yaml_node *out);

#endif
