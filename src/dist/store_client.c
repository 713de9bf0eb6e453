/* The TCP store client: one blocking connection, requests as length-prefixed frames, every
 * read bounded in size and in time. A connection that failed mid-request is closed for good
 * (its replies could no longer be matched to requests). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dist/store.h"
#include "dist/store_util.h"

#define MAX_REPLY (WICK_STORE_MAX_VALUE + 64u)
/* a wait's reply comes from the server at its deadline; allow the network this much more */
#define WAIT_SLACK_MS 5000

struct wick_store_client {
  int fd;
  char host[256];
  int port;
  int64_t timeout_ms;
};

/* ---- frames ---- */
typedef struct { unsigned char *p; size_t n, cap; int oom; } frame;

static void fr_bytes(frame *f, const void *b, size_t n) {
  if (f->oom) return;
  if (f->n + n > f->cap) {
    size_t cap = (f->n + n) * 2 + 64;
    unsigned char *np = realloc(f->p, cap);
    if (!np) { f->oom = 1; return; }
    f->p = np;
    f->cap = cap;
  }
  if (n) memcpy(f->p + f->n, b, n);
  f->n += n;
}
static void fr_begin(frame *f, int op) {
  unsigned char h[5] = { 0, 0, 0, 0, (unsigned char)op };
  fr_bytes(f, h, 5);
}
static void fr_str(frame *f, const void *s, size_t n) {
  unsigned char h[4];
  wick_store_put_u32(h, (uint32_t)n);
  fr_bytes(f, h, 4);
  fr_bytes(f, s, n);
}
static void fr_i64(frame *f, int64_t v) {
  unsigned char b[8];
  wick_store_put_i64(b, v);
  fr_bytes(f, b, 8);
}

static wick_status broken(wick_store_client *c, const char *op, const char *what) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  return wick_errorf(WICK_ERR_DIST, "TCPStore.%s: %s the store at %s:%d", op, what, c->host, c->port);
}

/* Reads exactly n bytes before the deadline. 0 ok, -1 closed/error, -2 timeout. */
static int recv_all(int fd, unsigned char *p, size_t n, int64_t deadline) {
  while (n > 0) {
    int64_t left = deadline - wick_store_now_ms();
    if (left <= 0) return -2;
    struct pollfd pf = { fd, POLLIN, 0 };
    int rc = poll(&pf, 1, left > 1000000 ? 1000000 : (int)left);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return -1;
    if (rc == 0) continue;
    ssize_t got = recv(fd, p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

/* Sends the frame (freeing it) and reads the reply: *status, and the payload after the status
 * byte in a malloc'ed buffer (*body, *blen) owned by the caller. */
static wick_status request(wick_store_client *c, const char *op, frame *f, int64_t timeout_ms,
                           int *status, unsigned char **body, size_t *blen) {
  *body = NULL;
  if (f->oom) { free(f->p); return wick_errorf(WICK_ERR_OOM, "TCPStore.%s: out of memory", op); }
  if (c->fd < 0) { free(f->p); return wick_errorf(WICK_ERR_DIST, "TCPStore.%s: the connection to the store at %s:%d is closed", op, c->host, c->port); }
  wick_store_put_u32(f->p, (uint32_t)(f->n - 4));
  int sent = wick_store_send_all(c->fd, f->p, f->n);
  free(f->p);
  if (sent != 0) return broken(c, op, "lost the connection to");
  int64_t deadline = wick_store_now_ms() + timeout_ms;
  unsigned char h[4];
  int rc = recv_all(c->fd, h, 4, deadline);
  if (rc == -2) return broken(c, op, "no reply in time from");
  if (rc != 0) return broken(c, op, "lost the connection to");
  uint32_t n = wick_store_get_u32(h);
  if (n == 0 || n > MAX_REPLY) return broken(c, op, "malformed reply from");
  unsigned char *b = malloc(n + 1);
  if (!b) return broken(c, op, "out of memory reading from");
  rc = recv_all(c->fd, b, n, deadline);
  if (rc != 0) { free(b); return broken(c, op, rc == -2 ? "no reply in time from" : "lost the connection to"); }
  b[n] = 0;
  *status = b[0];
  memmove(b, b + 1, n); /* keeps the NUL terminator */
  *body = b;
  *blen = n - 1;
  return WICK_OK;
}

static wick_status check_key(const char *op, const char *key) {
  size_t n = strlen(key);
  if (n == 0 || n > WICK_STORE_MAX_KEY)
    return wick_errorf(WICK_ERR_ARG, "TCPStore.%s: a key must have 1 to %d bytes (got %zu)", op, WICK_STORE_MAX_KEY, n);
  return WICK_OK;
}

/* The key list of a wait or check. */
static wick_status check_keys(const char *op, const char *const *keys, int n) {
  if (n < 0 || n > WICK_STORE_MAX_WAIT_KEYS)
    return wick_errorf(WICK_ERR_ARG, "TCPStore.%s: between 0 and %d keys (got %d)", op, WICK_STORE_MAX_WAIT_KEYS, n);
  for (int i = 0; i < n; i++) WICK_TRY(check_key(op, keys[i]));
  return WICK_OK;
}

/* The value field of a reply: u32 length + bytes, moved to a fresh NUL-terminated buffer. */
static wick_status take_value(wick_store_client *c, const char *op, unsigned char *b, size_t bl, char **v, size_t *vl) {
  wick_store_reader r = { b, bl, 0 };
  const char *s;
  size_t n;
  if (!wick_store_rd_str(&r, &s, &n, WICK_STORE_MAX_VALUE)) { free(b); return broken(c, op, "malformed reply from"); }
  char *out = malloc(n + 1);
  if (!out) { free(b); return wick_errorf(WICK_ERR_OOM, "TCPStore.%s: out of memory", op); }
  memcpy(out, s, n);
  out[n] = 0;
  free(b);
  *v = out;
  *vl = n;
  return WICK_OK;
}

static wick_status take_i64(wick_store_client *c, const char *op, unsigned char *b, size_t bl, int64_t *v) {
  if (bl != 8) { free(b); return broken(c, op, "malformed reply from"); }
  *v = wick_store_get_i64(b);
  free(b);
  return WICK_OK;
}

/* A request whose reply is one i64 (check, delete_key, num_keys). */
static wick_status request_i64(wick_store_client *c, const char *op, frame *f, int64_t *v) {
  int st;
  unsigned char *b = NULL;
  size_t bl = 0;
  WICK_TRY(request(c, op, f, c->timeout_ms, &st, &b, &bl));
  return take_i64(c, op, b, bl, v);
}

/* ---- connect ---- */

static int try_connect(const char *host, int port, int64_t deadline, int *err) {
  struct addrinfo hints = { 0 }, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  if (getaddrinfo(host, ps, &hints, &res) != 0) { *err = EHOSTUNREACH; return -1; }
  int fd = -1;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) { *err = errno; continue; }
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (errno == EINPROGRESS) {
        struct pollfd pf = { fd, POLLOUT, 0 };
        int64_t left = deadline - wick_store_now_ms();
        int so = 0;
        socklen_t sl = sizeof so;
        if (left > 0 && poll(&pf, 1, (int)(left > 100000 ? 100000 : left)) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) == 0 && so == 0)
          goto connected;
        *err = so ? so : ETIMEDOUT;
      } else {
        *err = errno;
      }
      close(fd);
      fd = -1;
      continue;
    }
  connected:
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  }
  freeaddrinfo(res);
  return fd;
}

wick_status wick_store_connect(const char *host, int port, const char *secret, double timeout_s,
                               wick_store_client **out) {
  *out = NULL;
  size_t sl = strlen(secret);
  if (sl == 0 || sl > WICK_STORE_MAX_SECRET)
    return wick_errorf(WICK_ERR_ARG, "TCPStore: the secret must have 1 to %d bytes (got %zu)", WICK_STORE_MAX_SECRET, sl);
  if (strlen(host) >= 256) return wick_errorf(WICK_ERR_ARG, "TCPStore: host name too long");
  if (port <= 0 || port > 65535) return wick_errorf(WICK_ERR_ARG, "TCPStore: invalid port %d", port);
  wick_store_client *c = calloc(1, sizeof *c);
  if (!c) return wick_errorf(WICK_ERR_OOM, "TCPStore: out of memory");
  snprintf(c->host, sizeof c->host, "%s", host);
  c->port = port;
  c->timeout_ms = (int64_t)(timeout_s * 1000);
  int64_t deadline = wick_store_now_ms() + c->timeout_ms;
  int err = 0;
  for (;;) {
    c->fd = try_connect(host, port, deadline, &err);
    if (c->fd >= 0 || wick_store_now_ms() >= deadline) break;
    struct timespec ts = { 0, 20 * 1000000 }; /* the server may not be up yet: retry */
    nanosleep(&ts, NULL);
  }
  if (c->fd < 0) {
    free(c);
    return wick_errorf(WICK_ERR_DIST, "TCPStore: cannot connect to %s:%d within %g s: %s", host, port,
                       timeout_s, strerror(err));
  }
  frame f = { 0 };
  fr_begin(&f, WICK_STORE_HELLO);
  fr_str(&f, secret, sl);
  int st;
  unsigned char *b = NULL;
  size_t bl = 0;
  if (request(c, "connect", &f, c->timeout_ms, &st, &b, &bl) != WICK_OK || st != WICK_STORE_OK) {
    free(b);
    wick_store_close(c);
    return wick_errorf(WICK_ERR_DIST, "TCPStore: the store at %s:%d rejected this client (wrong secret?)", host, port);
  }
  free(b);
  *out = c;
  return WICK_OK;
}

void wick_store_close(wick_store_client *c) {
  if (!c) return;
  if (c->fd >= 0) close(c->fd);
  free(c);
}

void wick_store_set_timeout(wick_store_client *c, double timeout_s) { c->timeout_ms = (int64_t)(timeout_s * 1000); }

/* ---- requests ---- */

wick_status wick_store_set(wick_store_client *c, const char *key, const void *value, size_t len) {
  WICK_TRY(check_key("set", key));
  if (len > WICK_STORE_MAX_VALUE)
    return wick_errorf(WICK_ERR_ARG, "TCPStore.set: a value must have at most %u bytes (got %zu)", WICK_STORE_MAX_VALUE, len);
  frame f = { 0 };
  fr_begin(&f, WICK_STORE_SET);
  fr_str(&f, key, strlen(key));
  fr_str(&f, value, len);
  int st;
  unsigned char *b = NULL;
  size_t bl = 0;
  WICK_TRY(request(c, "set", &f, c->timeout_ms, &st, &b, &bl));
  free(b);
  return st == WICK_STORE_OK ? WICK_OK : wick_errorf(WICK_ERR_DIST, "TCPStore.set: the store is out of memory");
}

static wick_status wait_keys(wick_store_client *c, const char *op, const char *const *keys, int n, double timeout_s) {
  WICK_TRY(check_keys(op, keys, n));
  int64_t ms = timeout_s < 0 ? c->timeout_ms : (int64_t)(timeout_s * 1000);
  frame f = { 0 };
  fr_begin(&f, WICK_STORE_WAIT);
  fr_i64(&f, ms);
  fr_i64(&f, n);
  for (int i = 0; i < n; i++) fr_str(&f, keys[i], strlen(keys[i]));
  int st;
  unsigned char *b = NULL;
  size_t bl = 0;
  WICK_TRY(request(c, op, &f, ms + WAIT_SLACK_MS, &st, &b, &bl));
  free(b);
  if (st == WICK_STORE_OK) return WICK_OK;
  /* name the keys waited for (as many as fit the message) */
  char list[1024] = "";
  size_t used = 0;
  for (int i = 0; i < n && used < sizeof list - 8; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s'%s'", i ? ", " : "", keys[i]);
    if (w < 0 || (size_t)w >= sizeof list - used) { snprintf(list + used, sizeof list - used, ", ..."); break; }
    used += (size_t)w;
  }
  return wick_errorf(WICK_ERR_DIST, "TCPStore.%s: timed out after %g s waiting for %s %s", op, (double)ms / 1000,
                     n == 1 ? "key" : "keys", list);
}

wick_status wick_store_wait(wick_store_client *c, const char *const *keys, int n, double timeout_s) {
  return wait_keys(c, "wait", keys, n, timeout_s);
}

wick_status wick_store_get(wick_store_client *c, const char *key, char **value, size_t *len) {
  *value = NULL;
  WICK_TRY(check_key("get", key));
  for (;;) {
    WICK_TRY(wait_keys(c, "get", &key, 1, -1));
    frame f = { 0 };
    fr_begin(&f, WICK_STORE_GET);
    fr_str(&f, key, strlen(key));
    int st;
    unsigned char *b = NULL;
    size_t bl = 0;
    WICK_TRY(request(c, "get", &f, c->timeout_ms, &st, &b, &bl));
    if (st == WICK_STORE_MISSING) { free(b); continue; } /* deleted in between: wait again */
    return take_value(c, "get", b, bl, value, len);
  }
}

wick_status wick_store_add(wick_store_client *c, const char *key, int64_t delta, int64_t *out) {
  WICK_TRY(check_key("add", key));
  frame f = { 0 };
  fr_begin(&f, WICK_STORE_ADD);
  fr_str(&f, key, strlen(key));
  fr_i64(&f, delta);
  int st;
  unsigned char *b = NULL;
  size_t bl = 0;
  WICK_TRY(request(c, "add", &f, c->timeout_ms, &st, &b, &bl));
  if (st != WICK_STORE_OK) {
    free(b);
    return wick_errorf(WICK_ERR_DIST, "TCPStore.add: the value of key '%s' is not an integer", key);
  }
  return take_i64(c, "add", b, bl, out);
}

wick_status wick_store_compare_set(wick_store_client *c, const char *key, const char *expected,
                                   size_t elen, const char *desired, size_t dlen, char **value,
                                   size_t *len) {
  *value = NULL;
  WICK_TRY(check_key("compare_set", key));
  if (elen > WICK_STORE_MAX_VALUE || dlen > WICK_STORE_MAX_VALUE)
    return wick_errorf(WICK_ERR_ARG, "TCPStore.compare_set: a value must have at most %u bytes", WICK_STORE_MAX_VALUE);
  frame f = { 0 };
  fr_begin(&f, WICK_STORE_CAS);
  fr_str(&f, key, strlen(key));
  fr_str(&f, expected, elen);
  fr_str(&f, desired, dlen);
  int st;
  unsigned char *b = NULL;
  size_t bl = 0;
  WICK_TRY(request(c, "compare_set", &f, c->timeout_ms, &st, &b, &bl));
  return take_value(c, "compare_set", b, bl, value, len);
}

wick_status wick_store_check(wick_store_client *c, const char *const *keys, int n, int *all) {
  WICK_TRY(check_keys("check", keys, n));
  frame f = { 0 };
  fr_begin(&f, WICK_STORE_CHECK);
  fr_i64(&f, n);
  for (int i = 0; i < n; i++) fr_str(&f, keys[i], strlen(keys[i]));
  int64_t v = 0;
  WICK_TRY(request_i64(c, "check", &f, &v));
  *all = v != 0;
  return WICK_OK;
}

wick_status wick_store_delete_key(wick_store_client *c, const char *key, int *deleted) {
  WICK_TRY(check_key("delete_key", key));
  frame f = { 0 };
  fr_begin(&f, WICK_STORE_DELETE);
  fr_str(&f, key, strlen(key));
  int64_t v = 0;
  WICK_TRY(request_i64(c, "delete_key", &f, &v));
  *deleted = v != 0;
  return WICK_OK;
}

wick_status wick_store_num_keys(wick_store_client *c, int64_t *n) {
  frame f = { 0 };
  fr_begin(&f, WICK_STORE_NUM_KEYS);
  return request_i64(c, "num_keys", &f, n);
}

wick_status wick_dist_random_secret(char *buf, int nbytes) {
  unsigned char raw[128];
  if (nbytes <= 0 || nbytes > (int)sizeof raw) return wick_errorf(WICK_ERR_ARG, "random_secret: 1 to 128 bytes");
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wick_errorf(WICK_ERR_IO, "random_secret: cannot open /dev/urandom: %s", strerror(errno));
  ssize_t got = read(fd, raw, (size_t)nbytes);
  close(fd);
  if (got != nbytes) return wick_errorf(WICK_ERR_IO, "random_secret: short read from /dev/urandom");
  for (int i = 0; i < nbytes; i++) snprintf(buf + 2 * i, 3, "%02x", raw[i]);
  return WICK_OK;
}
