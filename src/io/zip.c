/* A read-only ZIP reader for PyTorch checkpoints: end of central directory (and its ZIP64
 * record), central directory entries, local headers, stored or deflated (zlib) data. */
#include "zip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Bounds what a hostile archive can make us allocate. */
#define ZIP_MAX_MEMBERS 1000000u
#define ZIP_MAX_INFLATED ((uint64_t)1 << 40)

typedef struct {
  char *name;
  uint16_t method;
  uint32_t crc;
  uint64_t csize, usize, local_offset;
} zip_entry;

struct wick_zip {
  const char *op;
  char *path;
  uint8_t *buf;
  size_t len;
  zip_entry *entries;
  size_t n;
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* [off, off + n) lies inside the buffer. */
static int inside(const wick_zip *z, uint64_t off, uint64_t n) { return off <= z->len && n <= z->len - off; }

static wick_status bad(const wick_zip *z, const char *what) {
  return wick_errorf(WICK_ERR_PARSE, "%s: '%s' is not a valid zip archive (%s)", z->op, z->path, what);
}

void wick_zip_free(wick_zip *z) {
  if (!z) return;
  for (size_t i = 0; i < z->n; i++) free(z->entries[i].name);
  free(z->entries);
  free(z->buf);
  free(z->path);
  free(z);
}

static wick_status read_file(wick_zip *z) {
  FILE *f = fopen(z->path, "rb");
  if (!f) return wick_errorf(WICK_ERR_IO, "%s: cannot open '%s': %s", z->op, z->path, strerror(errno));
  wick_status s = WICK_OK;
  if (fseek(f, 0, SEEK_END) != 0) s = wick_errorf(WICK_ERR_IO, "%s: cannot read '%s'", z->op, z->path);
  long size = s == WICK_OK ? ftell(f) : -1;
  if (s == WICK_OK && (size < 0 || fseek(f, 0, SEEK_SET) != 0))
    s = wick_errorf(WICK_ERR_IO, "%s: cannot read '%s'", z->op, z->path);
  if (s == WICK_OK) {
    z->len = (size_t)size;
    z->buf = malloc(z->len ? z->len : 1);
    if (!z->buf) s = wick_errorf(WICK_ERR_OOM, "%s: out of memory reading '%s' (%ld bytes)", z->op, z->path, size);
    else if (fread(z->buf, 1, z->len, f) != z->len) s = wick_errorf(WICK_ERR_IO, "%s: cannot read '%s'", z->op, z->path);
  }
  fclose(f);
  return s;
}

/* Finds the end of central directory record: 22 bytes plus a comment of up to 65535. */
static wick_status find_eocd(wick_zip *z, uint64_t *cd_off, uint64_t *cd_size, uint64_t *count) {
  if (z->len < 22) return bad(z, "too short");
  size_t lo = z->len > 22 + 65535 ? z->len - 22 - 65535 : 0;
  for (size_t p = z->len - 22 + 1; p-- > lo;) {
    const uint8_t *e = z->buf + p;
    if (rd32(e) != 0x06054b50u) continue;
    if (p + 22 + rd16(e + 20) != z->len) continue; /* the comment must end the file */
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0) return bad(z, "multi-disk archive");
    *count = rd16(e + 10);
    *cd_size = rd32(e + 12);
    *cd_off = rd32(e + 16);
    if (*count == 0xFFFF || *cd_size == 0xFFFFFFFFu || *cd_off == 0xFFFFFFFFu) {
      /* ZIP64: a locator just before points at the ZIP64 end of central directory record */
      if (p < 20 || rd32(e - 20) != 0x07064b50u) return bad(z, "missing ZIP64 locator");
      uint64_t r = rd64(e - 20 + 8);
      if (!inside(z, r, 56) || rd32(z->buf + r) != 0x06064b50u) return bad(z, "bad ZIP64 end record");
      *count = rd64(z->buf + r + 32);
      *cd_size = rd64(z->buf + r + 40);
      *cd_off = rd64(z->buf + r + 48);
    }
    if (!inside(z, *cd_off, *cd_size)) return bad(z, "central directory out of bounds");
    if (*count > ZIP_MAX_MEMBERS || *count > *cd_size / 46) return bad(z, "bad member count");
    return WICK_OK;
  }
  return bad(z, "no end of central directory record");
}

/* ZIP64 extended information: the fields that are 0xFFFFFFFF in the entry, in this order. */
static wick_status zip64_extra(wick_zip *z, const uint8_t *x, size_t xlen, zip_entry *e, int need_u, int need_c,
                               int need_o) {
  size_t p = 0;
  while (p + 4 <= xlen) {
    uint16_t id = rd16(x + p), sz = rd16(x + p + 2);
    if (p + 4 + sz > xlen) return bad(z, "extra field out of bounds");
    if (id == 0x0001) {
      const uint8_t *d = x + p + 4;
      size_t q = 0;
      if (need_u) { if (q + 8 > sz) return bad(z, "short ZIP64 field"); e->usize = rd64(d + q); q += 8; }
      if (need_c) { if (q + 8 > sz) return bad(z, "short ZIP64 field"); e->csize = rd64(d + q); q += 8; }
      if (need_o) { if (q + 8 > sz) return bad(z, "short ZIP64 field"); e->local_offset = rd64(d + q); }
      return WICK_OK;
    }
    p += 4 + (size_t)sz;
  }
  return need_u || need_c || need_o ? bad(z, "missing ZIP64 field") : WICK_OK;
}

static wick_status index_entries(wick_zip *z, uint64_t cd_off, uint64_t cd_size, uint64_t count) {
  z->entries = calloc(count ? count : 1, sizeof *z->entries);
  if (!z->entries) return wick_errorf(WICK_ERR_OOM, "%s: out of memory", z->op);
  uint64_t p = cd_off, end = cd_off + cd_size;
  for (uint64_t i = 0; i < count; i++) {
    if (p + 46 > end) return bad(z, "central directory truncated");
    const uint8_t *c = z->buf + p;
    if (rd32(c) != 0x02014b50u) return bad(z, "bad central directory entry");
    zip_entry *e = &z->entries[z->n];
    uint16_t flags = rd16(c + 8), nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
    if (flags & 1) return bad(z, "encrypted member");
    e->method = rd16(c + 10);
    e->crc = rd32(c + 16);
    e->csize = rd32(c + 20);
    e->usize = rd32(c + 24);
    e->local_offset = rd32(c + 42);
    if (p + 46 + (uint64_t)nlen + xlen + clen > end) return bad(z, "central directory entry out of bounds");
    e->name = malloc((size_t)nlen + 1);
    if (!e->name) return wick_errorf(WICK_ERR_OOM, "%s: out of memory", z->op);
    memcpy(e->name, c + 46, nlen);
    e->name[nlen] = 0;
    z->n++;
    if (memchr(e->name, 0, nlen)) return bad(z, "NUL in a member name");
    WICK_TRY(zip64_extra(z, c + 46 + nlen, xlen, e, e->usize == 0xFFFFFFFFu, e->csize == 0xFFFFFFFFu,
                         e->local_offset == 0xFFFFFFFFu));
    p += 46 + (uint64_t)nlen + xlen + clen;
  }
  return WICK_OK;
}

wick_status wick_zip_open(const char *op, const char *path, wick_zip **out) {
  *out = NULL;
  wick_zip *z = calloc(1, sizeof *z);
  if (!z) return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op);
  z->op = op;
  z->path = strdup(path);
  wick_status s = z->path ? read_file(z) : wick_errorf(WICK_ERR_OOM, "%s: out of memory", op);
  uint64_t cd_off = 0, cd_size = 0, count = 0;
  if (s == WICK_OK) s = find_eocd(z, &cd_off, &cd_size, &count);
  if (s == WICK_OK) s = index_entries(z, cd_off, cd_size, count);
  if (s != WICK_OK) {
    wick_zip_free(z);
    return s;
  }
  *out = z;
  return WICK_OK;
}

size_t wick_zip_count(const wick_zip *z) { return z->n; }
const char *wick_zip_name(const wick_zip *z, size_t i) { return i < z->n ? z->entries[i].name : NULL; }

long wick_zip_find(const wick_zip *z, const char *name) {
  for (size_t i = 0; i < z->n; i++)
    if (strcmp(z->entries[i].name, name) == 0) return (long)i;
  return -1;
}

static wick_status inflate_raw(wick_zip *z, const zip_entry *e, const uint8_t *src, void **owned) {
  if (e->usize > ZIP_MAX_INFLATED || e->usize > (uint64_t)SIZE_MAX - 1 || e->usize / 1032 > e->csize + 1)
    return bad(z, "implausible inflated size");
  uint8_t *dst = malloc(e->usize ? (size_t)e->usize : 1);
  if (!dst) return wick_errorf(WICK_ERR_OOM, "%s: out of memory inflating '%s'", z->op, e->name);
  z_stream st;
  memset(&st, 0, sizeof st);
  if (inflateInit2(&st, -MAX_WBITS) != Z_OK) {
    free(dst);
    return wick_errorf(WICK_ERR_OOM, "%s: cannot start zlib", z->op);
  }
  /* zlib's counters are 32-bit: feed and drain in chunks */
  uint64_t in_left = e->csize, out_left = e->usize;
  const uint8_t *in = src;
  uint8_t *outp = dst;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (st.avail_in == 0 && in_left) {
      st.next_in = (Bytef *)in;
      st.avail_in = in_left > 0x40000000u ? 0x40000000u : (uInt)in_left;
      in += st.avail_in;
      in_left -= st.avail_in;
    }
    if (st.avail_out == 0) {
      st.next_out = outp;
      st.avail_out = out_left > 0x40000000u ? 0x40000000u : (uInt)out_left;
      outp += st.avail_out;
      out_left -= st.avail_out;
    }
    rc = inflate(&st, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && (st.avail_in == 0 && in_left == 0)) break;
    if (rc == Z_BUF_ERROR && st.avail_out == 0 && out_left == 0) break;
    if (rc == Z_BUF_ERROR) rc = Z_OK;
  }
  uint64_t produced = e->usize - out_left - st.avail_out;
  inflateEnd(&st);
  if (rc != Z_STREAM_END || produced != e->usize) {
    free(dst);
    return bad(z, "corrupt deflated member");
  }
  *owned = dst;
  return WICK_OK;
}

wick_status wick_zip_read(wick_zip *z, size_t i, const uint8_t **data, size_t *len, void **owned) {
  *data = NULL;
  *len = 0;
  *owned = NULL;
  if (i >= z->n) return wick_errorf(WICK_ERR_ARG, "%s: no zip member %zu", z->op, i);
  const zip_entry *e = &z->entries[i];
  if (!inside(z, e->local_offset, 30) || rd32(z->buf + e->local_offset) != 0x04034b50u)
    return bad(z, "bad local header");
  const uint8_t *l = z->buf + e->local_offset;
  uint64_t start = e->local_offset + 30 + (uint64_t)rd16(l + 26) + rd16(l + 28);
  if (!inside(z, start, e->csize)) return bad(z, "member data out of bounds");
  const uint8_t *src = z->buf + start;
  if (e->method == 0) {
    if (e->csize != e->usize) return bad(z, "stored member with different sizes");
    *data = src;
  } else if (e->method == 8) {
    WICK_TRY(inflate_raw(z, e, src, owned));
    *data = *owned;
  } else {
    return wick_errorf(WICK_ERR_UNSUPPORTED, "%s: '%s': member '%s' uses compression method %u (only stored and deflated are supported)",
                       z->op, z->path, e->name, (unsigned)e->method);
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t left = e->usize;
  const uint8_t *p = *data;
  while (left) {
    uInt n = left > 0x40000000u ? 0x40000000u : (uInt)left;
    crc = crc32(crc, p, n);
    p += n;
    left -= n;
  }
  if ((uint32_t)crc != e->crc) {
    free(*owned);
    *owned = NULL;
    *data = NULL;
    return wick_errorf(WICK_ERR_PARSE, "%s: '%s': member '%s' fails its CRC check", z->op, z->path, e->name);
  }
  *len = (size_t)e->usize;
  return WICK_OK;
}
