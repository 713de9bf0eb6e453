/* DDP's gradient reducer: parameters in buckets, each bucket's all-reduce launched from the
 * autograd hooks as soon as all its gradients are in, results written back at backward's end. */
#ifndef WICK_DIST_REDUCER_H
#define WICK_DIST_REDUCER_H

#include "autograd/autograd.h"
#include "dist/process_group.h"

typedef struct wick_reducer wick_reducer;

typedef struct {
  int64_t bytes_sent;        /* bytes of buckets all-reduced, over all iterations */
  int64_t buckets_sent;      /* bucket all-reduces launched, over all iterations */
  int64_t iterations;        /* reductions finished */
  /* the last reduction, seconds of CLOCK_MONOTONIC (wick.perf_counter's clock) */
  double first_hook_s;       /* first gradient ready */
  double first_launch_s;     /* first bucket's all-reduce submitted to the comm thread */
  double last_hook_s;        /* last gradient ready */
  double backward_end_s;     /* the engine ran every node of backward */
  int done_at_backward_end;  /* buckets whose all-reduce had finished by then */
} wick_reducer_stats;

/* params: the n parameters in bucketing order (the caller reverses model order), each a leaf
 * of f32 or f64 that requires grad, all on one device; the reducer retains them and hooks
 * their AccumulateGrad. Buckets fill in that order, one dtype each: the first closes at
 * first_cap_bytes, the others at cap_bytes (a parameter that crosses the cap stays in).
 * pg: the group to all-reduce in (borrowed: it must outlive the reducer), NULL for a world
 * of 1. find_unused: prepare_for_backward walks the graph for unused parameters. */
wick_status wick_reducer_new(int n, wick_tensor *const *params, int64_t first_cap_bytes,
                             int64_t cap_bytes, wick_pg *pg, int world_size, bool find_unused,
                             wick_reducer **out);
/* Unhooks the parameters, waits for any all-reduce in flight, frees. NULL is fine. */
void wick_reducer_free(wick_reducer *r);

/* The next backward reduces gradients. With find_unused, the parameters that the graph of
 * outputs does not reach count as ready (zero, or their current .grad) at the first hook. */
wick_status wick_reducer_prepare_for_backward(wick_reducer *r, int n, wick_tensor *const *outputs);
/* After a prepare whose reduction did not finish (a parameter got no gradient): fills up to
 * cap indices of the parameters not ready and returns how many there are; 0 when finished. */
int wick_reducer_unfinished(const wick_reducer *r, int *indices, int cap);

int wick_reducer_num_buckets(const wick_reducer *r);
/* Bucket b's bytes and parameter indices (borrowed, *count of them). */
int64_t wick_reducer_bucket(const wick_reducer *r, int b, const int **indices, int *count);
wick_reducer_stats wick_reducer_get_stats(const wick_reducer *r);

#endif
