/* The TCP store: every operation, waits across threads, timeouts naming their keys, wrong
 * secrets rejected and logged, malformed frames dropped without harming the server. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dist/store.h"

static int failures = 0;
#define CHECK(cond, ...)                                          \
  do {                                                            \
    if (!(cond)) {                                                \
      failures++;                                                 \
      fprintf(stdout, "FAIL %s:%d: ", __FILE__, __LINE__);        \
      fprintf(stdout, __VA_ARGS__);                               \
      fprintf(stdout, " (last error: %s)\n", wick_last_error());  \
    }                                                             \
  } while (0)

static int port;
static const char *SECRET = "s3cret-token";

static void sleep_ms(int ms) {
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep(&ts, NULL);
}

static wick_store_client *client(void) {
  wick_store_client *c = NULL;
  wick_status s = wick_store_connect("127.0.0.1", port, SECRET, 5.0, &c);
  CHECK(s == WICK_OK, "connect");
  return c;
}

static void *waiter(void *arg) {
  wick_store_client *c = client();
  const char *keys[] = { "late1", "late2" };
  *(wick_status *)arg = wick_store_wait(c, keys, 2, 5.0);
  char *v = NULL;
  size_t n = 0;
  if (wick_store_get(c, "late3", &v, &n) != WICK_OK || strcmp(v, "three") != 0) *(wick_status *)arg = WICK_ERR_DIST;
  free(v);
  wick_store_close(c);
  return NULL;
}

static void *adder(void *arg) {
  (void)arg;
  wick_store_client *c = client();
  for (int i = 0; i < 100; i++) {
    int64_t v;
    if (wick_store_add(c, "counter", 1, &v) != WICK_OK) failures++;
  }
  wick_store_close(c);
  return NULL;
}

/* A raw connection sending `n` bytes; returns 1 when the server closed it. */
static int raw_send(const void *bytes, size_t n, int then_wait_close) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { 0 };
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { close(fd); return 0; }
  if (n) { ssize_t w = send(fd, bytes, n, MSG_NOSIGNAL); (void)w; }
  int closed = 1;
  if (then_wait_close) {
    struct timeval tv = { 3, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[64];
    ssize_t r;
    while ((r = recv(fd, buf, sizeof buf, 0)) > 0) {}
    closed = r == 0 || (r < 0 && errno == ECONNRESET); /* not a timeout */
  }
  close(fd);
  return closed;
}

static void hello_frame(unsigned char *f, const char *secret, size_t *n) {
  size_t sl = strlen(secret);
  wick_store_put_u32(f, (uint32_t)(5 + sl));
  f[4] = WICK_STORE_HELLO;
  wick_store_put_u32(f + 5, (uint32_t)sl);
  memcpy(f + 9, secret, sl);
  *n = 9 + sl;
}

int main(void) {
  /* stderr goes to a file so the rejection lines can be checked */
  char logpath[] = "/tmp/wick_test_store_XXXXXX";
  int logfd = mkstemp(logpath);
  int saved = dup(2);
  dup2(logfd, 2);

  wick_store_server *srv = NULL;
  CHECK(wick_store_server_start("127.0.0.1", 0, SECRET, &srv) == WICK_OK, "server start");
  if (!srv) return 1;
  port = wick_store_server_port(srv);
  CHECK(port > 0, "port %d", port);

  wick_store_client *c = client();
  char *v = NULL;
  size_t n = 0;
  int64_t iv = 0;
  int flag = 0;
  CHECK(wick_store_set(c, "a", "hello\0x", 7) == WICK_OK, "set");
  CHECK(wick_store_get(c, "a", &v, &n) == WICK_OK && n == 7 && memcmp(v, "hello\0x", 7) == 0, "get binary");
  free(v);
  CHECK(wick_store_add(c, "cnt", 3, &iv) == WICK_OK && iv == 3, "add 3 -> %lld", (long long)iv);
  CHECK(wick_store_add(c, "cnt", 2, &iv) == WICK_OK && iv == 5, "add 2 -> %lld", (long long)iv);
  CHECK(wick_store_get(c, "cnt", &v, &n) == WICK_OK && strcmp(v, "5") == 0, "add stores decimal");
  free(v);
  CHECK(wick_store_set(c, "ten", "10", 2) == WICK_OK && wick_store_add(c, "ten", 1, &iv) == WICK_OK && iv == 11, "add on set value");
  CHECK(wick_store_add(c, "a", 1, &iv) != WICK_OK &&
        strcmp(wick_last_error(), "TCPStore.add: the value of key 'a' is not an integer") == 0, "add on text");
  /* compare_set: the four cases */
  CHECK(wick_store_compare_set(c, "cas", "", 0, "x", 1, &v, &n) == WICK_OK && strcmp(v, "x") == 0, "cas missing+empty");
  free(v);
  CHECK(wick_store_compare_set(c, "cas", "x", 1, "y", 1, &v, &n) == WICK_OK && strcmp(v, "y") == 0, "cas equal");
  free(v);
  CHECK(wick_store_compare_set(c, "cas", "x", 1, "z", 1, &v, &n) == WICK_OK && strcmp(v, "y") == 0, "cas differs");
  free(v);
  CHECK(wick_store_compare_set(c, "nocas", "e", 1, "d", 1, &v, &n) == WICK_OK && strcmp(v, "e") == 0, "cas missing+expected");
  free(v);
  const char *ck[] = { "a", "nocas" };
  CHECK(wick_store_check(c, ck, 1, &flag) == WICK_OK && flag == 1, "check present");
  CHECK(wick_store_check(c, ck, 2, &flag) == WICK_OK && flag == 0, "check missing");
  CHECK(wick_store_num_keys(c, &iv) == WICK_OK && iv == 4, "num_keys %lld", (long long)iv);
  CHECK(wick_store_delete_key(c, "ten", &flag) == WICK_OK && flag == 1, "delete");
  CHECK(wick_store_delete_key(c, "ten", &flag) == WICK_OK && flag == 0, "delete again");

  /* timeouts name the keys */
  const char *wk[] = { "x", "y" };
  wick_status s = wick_store_wait(c, wk, 2, 0.2);
  CHECK(s == WICK_ERR_DIST && strcmp(wick_last_error(), "TCPStore.wait: timed out after 0.2 s waiting for keys 'x', 'y'") == 0, "wait timeout");
  wick_store_set_timeout(c, 0.1);
  s = wick_store_get(c, "never", &v, &n);
  CHECK(s == WICK_ERR_DIST && strcmp(wick_last_error(), "TCPStore.get: timed out after 0.1 s waiting for key 'never'") == 0, "get timeout");
  wick_store_set_timeout(c, 5.0);
  CHECK(wick_store_set(c, "after", "1", 1) == WICK_OK, "usable after a timeout");

  /* a wait in another thread finishes when the keys appear */
  wick_status ws = WICK_ERR_ARG;
  pthread_t t;
  pthread_create(&t, NULL, waiter, &ws);
  sleep_ms(100);
  wick_store_set(c, "late1", "1", 1);
  wick_store_set(c, "late3", "three", 5);
  sleep_ms(50);
  wick_store_set(c, "late2", "2", 1);
  pthread_join(t, NULL);
  CHECK(ws == WICK_OK, "wait across threads");

  /* many clients at once */
  pthread_t ts[8];
  for (int i = 0; i < 8; i++) pthread_create(&ts[i], NULL, adder, NULL);
  for (int i = 0; i < 8; i++) pthread_join(ts[i], NULL);
  CHECK(wick_store_add(c, "counter", 0, &iv) == WICK_OK && iv == 800, "8 x 100 adds = %lld", (long long)iv);

  /* wrong secret: refused, logged */
  wick_store_client *bad = NULL;
  s = wick_store_connect("127.0.0.1", port, "guess", 2.0, &bad);
  CHECK(s == WICK_ERR_DIST && bad == NULL, "wrong secret refused");
  /* malformed frames, before and after authentication */
  unsigned char f[512];
  size_t fl;
  unsigned char huge[4] = { 0xff, 0xff, 0xff, 0xff };
  CHECK(raw_send(huge, 4, 1), "huge frame closed");
  unsigned char zero[4] = { 0, 0, 0, 0 };
  CHECK(raw_send(zero, 4, 1), "zero frame closed");
  CHECK(raw_send("GET / HTTP/1.1\r\n\r\n", 18, 1), "http closed");
  raw_send("\x05\x00", 2, 0); /* a partial frame, then hang up */
  hello_frame(f, SECRET, &fl);
  unsigned char bogus[] = { 5, 0, 0, 0, 99, 1, 2, 3, 4 }; /* unknown op */
  memcpy(f + fl, bogus, sizeof bogus);
  CHECK(raw_send(f, fl + sizeof bogus, 1), "unknown op closed");
  hello_frame(f, SECRET, &fl);
  unsigned char lie[] = { 9, 0, 0, 0, WICK_STORE_SET, 0xff, 0xff, 0, 0, 'k', 0, 0, 0 }; /* key longer than frame */
  memcpy(f + fl, lie, sizeof lie);
  CHECK(raw_send(f, fl + sizeof lie, 1), "lying length closed");
  hello_frame(f, SECRET, &fl);
  unsigned char big[] = { 0xf0, 0xff, 0xff, 0x7f }; /* over the authenticated limit */
  memcpy(f + fl, big, sizeof big);
  CHECK(raw_send(f, fl + sizeof big, 1), "oversized frame closed");
  /* the server still serves */
  CHECK(wick_store_get(c, "after", &v, &n) == WICK_OK && strcmp(v, "1") == 0, "server alive after abuse");
  free(v);
  wick_store_close(c);
  wick_store_server_stop(srv);

  /* a connect with nobody listening fails within its timeout */
  int64_t t0 = (int64_t)time(NULL);
  s = wick_store_connect("127.0.0.1", port, SECRET, 0.3, &bad);
  CHECK(s == WICK_ERR_DIST && strstr(wick_last_error(), "TCPStore: cannot connect to 127.0.0.1:") == wick_last_error(), "connect refused");
  CHECK((int64_t)time(NULL) - t0 < 3, "connect timeout bounded");

  fflush(stderr);
  dup2(saved, 2);
  FILE *lf = fopen(logpath, "r");
  char line[256];
  int rejected = 0;
  while (lf && fgets(line, sizeof line, lf)) {
    if (strstr(line, "store: rejected a connection from 127.0.0.1:") == line && strstr(line, ": wrong secret\n")) rejected++;
  }
  if (lf) fclose(lf);
  unlink(logpath);
  CHECK(rejected >= 4, "rejection lines logged: %d", rejected);

  if (failures) printf("%d failure(s)\n", failures);
  else printf("test_store: ok\n");
  return failures != 0;
}
