/* shm_seg.h: each rank makes a memfd segment (mode 0600, its memory reserved up front), publishes
 * "pid fd" in the store, and maps its peers' through /proc/<pid>/fd/<fd>. Two store rounds (made,
 * mapped) let every rank reach the same outcome. memfds have no name, so nothing outlives them. */
#define _GNU_SOURCE
#include "dist/shm_seg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* Publishes this rank's word for `round` and reads every rank's. A word starting with '!' is a
 * failure: the first one (lowest rank) becomes everyone's WICK_ERR_UNSUPPORTED. */
static wick_status agree(wick_store_client *st, const char *prefix, const char *round, int rank, int size,
                         double timeout_s, const char *mine, char **words) {
  char key[512];
  snprintf(key, sizeof key, "%s%s/%d", prefix, round, rank);
  wick_status s = wick_store_set(st, key, mine, strlen(mine));
  if (s != WICK_OK) return s;
  for (int j = 0; j < size; j++) {
    snprintf(key, sizeof key, "%s%s/%d", prefix, round, j);
    const char *k = key;
    s = wick_store_wait(st, &k, 1, timeout_s);
    if (s != WICK_OK) return s;
    char *v = NULL;
    size_t n = 0;
    s = wick_store_get(st, key, &v, &n);
    if (s != WICK_OK) return s;
    words[j] = malloc(n + 1);
    if (!words[j]) {
      free(v);
      return wick_errorf(WICK_ERR_OOM, "shared memory: out of memory");
    }
    memcpy(words[j], v, n);
    words[j][n] = 0;
    free(v);
  }
  for (int j = 0; j < size; j++)
    if (words[j][0] == '!') return wick_errorf(WICK_ERR_UNSUPPORTED, "rank %d: %s", j, words[j] + 1);
  return WICK_OK;
}

static void free_words(char **w, int n) {
  for (int j = 0; j < n; j++) free(w[j]);
  free(w);
}

/* The memory the kernel could give now (MemAvailable), or SIZE_MAX when it does not say. */
static size_t mem_available(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) return SIZE_MAX;
  char line[256];
  unsigned long long kb = 0;
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) found = sscanf(line, "MemAvailable: %llu kB", &kb) == 1;
  fclose(f);
  return found ? (size_t)kb * 1024 : SIZE_MAX;
}

/* Makes, reserves and maps this rank's segment; on failure writes "!why" into word. */
static void make_own(wick_shm_segs *s, char *word, size_t cap) {
  /* checked before reserving: a reservation past what is there would first take it all */
  size_t avail = mem_available();
  if (s->seg_bytes > avail) {
    snprintf(word, cap, "!cannot reserve %zu bytes of shared memory: %zu bytes available", s->seg_bytes, avail);
    return;
  }
  s->fd = (int)syscall(SYS_memfd_create, "wick-dist-shm", MFD_CLOEXEC);
  if (s->fd < 0) {
    snprintf(word, cap, "!memfd_create failed: %s", strerror(errno));
    return;
  }
  fchmod(s->fd, 0600);
  /* reserve now: running out of shared memory later would be a SIGBUS mid-collective */
  int e = ftruncate(s->fd, (off_t)s->seg_bytes) != 0 ? errno : posix_fallocate(s->fd, 0, (off_t)s->seg_bytes);
  if (e) {
    snprintf(word, cap, "!cannot reserve %zu bytes of shared memory: %s", s->seg_bytes, strerror(e));
    return;
  }
  void *p = mmap(NULL, s->seg_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
  if (p == MAP_FAILED) {
    snprintf(word, cap, "!cannot map shared memory: %s", strerror(errno));
    return;
  }
  s->base[s->rank] = p;
  wick_shm_header *h = p;
  h->magic = WICK_SHM_MAGIC;
  h->rank = (uint32_t)s->rank;
  h->size = (uint32_t)s->size;
  h->slot_bytes = s->slot_bytes;
  snprintf(word, cap, "%ld %d", (long)getpid(), s->fd);
}

/* Maps peer j's segment from its "pid fd" word; on failure writes "!why" into word. */
static int map_peer(wick_shm_segs *s, int j, const char *peer, char *word, size_t cap) {
  long pid = 0;
  int fd = -1;
  if (sscanf(peer, "%ld %d", &pid, &fd) != 2) {
    snprintf(word, cap, "!rank %d published a malformed segment address", j);
    return -1;
  }
  s->pid[j] = (pid_t)pid;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/fd/%d", pid, fd);
  int pfd = open(path, O_RDWR | O_CLOEXEC);
  if (pfd < 0) {
    snprintf(word, cap, "!cannot open rank %d's segment (%s): %s", j, path, strerror(errno));
    return -1;
  }
  struct stat st;
  void *p = MAP_FAILED;
  if (fstat(pfd, &st) == 0 && (size_t)st.st_size == s->seg_bytes)
    p = mmap(NULL, s->seg_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
  close(pfd);
  const wick_shm_header *h = p;
  if (p == MAP_FAILED || h->magic != WICK_SHM_MAGIC || h->rank != (uint32_t)j || h->size != (uint32_t)s->size ||
      h->slot_bytes != s->slot_bytes) {
    if (p != MAP_FAILED) munmap(p, s->seg_bytes);
    snprintf(word, cap, "!rank %d's segment is not the group's (size or header differs)", j);
    return -1;
  }
  s->base[j] = p;
  s->pidfd[j] = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  return 0;
}

wick_status wick_shm_segs_open(wick_store_client *store, const char *prefix, int rank, int size,
                               double timeout_s, size_t slot_bytes, wick_shm_segs *s) {
  memset(s, 0, sizeof *s);
  s->rank = rank;
  s->size = size;
  s->fd = -1;
  s->slot_bytes = (slot_bytes + 63) & ~(size_t)63;
  s->seg_bytes = WICK_SHM_HEADER_BYTES + 2 * s->slot_bytes;
  s->base = calloc((size_t)size, sizeof *s->base);
  s->pid = calloc((size_t)size, sizeof *s->pid);
  s->pidfd = malloc((size_t)size * sizeof *s->pidfd);
  char **words = calloc((size_t)size, sizeof *words);
  if (!s->base || !s->pid || !s->pidfd || !words) {
    free(words);
    wick_shm_segs_close(s);
    return wick_errorf(WICK_ERR_OOM, "shared memory: out of memory");
  }
  for (int j = 0; j < size; j++) s->pidfd[j] = -1;
  s->pid[rank] = getpid();
  char word[512];
  make_own(s, word, sizeof word);
  wick_status st = agree(store, prefix, "seg", rank, size, timeout_s, word, words);
  if (st == WICK_OK) {
    word[0] = '1';
    word[1] = 0;
    for (int j = 0; j < size; j++)
      if (j != rank && map_peer(s, j, words[j], word, sizeof word) != 0) break;
    free_words(words, size);
    words = calloc((size_t)size, sizeof *words);
    st = words ? agree(store, prefix, "map", rank, size, timeout_s, word, words)
               : wick_errorf(WICK_ERR_OOM, "shared memory: out of memory");
  }
  if (words) free_words(words, size);
  if (st != WICK_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", wick_last_error());
    wick_shm_segs_close(s);
    return wick_errorf(st, "%s", msg);
  }
  return WICK_OK;
}

void wick_shm_segs_close(wick_shm_segs *s) {
  for (int j = 0; s->base && j < s->size; j++)
    if (s->base[j]) munmap(s->base[j], s->seg_bytes);
  for (int j = 0; s->pidfd && j < s->size; j++)
    if (s->pidfd[j] >= 0) close(s->pidfd[j]);
  if (s->fd >= 0) close(s->fd);
  free(s->base);
  free(s->pid);
  free(s->pidfd);
  memset(s, 0, sizeof *s);
  s->fd = -1;
}

int wick_shm_peer_dead(const wick_shm_segs *s, int j) {
  if (s->pidfd[j] >= 0) {
    struct pollfd p = {.fd = s->pidfd[j], .events = POLLIN};
    return poll(&p, 1, 0) > 0;
  }
  return kill(s->pid[j], 0) != 0 && errno == ESRCH;
}
