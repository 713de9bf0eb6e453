/* C unit test of the JSON parser/writer (src/io/json.h) and the safetensors reader/writer
 * (src/io/safetensors.h): values, escapes, limits, error messages, round trips, and every
 * truncation and many byte flips of a valid file (an error each time, never a crash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ops.h"
#include "io/json.h"
#include "io/safetensors.h"

#include "check.h"

static void check_msg(const char *what, const char *expected) {
  if (strcmp(wick_last_error(), expected) != 0) {
    fprintf(stderr, "for %s\n  expected: %s\n  got:      %s\n", what, expected, wick_last_error());
    failures++;
  }
}

/* ---- JSON ---- */

static wick_json_doc *jparse(const char *text) {
  wick_json_doc *doc = NULL;
  if (wick_json_parse(text, strlen(text), 0, &doc) != WICK_OK) {
    fprintf(stderr, "unexpected JSON error for [%s]: %s\n", text, wick_last_error());
    failures++;
  }
  return doc;
}

static void jerror(const char *text, const char *msg) {
  wick_json_doc *doc = NULL;
  if (wick_json_parse(text, strlen(text), 0, &doc) == WICK_OK) {
    fprintf(stderr, "expected a JSON error for [%s]\n", text);
    failures++;
    wick_json_doc_free(doc);
    return;
  }
  check_msg(text, msg);
  CHECK(doc == NULL);
}

static void test_json_values(void) {
  wick_json_doc *doc = jparse(
      " {\"i\": -42, \"big\": 9223372036854775807, \"min\": -9223372036854775808, "
      "\"huge\": 9223372036854775808, \"f\": 1.5e3, \"t\": true, \"n\": null, "
      "\"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"raw\": \"\xc3\xa9\", "
      "\"a\": [1, [2, []], {}], \"nul\": \"x\\u0000y\"}\r\n\t ");
  if (!doc) return;
  const wick_json *r = wick_json_root(doc), *v;
  CHECK(r->kind == WICK_JSON_OBJECT && r->v.list.n == 11);
  v = wick_json_get(r, "i"); CHECK(v && v->kind == WICK_JSON_INT && v->v.i == -42);
  v = wick_json_get(r, "big"); CHECK(v && v->kind == WICK_JSON_INT && v->v.i == INT64_MAX);
  v = wick_json_get(r, "min"); CHECK(v && v->kind == WICK_JSON_INT && v->v.i == INT64_MIN);
  v = wick_json_get(r, "huge");
  CHECK(v && v->kind == WICK_JSON_NUMBER && strcmp(v->v.str.ptr, "9223372036854775808") == 0);
  v = wick_json_get(r, "f"); CHECK(v && v->kind == WICK_JSON_NUMBER && strcmp(v->v.str.ptr, "1.5e3") == 0);
  v = wick_json_get(r, "t"); CHECK(v && v->kind == WICK_JSON_BOOL && v->v.b);
  v = wick_json_get(r, "n"); CHECK(v && v->kind == WICK_JSON_NULL);
  v = wick_json_get(r, "s");
  CHECK(v && v->kind == WICK_JSON_STRING &&
        strcmp(v->v.str.ptr, "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80") == 0);
  v = wick_json_get(r, "raw"); CHECK(v && strcmp(v->v.str.ptr, "\xc3\xa9") == 0);
  v = wick_json_get(r, "a");
  CHECK(v && v->kind == WICK_JSON_ARRAY && v->v.list.n == 3);
  if (v && v->v.list.n == 3) {
    const wick_json *a1 = v->v.list.first->next;
    CHECK(a1->kind == WICK_JSON_ARRAY && a1->v.list.n == 2 && a1->v.list.first->v.i == 2);
    CHECK(a1->v.list.first->next->kind == WICK_JSON_ARRAY && a1->v.list.first->next->v.list.n == 0);
    CHECK(a1->next->kind == WICK_JSON_OBJECT && a1->next->v.list.n == 0);
  }
  v = wick_json_get(r, "nul");
  CHECK(v && v->v.str.len == 3 && memcmp(v->v.str.ptr, "x\0y", 3) == 0);
  CHECK(wick_json_get(r, "missing") == NULL);
  wick_json_doc_free(doc);
  doc = jparse("0");
  if (doc) CHECK(wick_json_root(doc)->kind == WICK_JSON_INT);
  wick_json_doc_free(doc);
}

static void test_json_errors(void) {
  jerror("", "invalid JSON at byte 0: unexpected end of input (expected a value)");
  jerror("   ", "invalid JSON at byte 3: unexpected end of input (expected a value)");
  jerror("{\"a\" 1}", "invalid JSON at byte 5: unexpected '1' (expected ':')");
  jerror("{\"a\":1,}", "invalid JSON at byte 7: unexpected '}' (expected a string key)");
  jerror("[1,]", "invalid JSON at byte 3: unexpected ']' (expected a value)");
  jerror("[1 2]", "invalid JSON at byte 3: unexpected '2' (expected ',' or ']')");
  jerror("{\"a\":1", "invalid JSON at byte 6: unexpected end of input (expected ',' or '}')");
  jerror("{} x", "invalid JSON at byte 3: unexpected 'x' (expected the end after the JSON value)");
  jerror("\"abc", "invalid JSON at byte 0: unterminated string");
  jerror("\"a\\", "invalid JSON at byte 0: unterminated string");
  jerror("\"a\\x\"", "invalid JSON at byte 2: invalid escape '\\x'");
  jerror("\"\\u12g4\"", "invalid JSON at byte 1: invalid \\u escape");
  jerror("\"\\u12\"", "invalid JSON at byte 1: invalid \\u escape");
  jerror("\"\\ud800\"", "invalid JSON at byte 1: lone surrogate in a \\u escape");
  jerror("\"\\udc00\"", "invalid JSON at byte 1: lone surrogate in a \\u escape");
  jerror("\"\\ud800\\u0041\"", "invalid JSON at byte 1: lone surrogate in a \\u escape");
  jerror("\"a\nb\"", "invalid JSON at byte 2: control character 0x0A in a string");
  jerror("\"\xff\"", "invalid JSON at byte 1: invalid UTF-8 in a string");
  jerror("\"\xc0\x80\"", "invalid JSON at byte 1: invalid UTF-8 in a string");       /* overlong */
  jerror("\"\xed\xa0\x80\"", "invalid JSON at byte 1: invalid UTF-8 in a string");   /* surrogate */
  jerror("\"\xe2\x82\"", "invalid JSON at byte 1: invalid UTF-8 in a string");       /* cut */
  jerror("01", "invalid JSON at byte 1: unexpected '1' (expected the end after the JSON value)");
  jerror("-", "invalid JSON at byte 0: invalid number");
  jerror("1.", "invalid JSON at byte 0: invalid number");
  jerror("1e+", "invalid JSON at byte 0: invalid number");
  jerror("+1", "invalid JSON at byte 0: unexpected '+' (expected a value)");
  jerror("tru", "invalid JSON at byte 0: unexpected 't' (expected a value)");
  jerror("nulls", "invalid JSON at byte 4: unexpected 's' (expected the end after the JSON value)");
  jerror("\x01", "invalid JSON at byte 0: unexpected byte 0x01 (expected a value)");
  jerror("{\"a\":1,\"b\":2,\"a\":3}", "invalid JSON at byte 13: duplicate key 'a'");
  /* many members: the sorted duplicate check reports the first repeat in document order */
  char big[4096];
  int n = snprintf(big, sizeof big, "{");
  for (int i = 0; i < 100; i++) n += snprintf(big + n, sizeof big - (size_t)n, "\"k%d\":%d,", i, i);
  snprintf(big + n, sizeof big - (size_t)n, "\"k7\":0,\"k3\":0}");
  wick_json_doc *doc = NULL;
  CHECK(wick_json_parse(big, strlen(big), 0, &doc) == WICK_ERR_PARSE);
  CHECK(strstr(wick_last_error(), "duplicate key 'k7'") != NULL);
  /* nesting */
  char deep[200];
  memset(deep, '[', 64);
  memset(deep + 64, ']', 64);
  deep[128] = 0;
  doc = jparse(deep);
  wick_json_doc_free(doc);
  memset(deep, '[', 65);
  memset(deep + 65, ']', 65);
  deep[130] = 0;
  jerror(deep, "invalid JSON at byte 64: nesting deeper than 64 levels");
  /* value limit */
  CHECK(wick_json_parse("[1,2,3]", 7, 3, &doc) == WICK_ERR_PARSE);
  check_msg("value limit", "invalid JSON at byte 5: more than 3 values");
  CHECK(wick_json_parse("[1,2]", 5, 3, &doc) == WICK_OK);
  wick_json_doc_free(doc);
}

static void test_json_writer(void) {
  wick_json_writer w = {0};
  wick_json_write_string(&w, "a\"b\\c\n\x01\xc3\xa9\x7f", 10);
  wick_json_write_raw(&w, " ", 1);
  wick_json_write_int(&w, INT64_MIN);
  wick_json_write_raw(&w, "", 1); /* NUL terminator for the comparison */
  CHECK(!w.oom && strcmp(w.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\x7f\" -9223372036854775808") == 0);
  /* what it writes parses back to the same bytes, NUL included */
  wick_json_writer w2 = {0};
  wick_json_write_string(&w2, "x\0\"\t\xf0\x9f\x98\x80", 8);
  wick_json_doc *doc = NULL;
  CHECK(wick_json_parse(w2.data, w2.len, 0, &doc) == WICK_OK);
  if (doc) {
    const wick_json *r = wick_json_root(doc);
    CHECK(r->v.str.len == 8 && memcmp(r->v.str.ptr, "x\0\"\t\xf0\x9f\x98\x80", 8) == 0);
  }
  wick_json_doc_free(doc);
  wick_json_writer_free(&w);
  wick_json_writer_free(&w2);
  CHECK(wick_utf8_valid("\xc3\xa9\xf4\x8f\xbf\xbf", 6));
  CHECK(!wick_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
  CHECK(!wick_utf8_valid("\xe0\x80\x80", 3));     /* overlong */
}

/* ---- safetensors header validation ---- */

static void herror(const char *json, uint64_t data_len, const char *msg) {
  wick_safetensors *st = NULL;
  if (wick_safetensors_parse_header(json, strlen(json), data_len, &st) == WICK_OK) {
    fprintf(stderr, "expected a header error for [%s]\n", json);
    failures++;
    wick_safetensors_free(st);
    return;
  }
  check_msg(json, msg);
}

static void test_header(void) {
  wick_safetensors *st = NULL;
  const char *ok = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"I64\",\"shape\":[],"
                   "\"data_offsets\":[80,88]},\"a\":{\"dtype\":\"F32\",\"shape\":[5,4],"
                   "\"data_offsets\":[0,80],\"extra\":1},\"e\":{\"dtype\":\"BF16\",\"shape\":[0,3],"
                   "\"data_offsets\":[40,40]}}";
  CHECK(wick_safetensors_parse_header(ok, strlen(ok), 88, &st) == WICK_OK);
  if (st) {
    CHECK(st->n == 3 && st->nmeta == 1);
    CHECK(strcmp(st->entries[0].name, "b") == 0 && st->entries[0].ndim == 0 &&
          st->entries[0].dtype == WICK_DTYPE_I64 && st->entries[0].begin == 80);
    CHECK(st->entries[1].ndim == 2 && st->entries[1].sizes[1] == 4 && st->entries[1].end == 80);
    CHECK(st->entries[2].dtype == WICK_DTYPE_BF16);
    CHECK(strcmp(st->meta[0].key, "format") == 0 && strcmp(st->meta[0].value, "pt") == 0);
  }
  wick_safetensors_free(st);
  const char *nullmeta = "{\"__metadata__\":null}";
  CHECK(wick_safetensors_parse_header(nullmeta, strlen(nullmeta), 0, &st) == WICK_OK);
  wick_safetensors_free(st);

  herror("[]", 0, "load: the header is not a JSON object (got array)");
  herror("{\"a\":1", 0, "load: invalid JSON at byte 6: unexpected end of input (expected ',' or '}')");
  herror("{\"a\":[]}", 0,
         "load: tensor 'a': expected an object with dtype, shape and data_offsets (got array)");
  herror("{\"a\":{\"shape\":[],\"data_offsets\":[0,4]}}", 4, "load: tensor 'a': missing 'dtype'");
  herror("{\"a\":{\"dtype\":3,\"shape\":[],\"data_offsets\":[0,4]}}", 4,
         "load: tensor 'a': 'dtype' must be a string (got integer)");
  herror("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[],\"data_offsets\":[0,1]}}", 1,
         "load: tensor 'a': unknown dtype 'F8_E4M3' (wick reads BOOL U8 I32 I64 F16 BF16 F32 F64)");
  herror("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "load: tensor 'a': missing 'shape'");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
         "load: tensor 'a': 'shape' must be an array of non-negative integers");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4,
         "load: tensor 'a': 'shape' must be an array of non-negative integers");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,4]}}", 4,
         "load: tensor 'a': 'shape' must be an array of non-negative integers");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
         "load: tensor 'a': shape has 9 dimensions (at most 8 supported)");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4,
         "load: tensor 'a': dimension 99999999999999999999 is too large");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
         "load: tensor 'a': shape [4294967296, 4294967296] is too large");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "load: tensor 'a': missing 'data_offsets'");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
         "load: tensor 'a': 'data_offsets' must be two non-negative integers [begin, end]");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4,
         "load: tensor 'a': 'data_offsets' must be two non-negative integers [begin, end]");
  herror("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[5,4],\"data_offsets\":[0,100]}}", 100,
         "load: tensor 'fc.weight': data_offsets [0, 100] do not match shape [5, 4] of F32 (80 bytes)");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8,
         "load: tensor 'a': data_offsets [8, 4] do not match shape [1] of F32 (4 bytes)");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 8,
         "load: tensor 'a': data_offsets [4, 12] are outside the data section (8 bytes)");
  herror("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[18446744073709551615,"
         "18446744073709551615]}}", 8,
         "load: tensor 'a': data_offsets [18446744073709551615, 18446744073709551615] are outside "
         "the data section (8 bytes)");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
         "load: tensors 'a' and 'b' overlap (data_offsets [0, 8] and [4, 12])");
  /* an overlap hidden behind a shorter range that sorts between them */
  herror("{\"a\":{\"dtype\":\"U8\",\"shape\":[10],\"data_offsets\":[0,10]},"
         "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]},"
         "\"c\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[8,10]}}", 10,
         "load: tensors 'a' and 'b' overlap (data_offsets [0, 10] and [2, 4])");
  herror("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
         "load: invalid JSON at byte 54: duplicate key 'a'");
  herror("{\"__metadata__\":{\"k\":1}}", 0, "load: metadata 'k' must be a string (got integer)");
  herror("{\"__metadata__\":[]}", 0, "load: '__metadata__' must be an object of strings (got array)");
}

/* ---- files ---- */

static char dir[256];

static wick_tensor *arange_f32(int64_t n) {
  wick_tensor *t = NULL;
  if (wick_tensor_new(WICK_DTYPE_F32, wick_cpu(), 1, &n, &t) != WICK_OK) return NULL;
  float *p = wick_tensor_data(t);
  for (int64_t i = 0; i < n; i++) p[i] = (float)i * 0.5f;
  return t;
}

static unsigned char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)len + 1);
  *n = fread(buf, 1, (size_t)len, f);
  fclose(f);
  return buf;
}

static void write_file(const char *path, const unsigned char *buf, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(buf, 1, n, f);
  fclose(f);
}

static void test_roundtrip(void) {
  char path[300];
  snprintf(path, sizeof path, "%s/a.safetensors", dir);
  wick_tensor *w = arange_f32(20), *wv = NULL, *wt = NULL, *b = NULL;
  int64_t sz[2] = {5, 4};
  CHECK(wick_view(w, 2, sz, &wv) == WICK_OK);
  CHECK(wick_transpose(wv, 0, 1, &wt) == WICK_OK); /* [4, 5], not contiguous */
  CHECK(wick_tensor_scalar(WICK_DTYPE_I64, 0, 7, &b) == WICK_OK);
  wick_st_item items[2] = {{"z.bias", 6, b}, {"fc.weight", 9, wt}};
  wick_st_meta meta[1] = {{"format", 6, "pt", 2}};
  CHECK(wick_safetensors_save(path, items, 2, meta, 1) == WICK_OK);
  wick_safetensors *st = NULL;
  CHECK(wick_safetensors_load(path, &st) == WICK_OK);
  if (st) {
    CHECK(st->n == 2 && st->nmeta == 1);
    const wick_st_entry *e = &st->entries[0];
    CHECK(strcmp(e->name, "fc.weight") == 0 && e->ndim == 2 && e->sizes[0] == 4 && e->begin == 0);
    const float *p = wick_tensor_data(e->tensor);
    CHECK(p[0] == 0.0f && p[1] == 2.0f && p[5] == 0.5f); /* the transposed order was written */
    CHECK(st->entries[1].tensor->ndim == 0 &&
          *(int64_t *)wick_tensor_data(st->entries[1].tensor) == 7);
  }
  wick_safetensors_free(st);
  size_t n = 0;
  unsigned char *bytes = read_file(path, &n);
  CHECK(bytes && n == 8 + 160 + 88 && bytes[0] == 160 && (8 + bytes[0]) % 8 == 0);
  /* errors for the same names, in the C API too */
  wick_st_item dup[2] = {{"x", 1, b}, {"x", 1, b}};
  CHECK(wick_safetensors_save(path, dup, 2, NULL, 0) == WICK_ERR_ARG);
  check_msg("duplicate", "save: duplicate tensor name 'x'");
  wick_st_item bad[1] = {{"\xff", 1, b}};
  CHECK(wick_safetensors_save(path, bad, 1, NULL, 0) == WICK_ERR_ARG);
  check_msg("utf8", "save: tensor name '\xff' is not valid UTF-8");
  char nodir[300];
  snprintf(nodir, sizeof nodir, "%s/no/such.safetensors", dir);
  CHECK(wick_safetensors_save(nodir, items, 2, NULL, 0) == WICK_ERR_IO);
  char expect[400];
  snprintf(expect, sizeof expect, "save: cannot create '%s': No such file or directory", nodir);
  check_msg("nodir", expect);

  /* Every truncation: an error, never a crash or a read past the end. */
  char cut[300];
  snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
  for (size_t len = 0; bytes && len < n; len++) {
    write_file(cut, bytes, len);
    st = NULL;
    if (wick_safetensors_load(cut, &st) == WICK_OK) {
      fprintf(stderr, "truncated at %zu bytes loaded\n", len);
      failures++;
    }
    wick_safetensors_free(st);
  }
  /* Flips in the length and header: whatever loads must be self-consistent. */
  srand(1234);
  for (int iter = 0; bytes && iter < 3000; iter++) {
    unsigned char *m = malloc(n);
    memcpy(m, bytes, n);
    int flips = 1 + rand() % 3;
    for (int k = 0; k < flips; k++) {
      size_t at = (size_t)rand() % (8 + 160);
      m[at] = rand() % 4 ? (unsigned char)(m[at] ^ (1u << (rand() % 8))) : (unsigned char)rand();
    }
    write_file(cut, m, n);
    st = NULL;
    if (wick_safetensors_load(cut, &st) == WICK_OK) {
      for (size_t i = 0; i < st->n; i++)
        CHECK(st->entries[i].end <= n && wick_tensor_numel(st->entries[i].tensor) *
              (int64_t)wick_dtype_size(st->entries[i].dtype) ==
              (int64_t)(st->entries[i].end - st->entries[i].begin));
    } else {
      CHECK(strncmp(wick_last_error(), "load: ", 6) == 0);
    }
    wick_safetensors_free(st);
    free(m);
  }
  free(bytes);
  unlink(cut);
  unlink(path);
  wick_tensor_release(w);
  wick_tensor_release(wv);
  wick_tensor_release(wt);
  wick_tensor_release(b);
}

static void test_file_errors(void) {
  char path[300], expect[400];
  snprintf(path, sizeof path, "%s/missing.safetensors", dir);
  wick_safetensors *st = NULL;
  CHECK(wick_safetensors_load(path, &st) == WICK_ERR_IO);
  snprintf(expect, sizeof expect, "load: cannot open '%s': No such file or directory", path);
  check_msg("missing", expect);
  CHECK(wick_safetensors_load(dir, &st) == WICK_ERR_IO);
  snprintf(expect, sizeof expect, "load: '%s' is not a regular file", dir);
  check_msg("directory", expect);
  snprintf(path, sizeof path, "%s/short.safetensors", dir);
  write_file(path, (const unsigned char *)"\x02\0\0", 3);
  CHECK(wick_safetensors_load(path, &st) == WICK_ERR_IO);
  snprintf(expect, sizeof expect, "load: '%s' is too short to be a safetensors file (3 bytes)", path);
  check_msg("short", expect);
  write_file(path, (const unsigned char *)"\xff\xff\xff\xff\xff\xff\xff\xff{}", 10);
  CHECK(wick_safetensors_load(path, &st) == WICK_ERR_IO);
  snprintf(expect, sizeof expect,
           "load: '%s': header length 18446744073709551615 exceeds the file size (10 bytes)", path);
  check_msg("long header", expect);
  unlink(path);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/wick_test_safetensors.XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_json_values();
  test_json_errors();
  test_json_writer();
  test_header();
  test_file_errors();
  test_roundtrip();
  rmdir(dir);
  if (failures) fprintf(stderr, "%d failure(s)\n", failures);
  else printf("test_safetensors: all passed\n");
  return failures != 0;
}
