/* Internals shared by the YAML loader, tree and emitter (not part of the public API). */
#ifndef WICK_YAML_DOC_H
#define WICK_YAML_DOC_H

#include "io/yaml.h"

/* A new node of this kind owned by doc (zeroed, expanded = 1), or NULL when out of memory. */
wick_yaml_node *wick_yaml_node_alloc(wick_yaml_doc *doc, wick_yaml_kind kind);
/* Stable-sorts the map's pairs by key and drops repeated keys, keeping the first. Pairs
 * [0, n_explicit) were written in the mapping itself: a key repeated among them sets *dup to
 * the later key node (and the map is left unsorted); later pairs came from merge keys. */
wick_status wick_yaml_map_sort(wick_yaml_node *map, size_t n_explicit, const wick_yaml_node **dup);
/* Orders keys: integers by value, then strings bytewise. */
int wick_yaml_key_cmp(const wick_yaml_node *a, const wick_yaml_node *b);
/* Where wick_yaml_emit keeps its output (freed with the document). */
char **wick_yaml_doc_out(wick_yaml_doc *doc);

#endif
