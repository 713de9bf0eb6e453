/* C unit test of the YAML loader and emitter (src/io/yaml.h): typing, anchors, merge keys,
 * limits, error positions, malformed and truncated input, emit round trip. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io/yaml.h"

#include "check.h"

static wick_yaml_doc *parse(const char *text) {
  wick_yaml_doc *doc = NULL;
  if (wick_yaml_parse(text, strlen(text), NULL, &doc) != WICK_OK) {
    fprintf(stderr, "unexpected parse error for [%s]: %s\n", text, wick_last_error());
    failures++;
    return NULL;
  }
  return doc;
}

/* Parsing must fail with exactly this message. */
static void expect_error(const char *text, const char *name, const char *msg) {
  wick_yaml_doc *doc = NULL;
  wick_status s = wick_yaml_parse(text, strlen(text), name, &doc);
  if (s == WICK_OK) {
    fprintf(stderr, "expected an error for [%s]\n", text);
    failures++;
    wick_yaml_doc_free(doc);
    return;
  }
  if (strcmp(wick_last_error(), msg) != 0) {
    fprintf(stderr, "for [%s]\n  expected: %s\n  got:      %s\n", text, msg, wick_last_error());
    failures++;
  }
  CHECK(doc == NULL);
}

static void test_scalars(void) {
  wick_yaml_doc *doc = parse(
      "i: 42\nneg: -7\nhex: 0x1F\noct: 0o17\nf: 1.5\ne: 1e-3\ninf: .inf\nninf: -.inf\n"
      "nan: .nan\nt: true\nT: True\nF: FALSE\nn1: ~\nn2: null\nn3:\ns: abc\nq: \"1\"\n"
      "sq: 'true'\nbig: 1e400\nstr_tag: !!str 12\nfl_tag: !!float 3\ndot: 1.\n");
  if (!doc) return;
  wick_yaml_node *r = wick_yaml_root(doc);
  CHECK(r->kind == WICK_YAML_MAP);
  wick_yaml_node *n;
  n = wick_yaml_map_get(r, "i"); CHECK(n && n->kind == WICK_YAML_INT && n->v.i == 42);
  n = wick_yaml_map_get(r, "neg"); CHECK(n && n->kind == WICK_YAML_INT && n->v.i == -7);
  n = wick_yaml_map_get(r, "hex"); CHECK(n && n->kind == WICK_YAML_INT && n->v.i == 31);
  n = wick_yaml_map_get(r, "oct"); CHECK(n && n->kind == WICK_YAML_INT && n->v.i == 15);
  n = wick_yaml_map_get(r, "f"); CHECK(n && n->kind == WICK_YAML_FLOAT && n->v.f == 1.5);
  n = wick_yaml_map_get(r, "e"); CHECK(n && n->kind == WICK_YAML_FLOAT && n->v.f == 1e-3);
  n = wick_yaml_map_get(r, "inf"); CHECK(n && n->kind == WICK_YAML_FLOAT && isinf(n->v.f) && n->v.f > 0);
  n = wick_yaml_map_get(r, "ninf"); CHECK(n && n->kind == WICK_YAML_FLOAT && isinf(n->v.f) && n->v.f < 0);
  n = wick_yaml_map_get(r, "nan"); CHECK(n && n->kind == WICK_YAML_FLOAT && isnan(n->v.f));
  n = wick_yaml_map_get(r, "t"); CHECK(n && n->kind == WICK_YAML_BOOL && n->v.b == 1);
  n = wick_yaml_map_get(r, "T"); CHECK(n && n->kind == WICK_YAML_BOOL && n->v.b == 1);
  n = wick_yaml_map_get(r, "F"); CHECK(n && n->kind == WICK_YAML_BOOL && n->v.b == 0);
  n = wick_yaml_map_get(r, "n1"); CHECK(n && n->kind == WICK_YAML_NULL);
  n = wick_yaml_map_get(r, "n2"); CHECK(n && n->kind == WICK_YAML_NULL);
  n = wick_yaml_map_get(r, "n3"); CHECK(n && n->kind == WICK_YAML_NULL);
  n = wick_yaml_map_get(r, "s"); CHECK(n && n->kind == WICK_YAML_STR && !strcmp(n->v.str.ptr, "abc"));
  n = wick_yaml_map_get(r, "q"); CHECK(n && n->kind == WICK_YAML_STR && !strcmp(n->v.str.ptr, "1"));
  n = wick_yaml_map_get(r, "sq"); CHECK(n && n->kind == WICK_YAML_STR && !strcmp(n->v.str.ptr, "true"));
  n = wick_yaml_map_get(r, "big"); CHECK(n && n->kind == WICK_YAML_FLOAT && isinf(n->v.f));
  n = wick_yaml_map_get(r, "str_tag"); CHECK(n && n->kind == WICK_YAML_STR && !strcmp(n->v.str.ptr, "12"));
  n = wick_yaml_map_get(r, "fl_tag"); CHECK(n && n->kind == WICK_YAML_FLOAT && n->v.f == 3.0);
  n = wick_yaml_map_get(r, "dot"); CHECK(n && n->kind == WICK_YAML_FLOAT && n->v.f == 1.0);
  CHECK(r->line == 1 && r->column == 1);
  n = wick_yaml_map_get(r, "neg"); CHECK(n && n->line == 2 && n->column == 6);
  wick_yaml_doc_free(doc);

  /* strings that look almost like numbers stay strings */
  const char *strs[] = {"1_000", "0b101", "+0x1", "1.2.3", "yes", "on", "e5", "-", ".", "0x", "2024-01-01"};
  for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
    wick_yaml_node out = {0};
    CHECK(wick_yaml_resolve_plain(strs[i], strlen(strs[i]), &out) == WICK_OK);
    if (out.kind != WICK_YAML_STR) fprintf(stderr, "  '%s' did not type as a string\n", strs[i]);
    CHECK(out.kind == WICK_YAML_STR);
  }
}

static void test_keys_and_collections(void) {
  wick_yaml_doc *doc = parse("{1: a, b: [1, [2, 3]], true: x, 0x10: y}");
  if (!doc) return;
  wick_yaml_node *r = wick_yaml_root(doc);
  CHECK(r->kind == WICK_YAML_MAP && r->v.map.n == 4);
  /* sorted: integer keys first (1, 16), then strings ("b", "true") */
  CHECK(r->v.map.pairs[0].key->kind == WICK_YAML_INT && r->v.map.pairs[0].key->v.i == 1);
  CHECK(r->v.map.pairs[1].key->kind == WICK_YAML_INT && r->v.map.pairs[1].key->v.i == 16);
  CHECK(r->v.map.pairs[2].key->kind == WICK_YAML_STR && !strcmp(r->v.map.pairs[2].key->v.str.ptr, "b"));
  CHECK(r->v.map.pairs[3].key->kind == WICK_YAML_STR && !strcmp(r->v.map.pairs[3].key->v.str.ptr, "true"));
  wick_yaml_node *b = wick_yaml_map_get(r, "b");
  CHECK(b && b->kind == WICK_YAML_SEQ && b->v.seq.n == 2 && b->v.seq.items[1]->v.seq.n == 2);
  wick_yaml_doc_free(doc);

  doc = parse("");
  if (doc) { CHECK(wick_yaml_root(doc)->kind == WICK_YAML_NULL); wick_yaml_doc_free(doc); }
  doc = parse("# only a comment\n");
  if (doc) { CHECK(wick_yaml_root(doc)->kind == WICK_YAML_NULL); wick_yaml_doc_free(doc); }
}

static void test_anchors_and_merge(void) {
  wick_yaml_doc *doc = parse(
      "base: &b {lr: 0.1, momentum: 0.9}\n"
      "extra: &e {wd: 0.01, lr: 0.5}\n"
      "sgd:\n  <<: [*b, *e]\n  lr: 0.2\n"
      "copy: *b\n"
      "list: &l [1, 2]\n"
      "again: *l\n");
  if (!doc) return;
  wick_yaml_node *r = wick_yaml_root(doc);
  wick_yaml_node *sgd = wick_yaml_map_get(r, "sgd");
  CHECK(sgd && sgd->kind == WICK_YAML_MAP && sgd->v.map.n == 3);
  wick_yaml_node *n = wick_yaml_map_get(sgd, "lr");
  CHECK(n && n->v.f == 0.2); /* explicit key wins */
  n = wick_yaml_map_get(sgd, "momentum"); CHECK(n && n->v.f == 0.9);
  n = wick_yaml_map_get(sgd, "wd"); CHECK(n && n->v.f == 0.01);
  CHECK(wick_yaml_map_get(sgd, "<<") == NULL);
  CHECK(wick_yaml_map_get(r, "copy") == wick_yaml_map_get(r, "base")); /* aliases share nodes */
  CHECK(wick_yaml_map_get(r, "again")->v.seq.n == 2);
  wick_yaml_doc_free(doc);

  /* earlier merge sources win over later ones */
  doc = parse("a: &a {x: 1}\nb: &b {x: 2, y: 3}\nc: {<<: [*a, *b]}\n");
  if (doc) {
    wick_yaml_node *c = wick_yaml_map_get(wick_yaml_root(doc), "c");
    CHECK(wick_yaml_map_get(c, "x")->v.i == 1 && wick_yaml_map_get(c, "y")->v.i == 3);
    wick_yaml_doc_free(doc);
  }
  /* a quoted "<<" is an ordinary key */
  doc = parse("\"<<\": 1\n");
  if (doc) { CHECK(wick_yaml_map_get(wick_yaml_root(doc), "<<") != NULL); wick_yaml_doc_free(doc); }
}

static void test_errors(void) {
  expect_error("a: 1\nb: 2\nc: 3\nd: e: f\n", "fashion_mnist.yaml",
               "config: fashion_mnist.yaml:4:5: mapping values are not allowed in this context");
  expect_error("a: 1\nb:\n  c: 2\n    d: !python/object foo\n", NULL,
               "config: mapping values are not allowed in this context at line 4, column 6");
  expect_error("a: 1\nb:\n  - 2\n  - !python/object:os.system foo\n", NULL,
               "config: tag '!python/object:os.system' is not allowed (YAML is data only) at line 4, column 5");
  expect_error("x: !!python/tuple [1, 2]\n", NULL,
               "config: tag '!!python/tuple' is not allowed (YAML is data only) at line 1, column 4");
  expect_error("x: !<tag:example.com,2000:app/foo> 1\n", NULL,
               "config: tag 'tag:example.com,2000:app/foo' is not allowed (YAML is data only) at line 1, column 4");
  expect_error("x: !!int abc\n", NULL, "config: 'abc' is not a valid !!int at line 1, column 4");
  expect_error("x: !!map [1]\n", NULL, "config: tag '!!map' does not fit a sequence at line 1, column 4");
  expect_error("a: 1\nb: 2\na: 3\n", "dup.yaml", "config: dup.yaml:3:1: duplicate key 'a'");
  expect_error("1: x\n0x1: y\n", NULL, "config: duplicate key 1 at line 2, column 1");
  expect_error("a: *nope\n", NULL, "config: undefined alias '*nope' at line 1, column 4");
  expect_error("a: &a [1, *a]\n", NULL, "config: undefined alias '*a' at line 1, column 11");
  expect_error("? [1, 2]\n: x\n", NULL, "config: mapping keys must be scalars at line 1, column 3");
  expect_error("a: {<<: 3}\n", NULL,
               "config: merge key '<<' needs a mapping or a sequence of mappings at line 1, column 5");
  expect_error("n: 99999999999999999999\n", NULL,
               "config: integer 99999999999999999999 does not fit in 64 bits at line 1, column 4");
  expect_error("a: 1\n---\nb: 2\n", NULL,
               "config: found a second document (a config holds exactly one) at line 2, column 1");
  /* truncated documents */
  expect_error("a: [1, 2\n", "t.yaml", "config: t.yaml:2:1: did not find expected ',' or ']'");
  expect_error("a: \"abc\n", NULL,
               "config: found unexpected end of stream at line 2, column 1");
  expect_error("a:\n  b: {c: 1,\n", NULL, "config: did not find expected node content at line 3, column 1");
  /* invalid UTF-8 */
  expect_error("a: \xff\xfe\n", "bin.yaml", "config: bin.yaml:1:4: invalid leading UTF-8 octet");
}

static void test_limits(void) {
  char deep[2 * WICK_YAML_MAX_DEPTH + 10];
  for (int depth = WICK_YAML_MAX_DEPTH; depth <= WICK_YAML_MAX_DEPTH + 1; depth++) {
    size_t k = 0;
    for (int i = 0; i < depth; i++) deep[k++] = '[';
    for (int i = 0; i < depth; i++) deep[k++] = ']';
    deep[k] = 0;
    if (depth == WICK_YAML_MAX_DEPTH) {
      wick_yaml_doc_free(parse(deep)); /* the limit itself is fine */
    } else {
      char msg[128];
      snprintf(msg, sizeof msg, "config: nesting deeper than %d levels at line 1, column %d",
               WICK_YAML_MAX_DEPTH, WICK_YAML_MAX_DEPTH + 1);
      expect_error(deep, NULL, msg);
    }
  }

  const char *laughs =
      "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
      "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
      "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
      "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
  clock_t t0 = clock();
  expect_error(laughs, NULL,
               "config: aliases expand to more than 1000000 nodes (is this a \"billion laughs\" "
               "document?) at line 7, column 4");
  CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
}

static void round_trip(const char *text, const char *expected) {
  wick_yaml_doc *doc = parse(text);
  if (!doc) return;
  const char *out;
  size_t len;
  if (wick_yaml_emit(doc, wick_yaml_root(doc), &out, &len) != WICK_OK) {
    fprintf(stderr, "emit failed: %s\n", wick_last_error());
    failures++;
  } else {
    if (strcmp(out, expected) != 0) {
      fprintf(stderr, "emit of [%s]\n  expected: [%s]\n  got:      [%s]\n", text, expected, out);
      failures++;
    }
    wick_yaml_doc *again = parse(out); /* and it loads back */
    wick_yaml_doc_free(again);
  }
  wick_yaml_doc_free(doc);
}

static void test_emit(void) {
  round_trip("{b: 1, a: 1.0, c: [x, 'true', '1.5', '', 'null'], d: {}, e: [], f: ~}",
             "a: 1.0\nb: 1\nc:\n- x\n- \"true\"\n- \"1.5\"\n- \"\"\n- \"null\"\nd: {}\ne: []\nf: null\n");
  round_trip("[1e20, 0.1, -.inf, .nan, 3, -0.0]",
             "- 1.0e+20\n- 0.1\n- -.inf\n- .nan\n- 3\n- -0.0\n");
  round_trip("{'2': a, 1: b, '<<': c, 'yes': d}", "1: b\n\"2\": a\n\"<<\": c\n\"yes\": d\n");
  round_trip("s: \"two\\nlines\"", "s: |-\n  two\n  lines\n");

  /* built trees: unsorted until map_finish, which also rejects duplicates */
  wick_yaml_doc *doc = wick_yaml_doc_new();
  wick_yaml_node *m = wick_yaml_new_map(doc);
  CHECK(wick_yaml_map_add(doc, m, wick_yaml_new_str(doc, "z", 1), wick_yaml_new_float(doc, 2.0)) == WICK_OK);
  CHECK(wick_yaml_map_add(doc, m, wick_yaml_new_str(doc, "a", 1), wick_yaml_new_bool(doc, 0)) == WICK_OK);
  CHECK(wick_yaml_map_finish(m) == WICK_OK);
  const char *out;
  size_t len;
  CHECK(wick_yaml_emit(doc, m, &out, &len) == WICK_OK && !strcmp(out, "a: false\nz: 2.0\n"));
  CHECK(wick_yaml_map_add(doc, m, wick_yaml_new_str(doc, "a", 1), wick_yaml_new_null(doc)) == WICK_OK);
  CHECK(wick_yaml_map_finish(m) == WICK_ERR_ARG);
  CHECK(!strcmp(wick_last_error(), "config: duplicate key 'a'"));
  wick_yaml_node *bad = wick_yaml_new_str(doc, "\xff", 1);
  CHECK(wick_yaml_emit(doc, bad, &out, &len) == WICK_ERR_ARG);
  CHECK(!strcmp(wick_last_error(), "config: cannot dump a string that is not valid UTF-8"));
  wick_yaml_doc_free(doc);
}

static void test_file(void) {
  wick_yaml_doc *doc = NULL;
  CHECK(wick_yaml_parse_file("/nonexistent/x.yaml", &doc) == WICK_ERR_IO);
  CHECK(!strcmp(wick_last_error(), "config: cannot open '/nonexistent/x.yaml': No such file or directory"));
}

int main(void) {
  test_scalars();
  test_keys_and_collections();
  test_anchors_and_merge();
  test_errors();
  test_limits();
  test_emit();
  test_file();
  if (failures) fprintf(stderr, "test_yaml: %d failure(s)\n", failures);
  else printf("test_yaml: all passed\n");
  return failures != 0;
}
