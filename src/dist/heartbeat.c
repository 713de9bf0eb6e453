/* The heartbeat thread of a worker (heartbeat.h). */
#include "dist/heartbeat.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dist/store.h"

struct wick_heartbeat {
  wick_store_client *c;
  char *key;
  double interval_s;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;
  pid_t pid; /* the process whose thread it is: a forked child leaves it alone */
};

static void *beat(void *arg) {
  wick_heartbeat *hb = arg;
  pthread_mutex_lock(&hb->mu);
  while (!hb->stop) {
    pthread_mutex_unlock(&hb->mu);
    int64_t v;
    if (wick_store_add(hb->c, hb->key, 1, &v) != WICK_OK) return NULL; /* the launcher is gone */
    pthread_mutex_lock(&hb->mu);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    long ns = (long)(hb->interval_s * 1e9);
    until.tv_sec += ns / 1000000000L;
    until.tv_nsec += ns % 1000000000L;
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    while (!hb->stop && pthread_cond_timedwait(&hb->cv, &hb->mu, &until) == 0) {}
  }
  pthread_mutex_unlock(&hb->mu);
  return NULL;
}

wick_status wick_heartbeat_start(const char *host, int port, const char *secret, const char *key,
                                 double interval_s, wick_heartbeat **out) {
  *out = NULL;
  wick_heartbeat *hb = calloc(1, sizeof *hb);
  if (!hb || !(hb->key = strdup(key))) {
    free(hb);
    return wick_errorf(WICK_ERR_OOM, "heartbeat: out of memory");
  }
  hb->interval_s = interval_s > 0.01 ? interval_s : 0.01;
  hb->pid = getpid();
  wick_status s = wick_store_connect(host, port, secret, 10.0, &hb->c);
  if (s != WICK_OK) {
    free(hb->key);
    free(hb);
    return s;
  }
  wick_store_set_timeout(hb->c, 10.0);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&hb->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&hb->mu, NULL);
  if (pthread_create(&hb->thread, NULL, beat, hb) != 0) {
    wick_store_close(hb->c);
    pthread_cond_destroy(&hb->cv);
    pthread_mutex_destroy(&hb->mu);
    free(hb->key);
    free(hb);
    return wick_errorf(WICK_ERR_DIST, "heartbeat: cannot start its thread");
  }
  *out = hb;
  return WICK_OK;
}

void wick_heartbeat_stop(wick_heartbeat *hb) {
  if (!hb || hb->pid != getpid()) return; /* in a forked child the thread is not there */
  pthread_mutex_lock(&hb->mu);
  hb->stop = 1;
  pthread_cond_signal(&hb->cv);
  pthread_mutex_unlock(&hb->mu);
  pthread_join(hb->thread, NULL);
  wick_store_close(hb->c);
  pthread_cond_destroy(&hb->cv);
  pthread_mutex_destroy(&hb->mu);
  free(hb->key);
  free(hb);
}
