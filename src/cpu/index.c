/* CPU kernels for indexing: index_select (row copies), gather, scatter (assign/add) and the
 * two halves of nonzero. Indices arrive range-checked by core (src/core/index.c). */
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"
#include "iter.h"

/* Parallel loops only pay off past this many bytes moved. */
#define PAR_BYTES (1 << 18)
#ifdef _OPENMP
#define PAR_FOR_IF_PAR _Pragma("omp parallel for if (par)")
#else
#define PAR_FOR_IF_PAR
#endif

static int par_ok(int64_t bytes) {
#ifdef _OPENMP
  return bytes >= PAR_BYTES && omp_get_max_threads() > 1 && !omp_in_parallel();
#else
  (void)bytes;
  return 0;
#endif
}

/* ---- gather-style "take": out[i] = a_r[i] + idx[i] * sd, one element of es bytes ----
 * a_r is a viewed with the indexed dim's stride set to 0; sd is that dim's byte stride. */

typedef struct { int64_t sd; } take_ctx;

#define TAKE_KERNEL(NAME, T)                                                               \
  static void NAME(char **d, const int64_t *s, int64_t n, void *vctx) {                     \
    int64_t sd = ((take_ctx *)vctx)->sd;                                                    \
    const char *a = d[1];                                                                   \
    if (s[0] == sizeof(T) && s[2] == sizeof(int64_t)) {                                     \
      T *o = (T *)d[0];                                                                     \
      const int64_t *ix = (const int64_t *)d[2];                                            \
      for (int64_t i = 0; i < n; i++) o[i] = *(const T *)(a + i * s[1] + ix[i] * sd);       \
    } else {                                                                                \
      for (int64_t i = 0; i < n; i++) {                                                     \
        int64_t k = *(const int64_t *)(d[2] + i * s[2]);                                    \
        *(T *)(d[0] + i * s[0]) = *(const T *)(a + i * s[1] + k * sd);                      \
      }                                                                                     \
    }                                                                                       \
  }

TAKE_KERNEL(take_1, uint8_t)
TAKE_KERNEL(take_2, uint16_t)
TAKE_KERNEL(take_4, uint32_t)
TAKE_KERNEL(take_8, uint64_t)

static wick_inner_fn take_fn(size_t es) {
  switch (es) {
    case 1: return take_1;
    case 2: return take_2;
    case 4: return take_4;
    default: return take_8;
  }
}

/* out, a viewed with out's (= idx_r's) shape and stride 0 at dim, idx_r: one strided pass. */
static void take(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx_r) {
  wick_tensor ar = *a;
  ar.ndim = out->ndim;
  memcpy(ar.sizes, out->sizes, sizeof ar.sizes);
  ar.strides[dim] = 0;
  const wick_tensor *ts[3] = {out, &ar, idx_r};
  wick_iter it;
  wick_iter_init(&it, 3, ts);
  size_t es = wick_dtype_size(a->dtype);
  take_ctx c = {a->strides[dim] * (int64_t)es};
  wick_iter_run(&it, take_fn(es), &c, 2);
}

wick_status wick_cpu_gather(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx) {
  take(out, a, dim, idx);
  return WICK_OK;
}

/* Row copies for a contiguous source and output: the embedding-lookup / batching path. */
#define ROWS_TYPED(T)                                                                      \
  do {                                                                                     \
    T *o = (T *)op;                                                                        \
    const T *s = (const T *)ap;                                                            \
    PAR_FOR_IF_PAR                                                   \
    for (int64_t r = 0; r < rows; r++) {                                                   \
      int64_t j = r % n;                                                                   \
      o[r] = s[(r / n) * asz + ix[j * ist]];                                               \
    }                                                                                      \
  } while (0)

static void select_rows(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx) {
  size_t es = wick_dtype_size(a->dtype);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < dim; i++) outer *= a->sizes[i];
  for (int i = dim + 1; i < a->ndim; i++) inner *= a->sizes[i];
  int64_t n = idx->sizes[0], ist = idx->strides[0], asz = a->sizes[dim], rows = outer * n;
  int64_t bytes = inner * (int64_t)es;
  const int64_t *ix = wick_tensor_data(idx);
  char *op = wick_tensor_data(out);
  const char *ap = wick_tensor_data(a);
  int par = par_ok(rows * bytes) && rows > 1;
  (void)par;
  switch (bytes) {
    case 1: ROWS_TYPED(uint8_t); return;
    case 2: ROWS_TYPED(uint16_t); return;
    case 4: ROWS_TYPED(uint32_t); return;
    case 8: ROWS_TYPED(uint64_t); return;
  }
  PAR_FOR_IF_PAR
  for (int64_t r = 0; r < rows; r++) {
    int64_t j = r % n;
    memcpy(op + r * bytes, ap + ((r / n) * asz + ix[j * ist]) * bytes, (size_t)bytes);
  }
}

wick_status wick_cpu_index_select(wick_tensor *out, const wick_tensor *a, int dim, const wick_tensor *idx) {
  if (wick_tensor_numel(out) == 0) return WICK_OK;
  if (wick_tensor_is_contiguous(a) && wick_tensor_is_contiguous(out)) {
    select_rows(out, a, dim, idx);
    return WICK_OK;
  }
  /* strided: idx seen with out's shape, stride 0 everywhere but dim */
  wick_tensor ir = *idx;
  ir.ndim = out->ndim;
  memcpy(ir.sizes, out->sizes, sizeof ir.sizes);
  for (int i = 0; i < out->ndim; i++) ir.strides[i] = i == dim ? idx->strides[0] : 0;
  take(out, a, dim, &ir);
  return WICK_OK;
}

/* ---- scatter: dst[.., idx[.., k, ..], ..] (op)= src[.., k, ..] ----
 * The loop runs over the index's coordinates other than dim ("rows", in parallel: two rows
 * never write the same element) and along dim inside a row, so duplicate indices within a
 * row are applied in order. */

typedef struct {
  int nd;                             /* outer dims (all but dim) */
  int64_t sizes[WICK_MAX_DIMS];
  int64_t st[3][WICK_MAX_DIMS];       /* byte strides: 0 idx, 1 src, 2 dst */
  int64_t k, kst[2], dsd;             /* length along dim; idx/src byte strides there; dst's */
  const char *idx, *src;
  char *dst;
} sc_geom;

typedef void (*sc_rows_fn)(const sc_geom *g, int64_t begin, int64_t end);

static void sc_start(const sc_geom *g, int64_t r, int64_t *c, int64_t *off) {
  off[0] = off[1] = off[2] = 0;
  for (int d = g->nd - 1; d >= 0; d--) {
    c[d] = r % g->sizes[d];
    r /= g->sizes[d];
    for (int o = 0; o < 3; o++) off[o] += c[d] * g->st[o][d];
  }
}

static void sc_next(const sc_geom *g, int64_t *c, int64_t *off) {
  for (int d = g->nd - 1; d >= 0; d--) {
    for (int o = 0; o < 3; o++) off[o] += g->st[o][d];
    if (++c[d] < g->sizes[d]) return;
    for (int o = 0; o < 3; o++) off[o] -= c[d] * g->st[o][d];
    c[d] = 0;
  }
}

#define SC_ROWS(NAME, T, STMT)                                                             \
  static void NAME(const sc_geom *g, int64_t begin, int64_t end) {                         \
    int64_t c[WICK_MAX_DIMS], off[3];                                                      \
    sc_start(g, begin, c, off);                                                            \
    for (int64_t r = begin; r < end; r++) {                                                \
      const char *ip = g->idx + off[0], *sp = g->src + off[1];                             \
      char *dp = g->dst + off[2];                                                          \
      for (int64_t k = 0; k < g->k; k++) {                                                 \
        T *x = (T *)(dp + *(const int64_t *)(ip + k * g->kst[0]) * g->dsd);                \
        T y = *(const T *)(sp + k * g->kst[1]);                                            \
        STMT;                                                                              \
      }                                                                                    \
      sc_next(g, c, off);                                                                  \
    }                                                                                      \
  }

SC_ROWS(sc_set_1, uint8_t, *x = y)
SC_ROWS(sc_set_2, uint16_t, *x = y)
SC_ROWS(sc_set_4, uint32_t, *x = y)
SC_ROWS(sc_set_8, uint64_t, *x = y)
SC_ROWS(sc_add_f32, float, *x += y)
SC_ROWS(sc_add_f64, double, *x += y)
SC_ROWS(sc_add_i64, uint64_t, *x += y)  /* unsigned: wraps like PyTorch, no UB */
SC_ROWS(sc_add_i32, uint32_t, *x += y)
SC_ROWS(sc_add_u8, uint8_t, *x = (uint8_t)(*x + y))
SC_ROWS(sc_add_bool, uint8_t, *x = (*x | y) != 0)
SC_ROWS(sc_add_f16, uint16_t, *x = wick_f32_to_f16(wick_f16_to_f32(*x) + wick_f16_to_f32(y)))
SC_ROWS(sc_add_bf16, uint16_t, *x = wick_f32_to_bf16(wick_bf16_to_f32(*x) + wick_bf16_to_f32(y)))

static sc_rows_fn sc_fn(wick_dtype dt, int reduce) {
  if (!reduce) {
    switch (wick_dtype_size(dt)) {
      case 1: return sc_set_1;
      case 2: return sc_set_2;
      case 4: return sc_set_4;
      default: return sc_set_8;
    }
  }
  switch (dt) {
    case WICK_DTYPE_F32: return sc_add_f32;
    case WICK_DTYPE_F64: return sc_add_f64;
    case WICK_DTYPE_I64: return sc_add_i64;
    case WICK_DTYPE_I32: return sc_add_i32;
    case WICK_DTYPE_U8: return sc_add_u8;
    case WICK_DTYPE_BOOL: return sc_add_bool;
    case WICK_DTYPE_F16: return sc_add_f16;
    default: return sc_add_bf16;
  }
}

wick_status wick_cpu_scatter(wick_tensor *dst, int dim, const wick_tensor *idx, const wick_tensor *src,
                             int reduce) {
  if (wick_tensor_numel(idx) == 0) return WICK_OK;
  int64_t es = (int64_t)wick_dtype_size(dst->dtype), is = (int64_t)sizeof(int64_t);
  sc_geom g = {0};
  int64_t rows = 1;
  for (int d = 0; d < idx->ndim; d++) {
    if (d == dim) continue;
    g.sizes[g.nd] = idx->sizes[d];
    g.st[0][g.nd] = idx->strides[d] * is;
    g.st[1][g.nd] = src->strides[d] * es;
    g.st[2][g.nd] = dst->strides[d] * es;
    rows *= idx->sizes[d];
    g.nd++;
  }
  g.k = idx->ndim ? idx->sizes[dim] : 1;
  g.kst[0] = idx->ndim ? idx->strides[dim] * is : 0;
  g.kst[1] = src->ndim ? src->strides[dim] * es : 0;
  g.dsd = dst->ndim ? dst->strides[dim] * es : 0;
  g.idx = wick_tensor_data(idx);
  g.src = wick_tensor_data(src);
  g.dst = wick_tensor_data(dst);
  sc_rows_fn fn = sc_fn(dst->dtype, reduce);
#ifdef _OPENMP
  if (rows > 1 && par_ok(rows * g.k * (es + is))) {
    int nt = omp_get_max_threads();
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int c = 0; c < nt; c++) {
      int64_t b = rows * c / nt, e = rows * (c + 1) / nt;
      if (b < e) fn(&g, b, e);
    }
    return WICK_OK;
  }
#endif
  fn(&g, 0, rows);
  return WICK_OK;
}

/* ---- nonzero (the slots of the CPU row; core runs them on a host copy for devices
 * without their own) ---- */

static int is_nonzero(const char *p, wick_dtype dt) {
  switch (dt) {
    case WICK_DTYPE_F32: return *(const float *)p != 0;
    case WICK_DTYPE_F64: return *(const double *)p != 0;
    case WICK_DTYPE_F16: case WICK_DTYPE_BF16: return (*(const uint16_t *)p & 0x7fff) != 0;
    case WICK_DTYPE_I64: return *(const int64_t *)p != 0;
    case WICK_DTYPE_I32: return *(const int32_t *)p != 0;
    default: return *(const uint8_t *)p != 0;
  }
}

/* Visits a's elements in row-major order; fn gets the element and its coordinates. */
static void for_each(const wick_tensor *a, void (*fn)(const char *, const int64_t *, void *), void *ctx) {
  int64_t n = wick_tensor_numel(a), es = (int64_t)wick_dtype_size(a->dtype);
  int64_t c[WICK_MAX_DIMS] = {0};
  const char *p = wick_tensor_data(a);
  for (int64_t i = 0; i < n; i++) {
    fn(p, c, ctx);
    for (int d = a->ndim - 1; d >= 0; d--) {
      p += a->strides[d] * es;
      if (++c[d] < a->sizes[d]) break;
      p -= c[d] * a->strides[d] * es;
      c[d] = 0;
    }
  }
}

typedef struct { wick_dtype dt; int ndim; int64_t count; int64_t *out; } nz_ctx;

static void nz_count(const char *p, const int64_t *c, void *v) {
  nz_ctx *z = v;
  (void)c;
  z->count += is_nonzero(p, z->dt);
}

static void nz_fill(const char *p, const int64_t *c, void *v) {
  nz_ctx *z = v;
  if (!is_nonzero(p, z->dt)) return;
  memcpy(z->out, c, sizeof(int64_t) * (size_t)z->ndim);
  z->out += z->ndim;
}

wick_status wick_cpu_nonzero_count(const wick_tensor *a, int64_t *count) {
  nz_ctx z = {a->dtype, a->ndim, 0, NULL};
  for_each(a, nz_count, &z);
  *count = z.count;
  return WICK_OK;
}

wick_status wick_cpu_nonzero_fill(const wick_tensor *a, wick_tensor *out) {
  nz_ctx z = {a->dtype, a->ndim, 0, wick_tensor_data(out)};
  for_each(a, nz_fill, &z);
  return WICK_OK;
}
