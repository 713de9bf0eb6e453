/* The forked worker pool of the DataLoader: processes, shared-memory slots (memfd), the small
 * task/result messages over Unix sockets, and the death/exit handling (see worker_pool.h). */
#define _GNU_SOURCE
#include "worker_pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLOT_INITIAL_BYTES ((size_t)1 << 20)
/* How long freeing the pool waits for workers to leave on their own before SIGKILL. */
#define EXIT_GRACE_MS 500

enum { SLOT_FREE, SLOT_BUSY, SLOT_DONE };

struct wick_worker_slot {
  int fd;
  void *map;
  size_t cap; /* bytes mapped in this process */
  int state;
  int64_t task;
  size_t len;   /* result length */
  bool failed;  /* the result is an error message */
};

typedef struct {
  pid_t pid;
  int sock; /* the parent's end; -1 once closed */
  bool reaped;
} worker;

struct wick_worker_pool {
  int n, slots;
  worker *w;
  wick_worker_slot *s; /* n * slots, worker i owns [i * slots, (i + 1) * slots) */
  pid_t owner;         /* the process that started the workers */
  wick_status broken;  /* WICK_OK while usable */
  char *broken_msg;
  struct wick_worker_pool *next; /* in live_pools */
};

/* The pools of this process: a new worker closes the sockets and slots of the others, or
 * their workers would not see the end of their sockets when those pools are freed. */
static wick_worker_pool *live_pools;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

static void unlink_pool(wick_worker_pool *p) {
  pthread_mutex_lock(&live_lock);
  for (wick_worker_pool **q = &live_pools; *q; q = &(*q)->next)
    if (*q == p) { *q = p->next; break; }
  pthread_mutex_unlock(&live_lock);
}

/* One message each way: the task and its slot; back, the result's length and success. */
typedef struct {
  int64_t task;
  int32_t slot;
  int32_t failed;
  uint64_t len;
} pool_msg;

/* ---- slots ---- */

void *wick_worker_slot_data(wick_worker_slot *s) { return s->map; }
size_t wick_worker_slot_capacity(const wick_worker_slot *s) { return s->cap; }

static size_t page_round(size_t n) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  return (n + pg - 1) / pg * pg;
}

wick_status wick_worker_slot_reserve(wick_worker_slot *s, size_t nbytes) {
  if (nbytes <= s->cap) return WICK_OK;
  struct stat st;
  if (fstat(s->fd, &st) != 0)
    return wick_errorf(WICK_ERR_IO, "DataLoader: shared memory slot: %s", strerror(errno));
  size_t size = (size_t)st.st_size;
  if (size < nbytes) {
    /* grow geometrically: batch sizes rarely change, but the first few may grow */
    size = page_round(nbytes > 2 * s->cap ? nbytes : 2 * s->cap);
    if (ftruncate(s->fd, (off_t)size) != 0)
      return wick_errorf(WICK_ERR_OOM, "DataLoader: cannot grow a shared memory slot to %zu bytes: %s",
                         size, strerror(errno));
  }
  void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
  if (m == MAP_FAILED)
    return wick_errorf(WICK_ERR_OOM, "DataLoader: cannot map a shared memory slot of %zu bytes: %s",
                       size, strerror(errno));
  if (s->map) munmap(s->map, s->cap);
  s->map = m;
  s->cap = size;
  return WICK_OK;
}

static void slot_close(wick_worker_slot *s) {
  if (s->map) munmap(s->map, s->cap);
  if (s->fd >= 0) close(s->fd);
  s->map = NULL;
  s->fd = -1;
  s->cap = 0;
}

/* ---- messages ---- */

static bool send_msg(int fd, const pool_msg *m) {
  const char *p = (const char *)m;
  size_t done = 0;
  while (done < sizeof *m) {
    ssize_t r = send(fd, p + done, sizeof *m - done, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += (size_t)r;
  }
  return true;
}

/* 1: a message, 0: end of stream (the other side is gone), -1: error. */
static int recv_msg(int fd, pool_msg *m) {
  char *p = (char *)m;
  size_t done = 0;
  while (done < sizeof *m) {
    ssize_t r = recv(fd, p + done, sizeof *m - done, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 0;
    done += (size_t)r;
  }
  return 1;
}

/* ---- the child ---- */

static __attribute__((noreturn)) void child_main(wick_worker_pool *p, int id, int sock,
                                                 pid_t parent, wick_worker_init_fn init,
                                                 wick_worker_task_fn fn, void *ctx) {
  /* die with the parent, even if it is killed; it may already be gone */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);
  /* Ctrl-C is the parent's to handle: it stops the workers by closing the pool */
  signal(SIGINT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  /* keep only our own socket and slots, so that the parent closing a socket is seen as the
   * end of the stream by its worker */
  for (int i = 0; i < id; i++) { close(p->w[i].sock); p->w[i].sock = -1; }
  for (int i = 0; i < p->n * p->slots; i++)
    if (i / p->slots != id) slot_close(&p->s[i]);
  /* the parent holds live_lock across the forks; this process starts with an empty list
   * (the other pools' copies may still be freed here by Lua's GC: they then touch nothing) */
  for (wick_worker_pool *q = live_pools; q; q = q->next) {
    if (q == p) continue;
    for (int i = 0; i < q->n; i++)
      if (q->w[i].sock >= 0) { close(q->w[i].sock); q->w[i].sock = -1; }
    for (int i = 0; i < q->n * q->slots; i++) slot_close(&q->s[i]);
  }
  live_pools = NULL;
  pthread_mutex_init(&live_lock, NULL);
  if (init) init(ctx, id);
  fflush(NULL);
  pool_msg m;
  while (recv_msg(sock, &m) == 1) {
    pool_msg r = {m.task, m.slot, 0, 0};
    size_t out_len = 0;
    if (m.slot < id * p->slots || m.slot >= (id + 1) * p->slots) _exit(3);
    wick_worker_slot *s = &p->s[m.slot];
    if (wick_worker_slot_reserve(s, m.len) != WICK_OK) _exit(4);
    r.failed = !fn(ctx, id, m.task, s, m.len, &out_len);
    r.len = out_len;
    /* what the dataset printed goes out now, not when the process ends */
    fflush(NULL);
    if (!send_msg(sock, &r)) break;
  }
  _exit(0);
}

/* ---- the parent ---- */

static void pool_break(wick_worker_pool *p, wick_status s) {
  if (p->broken != WICK_OK) return;
  p->broken = s;
  p->broken_msg = strdup(wick_last_error());
}

static wick_status broken_error(wick_worker_pool *p) {
  return wick_errorf(p->broken, "%s", p->broken_msg ? p->broken_msg : "DataLoader: workers failed");
}

/* Worker i is gone (or going): reap it and describe how it ended. */
static wick_status worker_died(wick_worker_pool *p, int i, bool block) {
  worker *w = &p->w[i];
  int st = 0;
  pid_t r = 0;
  if (!w->reaped) {
    do r = waitpid(w->pid, &st, block ? 0 : WNOHANG); while (r < 0 && errno == EINTR);
    if (r == 0) return WICK_OK; /* still running */
    w->reaped = true;
  }
  wick_status s;
  if (r > 0 && WIFSIGNALED(st))
    s = wick_errorf(WICK_ERR_IO, "DataLoader worker %d (pid %d) was killed by signal %d (%s)", i,
                    (int)w->pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
  else if (r > 0 && WIFEXITED(st))
    s = wick_errorf(WICK_ERR_IO, "DataLoader worker %d (pid %d) exited unexpectedly with exit code %d",
                    i, (int)w->pid, WEXITSTATUS(st));
  else
    s = wick_errorf(WICK_ERR_IO, "DataLoader worker %d (pid %d) exited unexpectedly", i, (int)w->pid);
  pool_break(p, s);
  return s;
}

wick_status wick_worker_pool_start(int n, int slots, wick_worker_init_fn init,
                                   wick_worker_task_fn fn, void *ctx, wick_worker_pool **out) {
  if (n < 1 || n > 256)
    return wick_errorf(WICK_ERR_ARG, "DataLoader: num_workers must be 1 to 256 (got %d)", n);
  if (slots < 1 || slots > 64)
    return wick_errorf(WICK_ERR_ARG, "DataLoader: prefetch_factor must be 1 to 64 (got %d)", slots);
  wick_worker_pool *p = calloc(1, sizeof *p);
  if (!p) return wick_errorf(WICK_ERR_OOM, "DataLoader: out of memory");
  p->n = n;
  p->slots = slots;
  p->owner = getpid();
  p->w = calloc((size_t)n, sizeof *p->w);
  p->s = calloc((size_t)n * (size_t)slots, sizeof *p->s);
  if (!p->w || !p->s) { free(p->w); free(p->s); free(p); return wick_errorf(WICK_ERR_OOM, "DataLoader: out of memory"); }
  for (int i = 0; i < n; i++) { p->w[i].sock = -1; p->w[i].reaped = true; }
  for (int i = 0; i < n * slots; i++) p->s[i].fd = -1;
  wick_status s = WICK_OK;
  for (int i = 0; i < n * slots && s == WICK_OK; i++) {
    p->s[i].fd = memfd_create("wick-dataloader", MFD_CLOEXEC);
    if (p->s[i].fd < 0 || ftruncate(p->s[i].fd, (off_t)SLOT_INITIAL_BYTES) != 0)
      s = wick_errorf(WICK_ERR_OOM, "DataLoader: cannot create shared memory: %s", strerror(errno));
    else
      s = wick_worker_slot_reserve(&p->s[i], SLOT_INITIAL_BYTES);
  }
  /* buffered output would otherwise be written once by the parent and once per child */
  fflush(NULL);
  pid_t parent = getpid();
  pthread_mutex_lock(&live_lock);
  for (int i = 0; i < n && s == WICK_OK; i++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      s = wick_errorf(WICK_ERR_IO, "DataLoader: socketpair: %s", strerror(errno));
      break;
    }
    pid_t pid = fork();
    if (pid < 0) {
      close(sv[0]); close(sv[1]);
      s = wick_errorf(WICK_ERR_IO, "DataLoader: cannot start worker %d: fork: %s", i, strerror(errno));
      break;
    }
    if (pid == 0) {
      close(sv[0]);
      child_main(p, i, sv[1], parent, init, fn, ctx);
    }
    close(sv[1]);
    p->w[i].pid = pid;
    p->w[i].sock = sv[0];
    p->w[i].reaped = false;
  }
  p->next = live_pools;
  live_pools = p;
  pthread_mutex_unlock(&live_lock);
  if (s != WICK_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", wick_last_error());
    wick_worker_pool_free(p);
    return wick_errorf(s, "%s", msg);
  }
  *out = p;
  return WICK_OK;
}

int wick_worker_pool_size(const wick_worker_pool *p) { return p->n; }

static wick_worker_slot *free_slot(const wick_worker_pool *p, int64_t task) {
  int w = (int)(task % p->n);
  for (int i = w * p->slots; i < (w + 1) * p->slots; i++)
    if (p->s[i].state == SLOT_FREE) return &p->s[i];
  return NULL;
}

static wick_worker_slot *task_slot(const wick_worker_pool *p, int64_t task) {
  for (int i = 0; i < p->n * p->slots; i++)
    if (p->s[i].state != SLOT_FREE && p->s[i].task == task) return &p->s[i];
  return NULL;
}

bool wick_worker_pool_can_submit(const wick_worker_pool *p, int64_t task) {
  return task >= 0 && free_slot(p, task) != NULL;
}

int wick_worker_pool_pending(const wick_worker_pool *p) {
  int k = 0;
  for (int i = 0; i < p->n * p->slots; i++) k += p->s[i].state != SLOT_FREE;
  return k;
}

wick_status wick_worker_pool_submit(wick_worker_pool *p, int64_t task, size_t len,
                                    void (*fill_fn)(void *ctx, void *dst), void *fill_ctx) {
  if (p->broken != WICK_OK) return broken_error(p);
  if (task < 0) return wick_errorf(WICK_ERR_ARG, "DataLoader: negative task id %lld", (long long)task);
  if (task_slot(p, task))
    return wick_errorf(WICK_ERR_ARG, "DataLoader: batch %lld is already pending", (long long)task);
  wick_worker_slot *s = free_slot(p, task);
  int w = (int)(task % p->n);
  if (!s) return wick_errorf(WICK_ERR_ARG, "DataLoader: worker %d has no free slot for batch %lld", w,
                             (long long)task);
  WICK_TRY(wick_worker_slot_reserve(s, len));
  if (fill_fn) fill_fn(fill_ctx, s->map);
  pool_msg m = {task, (int32_t)(s - p->s), 0, len};
  if (!send_msg(p->w[w].sock, &m)) return worker_died(p, w, true);
  s->state = SLOT_BUSY;
  s->task = task;
  return WICK_OK;
}

/* Reads one message from worker i (or learns that it died). */
static wick_status drain_one(wick_worker_pool *p, int i) {
  pool_msg m;
  int r = recv_msg(p->w[i].sock, &m);
  if (r != 1) return worker_died(p, i, true);
  if (m.slot < i * p->slots || m.slot >= (i + 1) * p->slots || p->s[m.slot].state != SLOT_BUSY ||
      p->s[m.slot].task != m.task) {
    wick_status s = wick_errorf(WICK_ERR_IO, "DataLoader worker %d sent a malformed message", i);
    pool_break(p, s);
    return s;
  }
  wick_worker_slot *s = &p->s[m.slot];
  s->state = SLOT_DONE;
  s->len = m.len;
  s->failed = m.failed != 0;
  return WICK_OK;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Waits up to timeout_s for messages; *ready tells whether task's result arrived. */
static wick_status wait_result(wick_worker_pool *p, wick_worker_slot *target, double timeout_s) {
  double deadline = now_s() + timeout_s;
  struct pollfd fds[256];
  int who[256];
  while (target->state != SLOT_DONE) {
    int k = 0;
    for (int i = 0; i < p->n; i++) {
      bool busy = false;
      for (int j = i * p->slots; j < (i + 1) * p->slots; j++) busy |= p->s[j].state == SLOT_BUSY;
      if (!busy) continue;
      fds[k].fd = p->w[i].sock;
      fds[k].events = POLLIN;
      fds[k].revents = 0;
      who[k++] = i;
    }
    double left = deadline - now_s();
    if (left <= 0) return WICK_OK;
    /* wake up now and then to look for a worker that died without closing its socket
     * (a child process of the worker holding a copy of it) */
    int ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
    int rc = poll(fds, (nfds_t)k, ms);
    if (rc < 0 && errno != EINTR) {
      wick_status s = wick_errorf(WICK_ERR_IO, "DataLoader: poll: %s", strerror(errno));
      pool_break(p, s);
      return s;
    }
    if (rc == 0) {
      for (int j = 0; j < k; j++) {
        wick_status s = worker_died(p, who[j], false);
        if (s != WICK_OK) return s;
      }
      continue;
    }
    for (int j = 0; j < k && rc > 0; j++)
      if (fds[j].revents) WICK_TRY(drain_one(p, who[j]));
  }
  return WICK_OK;
}

wick_status wick_worker_pool_wait(wick_worker_pool *p, int64_t task, double timeout_s,
                                  const void **data, size_t *len) {
  *data = NULL;
  *len = 0;
  if (p->broken != WICK_OK) return broken_error(p);
  wick_worker_slot *s = task_slot(p, task);
  if (!s) return wick_errorf(WICK_ERR_ARG, "DataLoader: batch %lld was not submitted", (long long)task);
  WICK_TRY(wait_result(p, s, timeout_s > 0 ? timeout_s : 1e30));
  if (s->state != SLOT_DONE) return WICK_OK; /* not yet: *data stays NULL */
  if (s->len > s->cap) WICK_TRY(wick_worker_slot_reserve(s, s->len));
  if (s->failed) {
    int w = (int)(task % p->n);
    const char *msg = s->map;
    size_t n = s->len ? s->len - 1 : 0;
    wick_status st = wick_errorf(WICK_ERR_ARG, "DataLoader worker %d: %.*s", w, (int)n, s->len ? msg : "");
    s->state = SLOT_FREE;
    return st;
  }
  *data = s->map;
  *len = s->len;
  return WICK_OK;
}

void wick_worker_pool_release(wick_worker_pool *p, int64_t task) {
  wick_worker_slot *s = task_slot(p, task);
  if (s && s->state == SLOT_DONE) s->state = SLOT_FREE;
}

void wick_worker_pool_free(wick_worker_pool *p) {
  if (!p) return;
  unlink_pool(p);
  bool mine = getpid() == p->owner;
  for (int i = 0; i < p->n; i++)
    if (p->w[i].sock >= 0) { close(p->w[i].sock); p->w[i].sock = -1; }
  if (mine) {
    /* idle workers leave at the end of their socket; busy ones get a moment, then SIGKILL */
    double deadline = now_s() + EXIT_GRACE_MS / 1000.0;
    for (int i = 0; i < p->n; i++) {
      worker *w = &p->w[i];
      while (!w->reaped) {
        int st;
        pid_t r = waitpid(w->pid, &st, WNOHANG);
        if (r == w->pid || (r < 0 && errno != EINTR)) { w->reaped = true; break; }
        if (now_s() > deadline) {
          kill(w->pid, SIGKILL);
          while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR) {}
          w->reaped = true;
          break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
      }
    }
  }
  for (int i = 0; i < p->n * p->slots; i++) slot_close(&p->s[i]);
  free(p->broken_msg);
  free(p->w);
  free(p->s);
  free(p);
}
