/* A worker's heartbeat: a thread that adds 1 to a key of the launcher's store every interval,
 * over a connection of its own, so that the launcher notices a rank that stopped (SIGSTOP, a
 * frozen process) long before a collective's timeout. The thread stops with the process, and
 * is not in a forked child. */
#ifndef WICK_DIST_HEARTBEAT_H
#define WICK_DIST_HEARTBEAT_H

#include "core/status.h"

typedef struct wick_heartbeat wick_heartbeat;

/* Connects to the store at host:port (with secret) and starts beating key every interval_s.
 * A beat that fails (the launcher gone) ends the thread quietly. */
wick_status wick_heartbeat_start(const char *host, int port, const char *secret, const char *key,
                                 double interval_s, wick_heartbeat **out);

/* Stops the thread and frees; NULL is fine. In a forked child it does nothing (the thread
 * and its connection belong to the parent). */
void wick_heartbeat_stop(wick_heartbeat *hb);

#endif
