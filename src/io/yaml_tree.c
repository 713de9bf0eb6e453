/* The YAML node tree: documents owning their nodes (allocated in slabs), builders, sorted maps. */
#include <stdlib.h>
#include <string.h>

#include "io/yaml_doc.h"

#define SLAB_NODES 128

typedef struct slab {
  struct slab *next;
  size_t used;
  wick_yaml_node nodes[SLAB_NODES];
} slab;

struct wick_yaml_doc {
  slab *slabs;
  wick_yaml_node *root;
  char *out; /* the last emitted text */
};

wick_yaml_doc *wick_yaml_doc_new(void) { return calloc(1, sizeof(wick_yaml_doc)); }

void wick_yaml_doc_free(wick_yaml_doc *doc) {
  if (!doc) return;
  for (slab *s = doc->slabs, *next; s; s = next) {
    next = s->next;
    for (size_t i = 0; i < s->used; i++) {
      wick_yaml_node *n = &s->nodes[i];
      if (n->kind == WICK_YAML_STR) free(n->v.str.ptr);
      else if (n->kind == WICK_YAML_SEQ) free(n->v.seq.items);
      else if (n->kind == WICK_YAML_MAP) free(n->v.map.pairs);
    }
    free(s);
  }
  free(doc->out);
  free(doc);
}

wick_yaml_node *wick_yaml_root(const wick_yaml_doc *doc) { return doc->root; }
void wick_yaml_set_root(wick_yaml_doc *doc, wick_yaml_node *root) { doc->root = root; }

/* The emitter keeps its output in the document so that the caller never owns a buffer. */
char **wick_yaml_doc_out(wick_yaml_doc *doc) { return &doc->out; }

wick_yaml_node *wick_yaml_node_alloc(wick_yaml_doc *doc, wick_yaml_kind kind) {
  if (!doc->slabs || doc->slabs->used == SLAB_NODES) {
    slab *s = malloc(sizeof *s);
    if (!s) return NULL;
    s->next = doc->slabs;
    s->used = 0;
    doc->slabs = s;
  }
  wick_yaml_node *n = &doc->slabs->nodes[doc->slabs->used++];
  memset(n, 0, sizeof *n);
  n->kind = kind;
  n->expanded = 1;
  return n;
}

wick_yaml_node *wick_yaml_new_null(wick_yaml_doc *doc) {
  return wick_yaml_node_alloc(doc, WICK_YAML_NULL);
}

wick_yaml_node *wick_yaml_new_bool(wick_yaml_doc *doc, int b) {
  wick_yaml_node *n = wick_yaml_node_alloc(doc, WICK_YAML_BOOL);
  if (n) n->v.b = b != 0;
  return n;
}

wick_yaml_node *wick_yaml_new_int(wick_yaml_doc *doc, int64_t i) {
  wick_yaml_node *n = wick_yaml_node_alloc(doc, WICK_YAML_INT);
  if (n) n->v.i = i;
  return n;
}

wick_yaml_node *wick_yaml_new_float(wick_yaml_doc *doc, double f) {
  wick_yaml_node *n = wick_yaml_node_alloc(doc, WICK_YAML_FLOAT);
  if (n) n->v.f = f;
  return n;
}

wick_yaml_node *wick_yaml_new_str(wick_yaml_doc *doc, const char *s, size_t len) {
  char *copy = malloc(len + 1);
  if (!copy) return NULL;
  wick_yaml_node *n = wick_yaml_node_alloc(doc, WICK_YAML_NULL);
  if (!n) { free(copy); return NULL; }
  memcpy(copy, s, len);
  copy[len] = 0;
  n->kind = WICK_YAML_STR;
  n->v.str.ptr = copy;
  n->v.str.len = len;
  return n;
}

wick_yaml_node *wick_yaml_new_seq(wick_yaml_doc *doc) {
  return wick_yaml_node_alloc(doc, WICK_YAML_SEQ);
}

wick_yaml_node *wick_yaml_new_map(wick_yaml_doc *doc) {
  return wick_yaml_node_alloc(doc, WICK_YAML_MAP);
}

static int grow(void **p, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return 1;
  size_t c = *cap ? *cap * 2 : 4;
  void *q = realloc(*p, c * size);
  if (!q) return 0;
  *p = q, *cap = c;
  return 1;
}

wick_status wick_yaml_seq_push(wick_yaml_doc *doc, wick_yaml_node *seq, wick_yaml_node *item) {
  (void)doc;
  if (seq->kind != WICK_YAML_SEQ) return wick_errorf(WICK_ERR_ARG, "config: not a sequence");
  void *items = seq->v.seq.items;
  if (!grow(&items, &seq->v.seq.cap, seq->v.seq.n, sizeof(wick_yaml_node *)))
    return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  seq->v.seq.items = items;
  seq->v.seq.items[seq->v.seq.n++] = item;
  return WICK_OK;
}

wick_status wick_yaml_map_add(wick_yaml_doc *doc, wick_yaml_node *map, wick_yaml_node *key,
                              wick_yaml_node *value) {
  (void)doc;
  if (map->kind != WICK_YAML_MAP) return wick_errorf(WICK_ERR_ARG, "config: not a mapping");
  if (key->kind != WICK_YAML_INT && key->kind != WICK_YAML_STR)
    return wick_errorf(WICK_ERR_ARG, "config: mapping keys must be strings or integers");
  void *pairs = map->v.map.pairs;
  if (!grow(&pairs, &map->v.map.cap, map->v.map.n, sizeof(wick_yaml_pair)))
    return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  map->v.map.pairs = pairs;
  map->v.map.pairs[map->v.map.n++] = (wick_yaml_pair){key, value};
  return WICK_OK;
}

int wick_yaml_key_cmp(const wick_yaml_node *a, const wick_yaml_node *b) {
  if (a->kind != b->kind) return a->kind == WICK_YAML_INT ? -1 : 1;
  if (a->kind == WICK_YAML_INT) return a->v.i < b->v.i ? -1 : a->v.i > b->v.i;
  size_t n = a->v.str.len < b->v.str.len ? a->v.str.len : b->v.str.len;
  int c = memcmp(a->v.str.ptr, b->v.str.ptr, n);
  if (c) return c;
  return a->v.str.len < b->v.str.len ? -1 : a->v.str.len > b->v.str.len;
}

typedef struct { wick_yaml_pair p; size_t idx; } ranked;

/* Merge sort: stable, O(n log n) even for adversarial documents. */
static void sort_ranked(ranked *a, ranked *tmp, size_t n) {
  if (n < 2) return;
  size_t h = n / 2;
  sort_ranked(a, tmp, h);
  sort_ranked(a + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = wick_yaml_key_cmp(a[j].p.key, a[i].p.key) < 0 ? a[j++] : a[i++];
  while (i < h) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

wick_status wick_yaml_map_sort(wick_yaml_node *map, size_t n_explicit, const wick_yaml_node **dup) {
  *dup = NULL;
  size_t n = map->v.map.n;
  if (n < 2) return WICK_OK;
  ranked *a = malloc(2 * n * sizeof *a);
  if (!a) return wick_errorf(WICK_ERR_OOM, "config: out of memory");
  for (size_t i = 0; i < n; i++) a[i] = (ranked){map->v.map.pairs[i], i};
  sort_ranked(a, a + n, n);
  size_t out = 0;
  for (size_t i = 0; i < n; i++) {
    if (out > 0 && wick_yaml_key_cmp(a[out - 1].p.key, a[i].p.key) == 0) {
      if (a[i].idx < n_explicit) { /* both written in this mapping: the later one is the error */
        *dup = a[i].p.key;
        free(a);
        return WICK_OK;
      }
      continue;
    }
    a[out++] = a[i];
  }
  for (size_t i = 0; i < out; i++) map->v.map.pairs[i] = a[i].p;
  map->v.map.n = out;
  free(a);
  return WICK_OK;
}

wick_status wick_yaml_map_finish(wick_yaml_node *map) {
  const wick_yaml_node *dup = NULL;
  WICK_TRY(wick_yaml_map_sort(map, map->v.map.n, &dup));
  if (!dup) return WICK_OK;
  if (dup->kind == WICK_YAML_INT)
    return wick_errorf(WICK_ERR_ARG, "config: duplicate key %lld", (long long)dup->v.i);
  return wick_errorf(WICK_ERR_ARG, "config: duplicate key '%s'", dup->v.str.ptr);
}

wick_yaml_node *wick_yaml_map_get(const wick_yaml_node *map, const char *key) {
  if (!map || map->kind != WICK_YAML_MAP) return NULL;
  wick_yaml_node k = {.kind = WICK_YAML_STR};
  k.v.str.ptr = (char *)key;
  k.v.str.len = strlen(key);
  size_t lo = 0, hi = map->v.map.n;
  while (lo < hi) { /* pairs are sorted */
    size_t mid = lo + (hi - lo) / 2;
    int c = wick_yaml_key_cmp(map->v.map.pairs[mid].key, &k);
    if (c == 0) return map->v.map.pairs[mid].value;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}
