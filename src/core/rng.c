/* The mt19937 generator of PyTorch's CPUGeneratorImpl: seeding, draws in blocks, the state
 * blob, the default generator, and randperm. */
#include "rng.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

static inline uint32_t mt_twist1(uint32_t u, uint32_t v) {
  return (((u & MT_UPPER) | (v & MT_LOWER)) >> 1) ^ ((v & 1u) ? MT_MATRIX_A : 0u);
}

/* at::mt19937::next_state (Cokus' form of the reference twist). */
void wick_mt_twist(wick_generator *g) {
  uint32_t *p = g->state;
  int k = 0;
  for (; k < WICK_MT_N - MT_M; k++) p[k] = p[k + MT_M] ^ mt_twist1(p[k], p[k + 1]);
  for (; k < WICK_MT_N - 1; k++) p[k] = p[k + MT_M - WICK_MT_N] ^ mt_twist1(p[k], p[k + 1]);
  p[WICK_MT_N - 1] = p[MT_M - 1] ^ mt_twist1(p[WICK_MT_N - 1], p[0]);
  g->left = WICK_MT_N;
  g->next = 0;
}

void wick_generator_fill_u32(wick_generator *g, uint32_t *out, int64_t n) {
  while (n > 0) {
    /* random() twists when --left reaches 0, so left - 1 words are ready without a twist */
    if (g->left == 1) {
      wick_mt_twist(g);
      g->left = WICK_MT_N + 1;
    }
    int64_t k = g->left - 1;
    if (k > n) k = n;
    const uint32_t *s = g->state + g->next;
    for (int64_t i = 0; i < k; i++) {
      uint32_t y = s[i];
      y ^= y >> 11;
      y ^= (y << 7) & 0x9d2c5680u;
      y ^= (y << 15) & 0xefc60000u;
      y ^= y >> 18;
      out[i] = y;
    }
    g->next += (uint32_t)k;
    g->left -= (int)k;
    out += k;
    n -= k;
  }
}

void wick_generator_manual_seed(wick_generator *g, uint64_t seed) {
  g->seed = seed;
  g->state[0] = (uint32_t)(seed & 0xffffffffu);
  for (uint32_t j = 1; j < WICK_MT_N; j++)
    g->state[j] = 1812433253u * (g->state[j - 1] ^ (g->state[j - 1] >> 30)) + j;
  g->left = 1;
  g->next = 0;
  g->has_next_double_normal = g->has_next_float_normal = false;
  g->next_double_normal = 0;
  g->next_float_normal = 0;
}

uint64_t wick_generator_initial_seed(const wick_generator *g) { return g->seed; }

/* c10::detail::getNonDeterministicRandom on CPU reads /dev/urandom. */
static uint64_t nondeterministic_seed(void) {
  uint64_t s = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, &s, sizeof s) != (ssize_t)sizeof s) s = 0;
    close(fd);
  }
  if (s == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
  }
  return s & INT64_MAX;
}

uint64_t wick_generator_seed(wick_generator *g) {
  uint64_t s = nondeterministic_seed();
  pthread_mutex_lock(&g->lock);
  wick_generator_manual_seed(g, s);
  pthread_mutex_unlock(&g->lock);
  return s;
}

static void generator_init(wick_generator *g, uint64_t seed) {
  memset(g, 0, sizeof *g);
  atomic_init(&g->refcount, 1);
  pthread_mutex_init(&g->lock, NULL);
  wick_generator_manual_seed(g, seed);
}

wick_generator *wick_generator_new(void) {
  wick_generator *g = malloc(sizeof *g);
  if (g) generator_init(g, WICK_DEFAULT_SEED);
  return g;
}

wick_generator *wick_generator_retain(wick_generator *g) {
  atomic_fetch_add(&g->refcount, 1);
  return g;
}

static wick_generator default_gen;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void) {
  generator_init(&default_gen, nondeterministic_seed());
}

wick_generator *wick_default_generator(void) {
  pthread_once(&default_once, default_init);
  return &default_gen;
}

void wick_generator_release(wick_generator *g) {
  if (!g || g == &default_gen) return;
  if (atomic_fetch_sub(&g->refcount, 1) == 1) {
    pthread_mutex_destroy(&g->lock);
    free(g);
  }
}

/* ---- the state blob: byte offsets of CPUGeneratorImplState's fields ---- */
enum {
  ST_SEED = 0,         /* uint64 the_initial_seed */
  ST_LEFT = 8,         /* int left */
  ST_SEEDED = 12,      /* int seeded */
  ST_NEXT = 16,        /* uint64 next */
  ST_STATE = 24,       /* uint64 state[624] */
  ST_NORMAL_X = 5016,  /* double normal_x, normal_y, normal_rho */
  ST_NORMAL_Y = 5024,
  ST_NORMAL_RHO = 5032,
  ST_NORMAL_VALID = 5040, /* int normal_is_valid; 4 bytes of padding end the legacy struct */
  ST_FLOAT_NORMAL = 5048, /* float next_float_normal_sample */
  ST_FLOAT_VALID = 5052,  /* bool is_next_float_normal_sample_valid, then 3 bytes of padding */
};

static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put_i32(uint8_t *p, int32_t v) { memcpy(p, &v, 4); }
static uint64_t get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static int32_t get_i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

void wick_generator_get_state(wick_generator *g, uint8_t out[WICK_GENERATOR_STATE_SIZE]) {
  pthread_mutex_lock(&g->lock);
  memset(out, 0, WICK_GENERATOR_STATE_SIZE);
  put_u64(out + ST_SEED, g->seed);
  put_i32(out + ST_LEFT, g->left);
  put_i32(out + ST_SEEDED, 1);
  put_u64(out + ST_NEXT, g->next);
  for (int i = 0; i < WICK_MT_N; i++) put_u64(out + ST_STATE + 8 * i, g->state[i]);
  if (g->has_next_double_normal) {
    put_i32(out + ST_NORMAL_VALID, 1);
    memcpy(out + ST_NORMAL_Y, &g->next_double_normal, 8);
  }
  if (g->has_next_float_normal) {
    out[ST_FLOAT_VALID] = 1;
    memcpy(out + ST_FLOAT_NORMAL, &g->next_float_normal, 4);
  }
  pthread_mutex_unlock(&g->lock);
}

wick_status wick_generator_set_state(wick_generator *g, const uint8_t *s, size_t n) {
  if (n != WICK_GENERATOR_STATE_SIZE && n != WICK_GENERATOR_STATE_SIZE_LEGACY)
    return wick_errorf(WICK_ERR_ARG,
                       "set_state: expected a state of %d bytes (or %d, PyTorch's legacy layout), "
                       "got %zu bytes", WICK_GENERATOR_STATE_SIZE,
                       WICK_GENERATOR_STATE_SIZE_LEGACY, n);
  int32_t left = get_i32(s + ST_LEFT), seeded = get_i32(s + ST_SEEDED);
  uint64_t next = get_u64(s + ST_NEXT);
  /* at::mt19937::is_valid, on the values the engine would keep (next is narrowed to 32 bits) */
  if (!seeded || left <= 0 || left > WICK_MT_N || (uint32_t)next > WICK_MT_N)
    return wick_errorf(WICK_ERR_ARG, "set_state: invalid mt19937 state (left=%d, next=%llu)",
                       (int)left, (unsigned long long)next);
  bool has_double = get_i32(s + ST_NORMAL_VALID) != 0;
  bool has_float = n == WICK_GENERATOR_STATE_SIZE && s[ST_FLOAT_VALID] != 0;
  pthread_mutex_lock(&g->lock);
  g->seed = get_u64(s + ST_SEED);
  g->left = left;
  g->next = (uint32_t)next;
  for (int i = 0; i < WICK_MT_N; i++) g->state[i] = (uint32_t)get_u64(s + ST_STATE + 8 * i);
  g->has_next_double_normal = has_double;
  g->next_double_normal = 0;
  if (has_double) memcpy(&g->next_double_normal, s + ST_NORMAL_Y, 8);
  g->has_next_float_normal = has_float;
  g->next_float_normal = 0;
  if (has_float) memcpy(&g->next_float_normal, s + ST_FLOAT_NORMAL, 4);
  pthread_mutex_unlock(&g->lock);
  return WICK_OK;
}

/* ---- randperm ---- */

wick_status wick_randperm(wick_generator *g, int64_t n, int64_t *out) {
  if (n < 0) return wick_errorf(WICK_ERR_ARG, "randperm: n must be non-negative, got %lld", (long long)n);
  for (int64_t i = 0; i < n; i++) out[i] = i;
  if (n < 2) return WICK_OK;
  g = wick_generator_or_default(g);
  pthread_mutex_lock(&g->lock);
  /* Fisher-Yates with swaps, drawing for positions 0..n-2 (n-1 draws in all). PyTorch >= 2.7
   * switches to an inside-out shuffle with 64-bit draws at n >= 214748364; 1.13..2.6 do not. */
  uint32_t buf[1024];
  for (int64_t i = 0; i < n - 1;) {
    int64_t k = n - 1 - i < 1024 ? n - 1 - i : 1024;
    wick_generator_fill_u32(g, buf, k);
    for (int64_t j = 0; j < k; j++, i++) {
      int64_t z = (int64_t)((uint64_t)buf[j] % (uint64_t)(n - i));
      int64_t t = out[i];
      out[i] = out[i + z];
      out[i + z] = t;
    }
  }
  pthread_mutex_unlock(&g->lock);
  return WICK_OK;
}
