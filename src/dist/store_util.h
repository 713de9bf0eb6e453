/* Helpers shared by the store's server and client: bounded field readers, socket set-up,
 * full sends, a monotonic clock and the constant-time secret comparison. */
#ifndef WICK_DIST_STORE_UTIL_H
#define WICK_DIST_STORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* A cursor over a received frame; every read checks what is left and the field's bound. */
typedef struct { const unsigned char *p; size_t left; int bad; } wick_store_reader;
int wick_store_rd_str(wick_store_reader *r, const char **s, size_t *len, size_t max);
/* a string of 1..WICK_STORE_MAX_KEY bytes without NUL */
int wick_store_rd_key(wick_store_reader *r, const char **s, size_t *len);
int wick_store_rd_i64(wick_store_reader *r, int64_t *v);

int64_t wick_store_now_ms(void);
/* Compares in time that depends on the lengths only, never on where the bytes differ. */
int wick_store_secret_equal(const char *a, size_t alen, const char *b, size_t blen);
/* Returns 0 on success, -1 on error or timeout (SO_SNDTIMEO). */
int wick_store_send_all(int fd, const void *buf, size_t n);
/* A listening socket on host:port (0: any); *port_out gets the actual port. */
wick_status wick_store_listen(const char *host, int port, int *fd_out, int *port_out);

#endif
