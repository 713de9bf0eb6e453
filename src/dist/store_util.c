/* Helpers shared by the store's server and client (see store_util.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dist/store.h"
#include "dist/store_util.h"

int wick_store_rd_str(wick_store_reader *r, const char **s, size_t *len, size_t max) {
  if (r->bad || r->left < 4) return !(r->bad = 1);
  uint32_t n = wick_store_get_u32(r->p);
  if (n > max || n > r->left - 4) return !(r->bad = 1);
  *s = (const char *)r->p + 4;
  *len = n;
  r->p += 4 + n;
  r->left -= 4 + n;
  return 1;
}

int wick_store_rd_key(wick_store_reader *r, const char **s, size_t *len) {
  if (!wick_store_rd_str(r, s, len, WICK_STORE_MAX_KEY)) return 0;
  if (*len == 0 || memchr(*s, 0, *len)) return !(r->bad = 1);
  return 1;
}

int wick_store_rd_i64(wick_store_reader *r, int64_t *v) {
  if (r->bad || r->left < 8) return !(r->bad = 1);
  *v = wick_store_get_i64(r->p);
  r->p += 8;
  r->left -= 8;
  return 1;
}

int64_t wick_store_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wick_store_secret_equal(const char *a, size_t alen, const char *b, size_t blen) {
  volatile unsigned char diff = (unsigned char)(alen != blen);
  size_t n = alen > blen ? alen : blen;
  for (size_t i = 0; i < n; i++) {
    unsigned char x = i < alen ? (unsigned char)a[i] : 0, y = i < blen ? (unsigned char)b[i] : 0;
    diff |= (unsigned char)(x ^ y);
  }
  return diff == 0;
}

int wick_store_send_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

wick_status wick_store_listen(const char *host, int port, int *fd_out, int *port_out) {
  struct addrinfo hints = { 0 }, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  int rc = getaddrinfo(host, ps, &hints, &res);
  if (rc != 0) return wick_errorf(WICK_ERR_DIST, "TCPStore: cannot resolve '%s': %s", host, gai_strerror(rc));
  int fd = -1, err = 0;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) { err = errno; continue; }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 128) == 0) break;
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return wick_errorf(WICK_ERR_DIST, "TCPStore: cannot listen on %s:%d: %s", host, port, strerror(err));
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &sl);
  char hs[64], pb[16];
  getnameinfo((struct sockaddr *)&ss, sl, hs, sizeof hs, pb, sizeof pb, NI_NUMERICHOST | NI_NUMERICSERV);
  *fd_out = fd;
  *port_out = atoi(pb);
  return WICK_OK;
}
