/* C unit test of the generator: mt19937 outputs, block draws, state blob, randperm, and a few
 * PyTorch values (torch 1.13 on x86-64, see spec/ref/rng_ref.py). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rng.h"

#include "check.h"

static void test_mt19937(void) {
  wick_generator *g = wick_generator_new();
  CHECK(wick_generator_initial_seed(g) == WICK_DEFAULT_SEED, "default seed");
  wick_generator_manual_seed(g, 0);
  /* std::mt19937(0) */
  uint32_t want0[3] = {2357136044u, 2546248239u, 3071714933u};
  for (int i = 0; i < 3; i++) {
    uint32_t v = wick_generator_random(g);
    CHECK(v == want0[i], "seed 0 draw %d: %u != %u", i, v, want0[i]);
  }
  /* the C++ standard's check: the 10000th output of mt19937 seeded 5489 is 4123659995 */
  wick_generator_manual_seed(g, 5489);
  uint32_t v = 0;
  for (int i = 0; i < 10000; i++) v = wick_generator_random(g);
  CHECK(v == 4123659995u, "10000th draw %u", v);
  /* only the low 32 bits seed the engine, all 64 are reported */
  wick_generator_manual_seed(g, (UINT64_C(1) << 32) + 7);
  uint32_t a = wick_generator_random(g);
  wick_generator_manual_seed(g, 7);
  CHECK(a == wick_generator_random(g), "seed 2^32+7 == seed 7 for the engine");
  wick_generator_manual_seed(g, UINT64_MAX);
  CHECK(wick_generator_initial_seed(g) == UINT64_MAX, "initial_seed keeps 64 bits");
  /* random64: first draw is the high word */
  wick_generator_manual_seed(g, 0);
  uint64_t r64 = wick_generator_random64(g);
  CHECK(r64 == ((uint64_t)2357136044u << 32 | 2546248239u), "random64 %llu", (unsigned long long)r64);
  wick_generator_release(g);
}

static void test_fill_blocks(void) {
  wick_generator *a = wick_generator_new(), *b = wick_generator_new();
  uint32_t buf[3000];
  /* blocks of odd sizes across twists give the same stream as single draws */
  int sizes[] = {1, 622, 1, 624, 625, 1000, 127};
  int at = 0;
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    wick_generator_fill_u32(a, buf, sizes[k]);
    for (int i = 0; i < sizes[k]; i++, at++) {
      uint32_t v = wick_generator_random(b);
      if (buf[i] != v) {
        CHECK(0, "fill_u32 block %zu index %d (draw %d): %u != %u", k, i, at, buf[i], v);
        break;
      }
    }
  }
  wick_generator_release(a);
  wick_generator_release(b);
}

static void test_state(void) {
  wick_generator *g = wick_generator_new();
  uint8_t st[WICK_GENERATOR_STATE_SIZE], st2[WICK_GENERATOR_STATE_SIZE];
  wick_generator_manual_seed(g, 5);
  for (int i = 0; i < 3; i++) wick_generator_random(g);
  wick_generator_get_state(g, st);
  /* torch.manual_seed(5); torch.rand(3); torch.get_rng_state()[:32] */
  uint8_t head[32] = {5, 0, 0, 0, 0, 0, 0, 0, 110, 2, 0, 0, 1, 0, 0, 0,
                      3, 0, 0, 0, 0, 0, 0, 0, 75, 238, 72, 243, 0, 0, 0, 0};
  CHECK(memcmp(st, head, 32) == 0, "state header differs from torch's");
  uint32_t after[4];
  for (int i = 0; i < 4; i++) after[i] = wick_generator_random(g);
  wick_generator *h = wick_generator_new();
  CHECK(wick_generator_set_state(h, st, sizeof st) == WICK_OK, "set_state: %s", wick_last_error());
  for (int i = 0; i < 4; i++) CHECK(wick_generator_random(h) == after[i], "restored draw %d", i);
  CHECK(wick_generator_initial_seed(h) == 5, "restored seed");
  wick_generator_get_state(g, st2);
  CHECK(memcmp(st, st2, sizeof st) != 0, "state moved");
  /* bad blobs */
  CHECK(wick_generator_set_state(h, st, 10) == WICK_ERR_ARG, "size 10 accepted");
  CHECK(strcmp(wick_last_error(), "set_state: expected a state of 5056 bytes (or 5048, PyTorch's "
                                  "legacy layout), got 10 bytes") == 0, "message: %s", wick_last_error());
  memset(st2, 0, sizeof st2);
  CHECK(wick_generator_set_state(h, st2, sizeof st2) == WICK_ERR_ARG, "zero state accepted");
  wick_generator_release(g);
  wick_generator_release(h);
}

static void test_randperm(void) {
  wick_generator *g = wick_generator_new();
  int64_t p[1000];
  /* a fresh torch.Generator(): torch.randperm(10, generator=g) */
  int64_t fresh[10] = {0, 3, 7, 5, 2, 9, 8, 1, 4, 6};
  CHECK(wick_randperm(g, 10, p) == WICK_OK, "randperm");
  for (int i = 0; i < 10; i++) CHECK(p[i] == fresh[i], "fresh generator: p[%d] = %lld", i, (long long)p[i]);
  /* the DistributedSampler vectors: seed 0, n 10 and seed 42, n 7 */
  int64_t s0[10] = {4, 1, 7, 5, 3, 9, 0, 8, 6, 2}, s42[7] = {1, 6, 3, 5, 4, 0, 2};
  wick_generator_manual_seed(g, 0);
  wick_randperm(g, 10, p);
  for (int i = 0; i < 10; i++) CHECK(p[i] == s0[i], "seed 0: p[%d] = %lld", i, (long long)p[i]);
  wick_generator_manual_seed(g, 42);
  wick_randperm(g, 7, p);
  for (int i = 0; i < 7; i++) CHECK(p[i] == s42[i], "seed 42: p[%d] = %lld", i, (long long)p[i]);
  /* n = 0 and 1 draw nothing */
  wick_generator_manual_seed(g, 3);
  CHECK(wick_randperm(g, 0, p) == WICK_OK, "n 0");
  CHECK(wick_randperm(g, 1, p) == WICK_OK && p[0] == 0, "n 1");
  uint32_t first = wick_generator_random(g);
  wick_generator_manual_seed(g, 3);
  CHECK(first == wick_generator_random(g), "n 0 and 1 made draws");
  /* a permutation for a larger n */
  wick_generator_manual_seed(g, 9);
  wick_randperm(g, 1000, p);
  int seen[1000] = {0};
  for (int i = 0; i < 1000; i++)
    if (p[i] >= 0 && p[i] < 1000) seen[p[i]]++;
  int ok = 1;
  for (int i = 0; i < 1000; i++) ok &= seen[i] == 1;
  CHECK(ok, "randperm(1000) is not a permutation");
  CHECK(wick_randperm(g, -1, p) == WICK_ERR_ARG, "negative n");
  CHECK(strcmp(wick_last_error(), "randperm: n must be non-negative, got -1") == 0, "%s", wick_last_error());
  wick_generator_release(g);
}

static float f32_at(const wick_tensor *t, int i) { return ((const float *)wick_tensor_data(t))[i]; }

static void test_tensor_fills(void) {
  wick_generator *g = wick_generator_new();
  wick_tensor *t;
  int64_t n = 17;
  wick_tensor_new(WICK_DTYPE_F32, wick_cpu(), 1, &n, &t);
  /* torch.manual_seed(0); torch.rand(3) */
  wick_generator_manual_seed(g, 0);
  CHECK(wick_uniform_(t, 0, 1, g) == WICK_OK, "uniform_");
  float r[3] = {0.49625659f, 0.768221796f, 0.0884774327f};
  for (int i = 0; i < 3; i++) CHECK(f32_at(t, i) == r[i], "rand[%d] = %.9g", i, f32_at(t, i));
  /* torch.manual_seed(0); torch.randn(17): normal_fill with a redrawn tail */
  wick_generator_manual_seed(g, 0);
  CHECK(wick_normal_(t, 0, 1, g) == WICK_OK, "normal_");
  float nv[6] = {-1.12583983f, -1.6959312f, 0.566650629f, 0.946298361f, -0.843676746f, 0.931826591f};
  int at[6] = {0, 1, 2, 14, 15, 16};
  for (int i = 0; i < 6; i++)
    CHECK(f32_at(t, at[i]) == nv[i], "randn(17)[%d] = %.9g, want %.9g", at[i], f32_at(t, at[i]), nv[i]);
  wick_tensor_release(t);
  /* torch.manual_seed(0); torch.randint(0, 10, (8,)); torch.randint(-3, 2**40, (2,)) */
  n = 8;
  wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 1, &n, &t);
  wick_generator_manual_seed(g, 0);
  CHECK(wick_random_(t, 0, true, 10, g) == WICK_OK, "random_");
  int64_t ri[8] = {4, 9, 3, 0, 3, 9, 7, 3};
  for (int i = 0; i < 8; i++) CHECK(((int64_t *)wick_tensor_data(t))[i] == ri[i], "randint[%d]", i);
  wick_tensor_release(t);
  n = 2;
  wick_tensor_new(WICK_DTYPE_I64, wick_cpu(), 1, &n, &t);
  CHECK(wick_random_(t, -3, true, INT64_C(1) << 40, g) == WICK_OK, "random_ wide");
  CHECK(((int64_t *)wick_tensor_data(t))[0] == INT64_C(41311568100) &&
        ((int64_t *)wick_tensor_data(t))[1] == INT64_C(91812711164), "randint with random64");
  CHECK(wick_random_(t, 5, true, 5, g) == WICK_ERR_ARG &&
        strcmp(wick_last_error(), "random_ expects 'from' to be less than 'to', but got from=5 >= to=5") == 0,
        "%s", wick_last_error());
  wick_tensor_release(t);
  wick_generator_release(g);
}

int main(void) {
  test_mt19937();
  test_fill_blocks();
  test_state();
  test_randperm();
  test_tensor_fills();
  if (failures) printf("%d failure(s)\n", failures);
  else printf("test_rng: all passed\n");
  return failures != 0;
}
