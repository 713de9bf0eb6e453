/* wick_generator: PyTorch's CPU generator (mt19937 seeded like at::mt19937, a cached normal
 * sample, the 5056-byte state layout of CPUGeneratorImpl), randperm, and the random tensor ops.
 * Lua-free; the DistributedSampler calls wick_randperm with its own generator. */
#ifndef WICK_RNG_H
#define WICK_RNG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "tensor.h"

#define WICK_MT_N 624
/* The seed of a new torch.Generator() (c10::detail::default_rng_seed_val). */
#define WICK_DEFAULT_SEED UINT64_C(67280421310721)
/* Size of the state blob: PyTorch's CPUGeneratorImplState (5048 is its legacy form). */
#define WICK_GENERATOR_STATE_SIZE 5056
#define WICK_GENERATOR_STATE_SIZE_LEGACY 5048

struct wick_generator {
  /* at::mt19937: the engine only ever sees seed & 0xffffffff, but keeps all 64 bits */
  uint32_t state[WICK_MT_N];
  int left;      /* draws until the next twist, plus one (1 right after seeding) */
  uint32_t next; /* index of the next word of state */
  uint64_t seed;
  /* the second Box-Muller value of the scalar normal sampler, as CPUGeneratorImpl keeps it */
  bool has_next_double_normal, has_next_float_normal;
  double next_double_normal;
  float next_float_normal;
  _Atomic int refcount;
  /* held by the batch operations below, as PyTorch holds generator->mutex_ in its kernels */
  pthread_mutex_t lock;
};

/* A new generator seeded with WICK_DEFAULT_SEED (refcount 1); NULL when out of memory. */
wick_generator *wick_generator_new(void);
wick_generator *wick_generator_retain(wick_generator *g);
void wick_generator_release(wick_generator *g); /* NULL is fine */
/* The process-wide default generator (never freed). Seeded at first use from /dev/urandom,
 * as torch.default_generator is seeded at startup. */
wick_generator *wick_default_generator(void);
/* g, or the default generator when g is NULL. */
static inline wick_generator *wick_generator_or_default(wick_generator *g) {
  return g ? g : wick_default_generator();
}

/* Reseeds (torch's manual_seed: any 64-bit value; negative seeds arrive as s mod 2^64). Also
 * drops the cached normal samples. */
void wick_generator_manual_seed(wick_generator *g, uint64_t seed);
uint64_t wick_generator_initial_seed(const wick_generator *g);
/* Reseeds from /dev/urandom (63 bits, so the value is a non-negative Lua integer) and returns it. */
uint64_t wick_generator_seed(wick_generator *g);

/* The state as PyTorch lays out CPUGeneratorImplState (x86-64/aarch64, little-endian):
 * torch.get_rng_state() bytes and ours are interchangeable. */
void wick_generator_get_state(wick_generator *g, uint8_t out[WICK_GENERATOR_STATE_SIZE]);
/* Accepts WICK_GENERATOR_STATE_SIZE or the legacy size; validates like PyTorch. */
wick_status wick_generator_set_state(wick_generator *g, const uint8_t *state, size_t n);

/* ---- raw draws: the caller holds g (one thread at a time) ---- */
void wick_mt_twist(wick_generator *g);
/* CPUGeneratorImpl::random(): one 32-bit draw. */
static inline uint32_t wick_generator_random(wick_generator *g) {
  if (--g->left == 0) wick_mt_twist(g);
  uint32_t y = g->state[g->next++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}
/* CPUGeneratorImpl::random64(): the first draw is the high word. */
static inline uint64_t wick_generator_random64(wick_generator *g) {
  uint64_t hi = wick_generator_random(g);
  return (hi << 32) | wick_generator_random(g);
}
/* n consecutive random() draws, the same as n calls but in blocks. */
void wick_generator_fill_u32(wick_generator *g, uint32_t *out, int64_t n);

/* torch.randperm(n, generator=g) on CPU: the swap Fisher-Yates of PyTorch <= 2.6 (one 32-bit
 * draw per position, plain modulo). out holds n int64. Locks g; g NULL = default. */
wick_status wick_randperm(wick_generator *g, int64_t n, int64_t *out);

/* ---- random tensor ops (random.c): g NULL = default generator; CPU kernels match PyTorch's
 * CPU kernels value for value; other devices fill on the CPU and copy ---- */
/* t.uniform_(from, to) (floating t). */
wick_status wick_uniform_(wick_tensor *t, double from, double to, wick_generator *g);
/* t.normal_(mean, std) (floating t). */
wick_status wick_normal_(wick_tensor *t, double mean, double std, wick_generator *g);
/* t.random_(from, to): integers in [from, to). has_to false: [from, max of t's dtype]. */
wick_status wick_random_(wick_tensor *t, int64_t from, bool has_to, int64_t to, wick_generator *g);
/* t.bernoulli_(p) with a scalar p in [0, 1]. */
wick_status wick_bernoulli_(wick_tensor *t, double p, wick_generator *g);
/* t.bernoulli_(p) with probabilities p broadcast to t. */
wick_status wick_bernoulli_tensor_(wick_tensor *t, const wick_tensor *p, wick_generator *g);
/* torch.bernoulli(p): a new tensor of p's shape and dtype. */
wick_status wick_bernoulli(const wick_tensor *p, wick_generator *g, wick_tensor **out);
/* t.exponential_(lambd). */
wick_status wick_exponential_(wick_tensor *t, double lambd, wick_generator *g);
/* torch.randperm(n, dtype=dtype). */
wick_status wick_randperm_tensor(int64_t n, wick_dtype dtype, wick_device dev, wick_generator *g,
                                 wick_tensor **out);
/* torch.multinomial(p, n, replacement): p 1-d or 2-d (rows) of non-negative weights; out i64. */
wick_status wick_multinomial(const wick_tensor *p, int64_t n, bool replacement, wick_generator *g,
                             wick_tensor **out);
/* torch.normal(mean, std) with tensors (either may be a wrapped number): out = randn * std + mean. */
wick_status wick_normal_tensor(const wick_tensor *mean, const wick_tensor *std, wick_generator *g,
                               wick_tensor **out);

#endif
