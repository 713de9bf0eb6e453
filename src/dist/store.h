/* The TCP key-value store of a distributed run (PyTorch's TCPStore semantics): a server thread
 * hosted by the launcher or rank 0, and blocking clients. Every connection must first present
 * the run's shared secret. Keys are NUL-free strings, values are byte strings. */
#ifndef WICK_DIST_STORE_H
#define WICK_DIST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define WICK_STORE_MAX_KEY 4096               /* bytes in a key */
#define WICK_STORE_MAX_VALUE (16u << 20)      /* bytes in a value */
#define WICK_STORE_MAX_SECRET 256             /* bytes in the shared secret */
#define WICK_STORE_MAX_WAIT_KEYS 1024         /* keys in one wait/check */

/* ---- wire protocol: a frame is u32 length (little endian) then `length` bytes: u8 op, then
 * fields; a string field is u32 length + bytes, an integer field is 8 bytes little endian. A
 * reply is a frame too: u8 status then the op's fields. ---- */
enum {
  WICK_STORE_HELLO = 1, /* secret                          -> status */
  WICK_STORE_SET,       /* key, value                      -> status */
  WICK_STORE_GET,       /* key                             -> status, value (status 2: missing) */
  WICK_STORE_ADD,       /* key, i64 delta                  -> status, i64 new value */
  WICK_STORE_CAS,       /* key, expected, desired          -> status, value */
  WICK_STORE_WAIT,      /* i64 timeout ms, n, keys...      -> status (1: timed out) */
  WICK_STORE_CHECK,     /* n, keys...                      -> status, i64 all present */
  WICK_STORE_DELETE,    /* key                             -> status, i64 deleted */
  WICK_STORE_NUM_KEYS,  /*                                 -> status, i64 count */
};
enum { WICK_STORE_OK = 0, WICK_STORE_TIMEOUT = 1, WICK_STORE_MISSING = 2, WICK_STORE_BAD = 3 };

/* ---- server ---- */
typedef struct wick_store_server wick_store_server;

/* Listens on host:port (port 0: any free port) and serves from a thread. `secret` is copied.
 * Rejected connections are logged to stderr. *out is owned by the caller (server_stop). */
wick_status wick_store_server_start(const char *host, int port, const char *secret,
                                    wick_store_server **out);
int wick_store_server_port(const wick_store_server *s);
/* Stops the thread, closes every connection and frees the server. In a forked child (which
 * has no server thread) it only closes the listening socket and frees. */
void wick_store_server_stop(wick_store_server *s);

/* ---- client: one connection, used by one thread at a time ---- */
typedef struct wick_store_client wick_store_client;

/* Connects (retrying until timeout_s, as the server may not be up yet) and presents the
 * secret. timeout_s is also the default timeout of every later call. */
wick_status wick_store_connect(const char *host, int port, const char *secret, double timeout_s,
                               wick_store_client **out);
void wick_store_close(wick_store_client *c);
void wick_store_set_timeout(wick_store_client *c, double timeout_s);

wick_status wick_store_set(wick_store_client *c, const char *key, const void *value, size_t len);
/* Blocks until key exists (or the timeout). *value is malloc'ed (caller frees), NUL-terminated
 * past *len. */
wick_status wick_store_get(wick_store_client *c, const char *key, char **value, size_t *len);
wick_status wick_store_add(wick_store_client *c, const char *key, int64_t delta, int64_t *out);
/* PyTorch's compare_set; *value as for get. */
wick_status wick_store_compare_set(wick_store_client *c, const char *key, const char *expected,
                                   size_t elen, const char *desired, size_t dlen, char **value,
                                   size_t *len);
/* Blocks until every key exists; timeout_s < 0 means the client's timeout. */
wick_status wick_store_wait(wick_store_client *c, const char *const *keys, int n, double timeout_s);
wick_status wick_store_check(wick_store_client *c, const char *const *keys, int n, int *all);
wick_status wick_store_delete_key(wick_store_client *c, const char *key, int *deleted);
wick_status wick_store_num_keys(wick_store_client *c, int64_t *n);

/* Fills buf (size >= 2*nbytes + 1) with nbytes from /dev/urandom as hex. */
wick_status wick_dist_random_secret(char *buf, int nbytes);

/* Little-endian field helpers shared by server and client. */
static inline void wick_store_put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static inline uint32_t wick_store_get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void wick_store_put_i64(unsigned char *p, int64_t v) {
  uint64_t u = (uint64_t)v;
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(u >> (8 * i));
}
static inline int64_t wick_store_get_i64(const unsigned char *p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) u |= (uint64_t)p[i] << (8 * i);
  return (int64_t)u;
}

#endif
