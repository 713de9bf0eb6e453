/* The TCP store server: one poll()-driven thread serving every client of a run. Every frame
 * length is checked before anything is buffered, and a connection must present the shared
 * secret first: a malformed or unauthenticated client is dropped, never trusted. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dist/store.h"
#include "dist/store_util.h"

/* the largest request: compare_set with two full values, or a wait on many long keys */
#define MAX_FRAME (2u * WICK_STORE_MAX_VALUE + 2u * WICK_STORE_MAX_KEY + 64u)
#define MAX_HELLO_FRAME (5u + WICK_STORE_MAX_SECRET)

typedef struct { char *key; char *val; size_t vlen; } entry;

typedef struct {
  int fd, authed;
  char peer[64];
  unsigned char *buf;
  size_t len, cap;
  /* a pending wait: the keys and when it times out */
  char **wkeys;
  int nw, waiting;
  int64_t deadline;
  int64_t hello_by; /* an unauthenticated connection must present the secret by then */
} conn;

#define HELLO_MS 10000

struct wick_store_server {
  int listen_fd, wake[2], port;
  pid_t owner;
  pthread_t thread;
  char secret[WICK_STORE_MAX_SECRET];
  size_t secret_len;
  conn *conns;
  int nconns, capconns;
  entry *entries;
  int n, cap;
};

/* ---- the key-value table (runs hold a few hundred keys: a linear scan is enough) ---- */

static entry *find(wick_store_server *s, const char *k, size_t klen) {
  for (int i = 0; i < s->n; i++)
    if (strlen(s->entries[i].key) == klen && memcmp(s->entries[i].key, k, klen) == 0) return &s->entries[i];
  return NULL;
}

static int put(wick_store_server *s, const char *k, size_t klen, const char *v, size_t vlen) {
  char *nv = malloc(vlen + 1);
  if (!nv) return 0;
  memcpy(nv, v, vlen);
  nv[vlen] = 0;
  entry *e = find(s, k, klen);
  if (!e) {
    if (s->n == s->cap) {
      int cap = s->cap ? 2 * s->cap : 64;
      entry *ne = realloc(s->entries, (size_t)cap * sizeof *ne);
      if (!ne) { free(nv); return 0; }
      s->entries = ne;
      s->cap = cap;
    }
    char *nk = strndup(k, klen);
    if (!nk) { free(nv); return 0; }
    e = &s->entries[s->n++];
    e->key = nk;
    e->val = NULL;
  }
  free(e->val);
  e->val = nv;
  e->vlen = vlen;
  return 1;
}

/* ---- replies ---- */

static void reply(conn *c, int status, const void *a, size_t alen, int with_len) {
  size_t n = 1 + (with_len ? 4 : 0) + alen;
  unsigned char *f = malloc(4 + n);
  if (!f) return;
  wick_store_put_u32(f, (uint32_t)n);
  f[4] = (unsigned char)status;
  if (with_len) wick_store_put_u32(f + 5, (uint32_t)alen);
  if (alen) memcpy(f + 5 + (with_len ? 4 : 0), a, alen);
  wick_store_send_all(c->fd, f, 4 + n); /* a client that stops reading is dropped by SO_SNDTIMEO */
  free(f);
}

static void reply_i64(conn *c, int status, int64_t v) {
  unsigned char b[8];
  wick_store_put_i64(b, v);
  reply(c, status, b, 8, 0);
}

static void clear_wait(conn *c) {
  for (int i = 0; i < c->nw; i++) free(c->wkeys[i]);
  free(c->wkeys);
  c->wkeys = NULL;
  c->nw = c->waiting = 0;
}

static int wait_done(wick_store_server *s, conn *c) {
  for (int i = 0; i < c->nw; i++)
    if (!find(s, c->wkeys[i], strlen(c->wkeys[i]))) return 0;
  return 1;
}

/* After a write, wake the waiters whose keys now all exist. */
static void notify(wick_store_server *s) {
  for (int i = 0; i < s->nconns; i++) {
    conn *c = &s->conns[i];
    if (c->waiting && wait_done(s, c)) {
      clear_wait(c);
      reply(c, WICK_STORE_OK, NULL, 0, 0);
    }
  }
}

/* ---- requests ---- */

/* Returns 0 when the frame is malformed (the connection is then closed). */
static int handle(wick_store_server *s, conn *c, const unsigned char *p, size_t n) {
  wick_store_reader r = { p + 1, n - 1, 0 };
  int op = p[0];
  const char *k, *v, *v2;
  size_t kl, vl, vl2;
  if (!c->authed) {
    if (op != WICK_STORE_HELLO || !wick_store_rd_str(&r, &k, &kl, WICK_STORE_MAX_SECRET) || r.left)
      return 0;
    if (!wick_store_secret_equal(k, kl, s->secret, s->secret_len)) return 0;
    c->authed = 1;
    reply(c, WICK_STORE_OK, NULL, 0, 0);
    return 1;
  }
  switch (op) {
  case WICK_STORE_SET:
    if (!wick_store_rd_key(&r, &k, &kl) || !wick_store_rd_str(&r, &v, &vl, WICK_STORE_MAX_VALUE) || r.left) return 0;
    reply(c, put(s, k, kl, v, vl) ? WICK_STORE_OK : WICK_STORE_BAD, NULL, 0, 0);
    notify(s);
    return 1;
  case WICK_STORE_GET: {
    if (!wick_store_rd_key(&r, &k, &kl) || r.left) return 0;
    entry *e = find(s, k, kl);
    if (e) reply(c, WICK_STORE_OK, e->val, e->vlen, 1);
    else reply(c, WICK_STORE_MISSING, NULL, 0, 1);
    return 1;
  }
  case WICK_STORE_ADD: {
    int64_t d;
    if (!wick_store_rd_key(&r, &k, &kl) || !wick_store_rd_i64(&r, &d) || r.left) return 0;
    entry *e = find(s, k, kl);
    long long cur = 0;
    if (e) {
      char *end;
      errno = 0;
      cur = strtoll(e->val, &end, 10);
      if (errno || end == e->val || *end || e->vlen != strlen(e->val)) {
        reply_i64(c, WICK_STORE_BAD, 0); /* not an integer */
        return 1;
      }
    }
    cur = (long long)((uint64_t)cur + (uint64_t)d);
    char num[32];
    int len = snprintf(num, sizeof num, "%lld", cur);
    reply_i64(c, put(s, k, kl, num, (size_t)len) ? WICK_STORE_OK : WICK_STORE_BAD, cur);
    notify(s);
    return 1;
  }
  case WICK_STORE_CAS: {
    if (!wick_store_rd_key(&r, &k, &kl) || !wick_store_rd_str(&r, &v, &vl, WICK_STORE_MAX_VALUE) ||
        !wick_store_rd_str(&r, &v2, &vl2, WICK_STORE_MAX_VALUE) || r.left)
      return 0;
    entry *e = find(s, k, kl);
    if (e && !(e->vlen == vl && memcmp(e->val, v, vl) == 0)) {
      reply(c, WICK_STORE_OK, e->val, e->vlen, 1); /* differs: the current value */
    } else if (!e && vl != 0) {
      reply(c, WICK_STORE_OK, v, vl, 1); /* missing and expected non-empty: expected back */
    } else {
      int ok = put(s, k, kl, v2, vl2);
      reply(c, ok ? WICK_STORE_OK : WICK_STORE_BAD, v2, vl2, 1);
      notify(s);
    }
    return 1;
  }
  case WICK_STORE_WAIT:
  case WICK_STORE_CHECK: {
    int64_t ms = 0, cnt;
    if (op == WICK_STORE_WAIT && !wick_store_rd_i64(&r, &ms)) return 0;
    if (!wick_store_rd_i64(&r, &cnt) || cnt < 0 || cnt > WICK_STORE_MAX_WAIT_KEYS) return 0;
    char **keys = calloc((size_t)cnt + 1, sizeof *keys);
    if (!keys) return 0;
    int nk = 0, ok = 1;
    for (; nk < cnt; nk++) {
      if (!wick_store_rd_key(&r, &k, &kl) || !(keys[nk] = strndup(k, kl))) { ok = 0; break; }
    }
    c->wkeys = keys;
    c->nw = nk;
    if (!ok || r.left) { clear_wait(c); return 0; }
    int done = wait_done(s, c);
    if (op == WICK_STORE_CHECK) {
      clear_wait(c);
      reply_i64(c, WICK_STORE_OK, done);
    } else if (done) {
      clear_wait(c);
      reply(c, WICK_STORE_OK, NULL, 0, 0);
    } else {
      c->waiting = 1;
      c->deadline = wick_store_now_ms() + (ms < 0 ? 0 : ms);
    }
    return 1;
  }
  case WICK_STORE_DELETE: {
    if (!wick_store_rd_key(&r, &k, &kl) || r.left) return 0;
    entry *e = find(s, k, kl);
    if (e) {
      free(e->key);
      free(e->val);
      *e = s->entries[--s->n];
    }
    reply_i64(c, WICK_STORE_OK, e != NULL);
    return 1;
  }
  case WICK_STORE_NUM_KEYS:
    if (r.left) return 0;
    reply_i64(c, WICK_STORE_OK, s->n);
    return 1;
  default:
    return 0;
  }
}

/* ---- connections ---- */

static void drop(wick_store_server *s, int i, const char *why) {
  conn *c = &s->conns[i];
  if (why) {
    fprintf(stderr, "store: %s a connection from %s: %s\n", c->authed ? "closed" : "rejected", c->peer, why);
    fflush(stderr);
  }
  close(c->fd);
  free(c->buf);
  clear_wait(c);
  s->conns[i] = s->conns[--s->nconns];
}

static void accept_one(wick_store_server *s) {
  struct sockaddr_storage a;
  socklen_t al = sizeof a;
  int fd = accept(s->listen_fd, (struct sockaddr *)&a, &al);
  if (fd < 0) return;
  if (s->nconns == s->capconns) {
    int cap = s->capconns ? 2 * s->capconns : 16;
    conn *nc = realloc(s->conns, (size_t)cap * sizeof *nc);
    if (!nc) { close(fd); return; }
    s->conns = nc;
    s->capconns = cap;
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  struct timeval tv = { 10, 0 };
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  conn *c = &s->conns[s->nconns++];
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->hello_by = wick_store_now_ms() + HELLO_MS;
  char host[48] = "?", port[16] = "?";
  getnameinfo((struct sockaddr *)&a, al, host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
  snprintf(c->peer, sizeof c->peer, "%s:%s", host, port);
}

/* Reads what is there and runs the complete frames. Returns 0 when the connection must go
 * (*why says why, NULL for a plain hang-up). */
static int service(wick_store_server *s, conn *c, const char **why) {
  unsigned char tmp[65536];
  ssize_t got = recv(c->fd, tmp, sizeof tmp, MSG_DONTWAIT);
  if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
    *why = c->authed || c->len == 0 ? NULL : "wrong secret";
    return 0;
  }
  if (got < 0) return 1;
  size_t limit = !c->authed ? MAX_HELLO_FRAME : MAX_FRAME;
  size_t off = 0;
  while (off < (size_t)got) {
    /* buffer only up to the end of the current frame, whose length is checked first */
    size_t want = 4;
    if (c->len >= 4) {
      uint32_t fl = wick_store_get_u32(c->buf);
      if (fl == 0 || fl > limit) { *why = c->authed ? "malformed frame" : "wrong secret"; return 0; }
      want = 4 + (size_t)fl;
    }
    size_t take = want - c->len < (size_t)got - off ? want - c->len : (size_t)got - off;
    if (c->len + take > c->cap) {
      size_t cap = c->len + take < 4096 ? 4096 : c->len + take;
      unsigned char *nb = realloc(c->buf, cap);
      if (!nb) { *why = "out of memory"; return 0; }
      c->buf = nb;
      c->cap = cap;
    }
    memcpy(c->buf + c->len, tmp + off, take);
    c->len += take;
    off += take;
    if (c->len == 4 && want == 4) {
      /* a complete header: refuse a bad length now, before waiting for its bytes */
      uint32_t fl = wick_store_get_u32(c->buf);
      if (fl == 0 || fl > limit) { *why = c->authed ? "malformed frame" : "wrong secret"; return 0; }
      continue;
    }
    if (c->len == want) {
      if (c->waiting) { *why = "request during a wait"; return 0; }
      int was_authed = c->authed;
      if (!handle(s, c, c->buf + 4, want - 4)) { *why = was_authed ? "malformed frame" : "wrong secret"; return 0; }
      c->len = 0;
      limit = MAX_FRAME;
      if (c->cap > 65536) { free(c->buf); c->buf = NULL; c->cap = 0; }
    }
  }
  return 1;
}

static void *serve(void *arg) {
  wick_store_server *s = arg;
  struct pollfd *fds = NULL;
  int capfds = 0;
  for (;;) {
    if (s->nconns + 2 > capfds) {
      capfds = 2 * (s->nconns + 2);
      struct pollfd *nf = realloc(fds, (size_t)capfds * sizeof *nf);
      if (!nf) break;
      fds = nf;
    }
    fds[0] = (struct pollfd){ s->wake[0], POLLIN, 0 };
    fds[1] = (struct pollfd){ s->listen_fd, POLLIN, 0 };
    int64_t now = wick_store_now_ms(), next = -1;
    for (int i = 0; i < s->nconns; i++) {
      fds[2 + i] = (struct pollfd){ s->conns[i].fd, POLLIN, 0 };
      if (s->conns[i].waiting || !s->conns[i].authed) {
        int64_t left = (s->conns[i].waiting ? s->conns[i].deadline : s->conns[i].hello_by) - now;
        if (left < 0) left = 0;
        if (next < 0 || left < next) next = left;
      }
    }
    int nfds = 2 + s->nconns;
    int rc = poll(fds, (nfds_t)nfds, next < 0 ? -1 : (int)(next > 1000000 ? 1000000 : next));
    if (rc < 0 && errno != EINTR) break;
    if (fds[0].revents) break; /* stop */
    /* connections first (from the end, as drop() moves the last one into the hole) */
    for (int i = nfds - 3; i >= 0; i--) {
      if (i >= s->nconns || !fds[2 + i].revents) continue;
      const char *why = NULL;
      if (!service(s, &s->conns[i], &why)) drop(s, i, why);
    }
    now = wick_store_now_ms();
    for (int i = s->nconns - 1; i >= 0; i--)
      if (!s->conns[i].authed && now >= s->conns[i].hello_by) drop(s, i, "no secret in time");
    for (int i = 0; i < s->nconns; i++) {
      conn *c = &s->conns[i];
      if (c->waiting && now >= c->deadline) {
        clear_wait(c);
        reply(c, WICK_STORE_TIMEOUT, NULL, 0, 0);
      }
    }
    if (fds[1].revents & POLLIN) accept_one(s);
  }
  free(fds);
  return NULL;
}

wick_status wick_store_server_start(const char *host, int port, const char *secret,
                                    wick_store_server **out) {
  *out = NULL;
  size_t sl = strlen(secret);
  if (sl == 0 || sl > WICK_STORE_MAX_SECRET)
    return wick_errorf(WICK_ERR_ARG, "TCPStore: the secret must have 1 to %d bytes (got %zu)", WICK_STORE_MAX_SECRET, sl);
  if (port < 0 || port > 65535) return wick_errorf(WICK_ERR_ARG, "TCPStore: invalid port %d", port);
  wick_store_server *s = calloc(1, sizeof *s);
  if (!s) return wick_errorf(WICK_ERR_OOM, "TCPStore: out of memory");
  memcpy(s->secret, secret, sl);
  s->secret_len = sl;
  s->owner = getpid();
  s->wake[0] = s->wake[1] = -1;
  wick_status st = wick_store_listen(host, port, &s->listen_fd, &s->port);
  if (st != WICK_OK) { free(s); return st; }
  if (pipe2(s->wake, O_CLOEXEC) != 0 || pthread_create(&s->thread, NULL, serve, s) != 0) {
    close(s->listen_fd);
    if (s->wake[0] >= 0) { close(s->wake[0]); close(s->wake[1]); }
    free(s);
    return wick_errorf(WICK_ERR_DIST, "TCPStore: cannot start the server thread: %s", strerror(errno));
  }
  *out = s;
  return WICK_OK;
}

int wick_store_server_port(const wick_store_server *s) { return s->port; }

void wick_store_server_stop(wick_store_server *s) {
  if (!s) return;
  if (s->owner == getpid()) {
    ssize_t w = write(s->wake[1], "x", 1);
    (void)w;
    pthread_join(s->thread, NULL);
    for (int i = s->nconns - 1; i >= 0; i--) drop(s, i, NULL);
    for (int i = 0; i < s->n; i++) { free(s->entries[i].key); free(s->entries[i].val); }
  }
  /* in a forked child the thread does not exist: the memory is a copy, left alone */
  close(s->listen_fd);
  close(s->wake[0]);
  close(s->wake[1]);
  if (s->owner == getpid()) {
    free(s->conns);
    free(s->entries);
    free(s);
  }
}
