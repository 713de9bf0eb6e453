/* The event-file writer thread (writer.h): pthread + condition variables + a FIFO of framed
 * records. fsync policy: on flush() and close() only; periodic and max_queue writes just hand
 * whole records to the kernel, which survives a crash of the process (not of the machine). */
#include "tb/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tb/event.h"
#include "tb/record.h"

typedef struct rec {
  struct rec *next;
  size_t n;
  uint8_t data[];
} rec;

struct wick_tb_writer {
  pthread_mutex_t mu;
  pthread_cond_t wake; /* to the thread: work to do */
  pthread_cond_t done; /* from the thread: a batch was written */
  rec *head, *tail;
  size_t pending;
  int max_queue;
  double flush_secs;
  uint64_t flush_asked, flush_done;
  int stop, closed, thread_started;
  int fd;
  pid_t pid;
  char err[512]; /* first write error, reported on every later call */
  pthread_t thread;
  char *path;
  wick_tb_writer *next_open; /* list closed at exit */
};

static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static wick_tb_writer *open_list;
static int atexit_done;
static atomic_int file_counter;

static void close_all_at_exit(void) {
  for (;;) {
    pthread_mutex_lock(&open_mu);
    wick_tb_writer *w = open_list;
    while (w && w->pid != getpid()) w = w->next_open; /* a forked child's copies are not ours */
    pthread_mutex_unlock(&open_mu);
    if (!w) return;
    wick_tb_writer_close(w);
  }
}

static void list_remove(wick_tb_writer *w) {
  pthread_mutex_lock(&open_mu);
  for (wick_tb_writer **p = &open_list; *p; p = &(*p)->next_open)
    if (*p == w) { *p = w->next_open; break; }
  pthread_mutex_unlock(&open_mu);
}

static double now_secs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Writes a batch of whole records with one write(2) (one syscall per record was the writer's
 * main cost); falls back to a write per record if the batch cannot be gathered. Returns 0 or
 * an errno. */
static int write_batch(int fd, const rec *batch) {
  size_t total = 0;
  for (const rec *r = batch; r; r = r->next) total += r->n;
  uint8_t *buf = total ? malloc(total) : NULL;
  if (buf) {
    size_t off = 0;
    for (const rec *r = batch; r; r = r->next) {
      memcpy(buf + off, r->data, r->n);
      off += r->n;
    }
    int e = write_all(fd, buf, total) != 0 ? errno : 0;
    free(buf);
    return e;
  }
  for (const rec *r = batch; r; r = r->next)
    if (write_all(fd, r->data, r->n) != 0) return errno;
  return 0;
}

static void *thread_main(void *arg) {
  wick_tb_writer *w = arg;
  pthread_mutex_lock(&w->mu);
  double last = now_secs();
  for (;;) {
    while (!w->stop && w->flush_asked == w->flush_done && w->pending < (size_t)w->max_queue) {
      if (w->pending == 0) {
        pthread_cond_wait(&w->wake, &w->mu);
        last = now_secs();
        continue;
      }
      double deadline = last + w->flush_secs;
      if (now_secs() >= deadline) break;
      struct timespec ts;
      ts.tv_sec = (time_t)deadline;
      ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
      pthread_cond_timedwait(&w->wake, &w->mu, &ts);
    }
    rec *batch = w->head;
    w->head = w->tail = NULL;
    w->pending = 0;
    uint64_t asked = w->flush_asked;
    int sync = asked != w->flush_done || w->stop;
    int failed = w->err[0] != 0;
    pthread_mutex_unlock(&w->mu);

    int e = failed ? 0 : write_batch(w->fd, batch);
    while (batch) {
      rec *next = batch->next;
      free(batch);
      batch = next;
    }
    if (!failed && !e && sync && fsync(w->fd) != 0 && errno != EINVAL) e = errno;
    last = now_secs();

    pthread_mutex_lock(&w->mu);
    if (e && !w->err[0])
      snprintf(w->err, sizeof w->err, "SummaryWriter: writing %s failed: %s", w->path, strerror(e));
    w->flush_done = asked;
    pthread_cond_broadcast(&w->done);
    if (w->stop && !w->head) break;
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

wick_status wick_tb_mkdirs(const char *dir) {
  char *p = strdup(dir);
  if (!p) return wick_errorf(WICK_ERR_OOM, "SummaryWriter: out of memory");
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == 0) {
      char c = *s;
      *s = 0;
      if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        wick_status st = wick_errorf(WICK_ERR_IO, "SummaryWriter: cannot create directory %s: %s", p, strerror(e));
        free(p);
        return st;
      }
      *s = c;
      if (!c) break;
    }
  }
  free(p);
  struct stat sb;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return wick_errorf(WICK_ERR_IO, "SummaryWriter: %s is not a directory", dir);
  return WICK_OK;
}

wick_status wick_tb_writer_open(const char *dir, const char *suffix, int max_queue,
                                double flush_secs, double wall_time, wick_tb_writer **out) {
  *out = NULL;
  if (max_queue < 1) return wick_errorf(WICK_ERR_ARG, "SummaryWriter: max_queue must be >= 1 (got %d)", max_queue);
  if (!(flush_secs > 0) || isinf(flush_secs))
    return wick_errorf(WICK_ERR_ARG, "SummaryWriter: flush_secs must be a positive number (got %g)", flush_secs);
  if (strchr(suffix, '/'))
    return wick_errorf(WICK_ERR_ARG, "SummaryWriter: filename_suffix must not contain '/' (got \"%s\")", suffix);
  WICK_TRY(wick_tb_mkdirs(dir));
  char host[256] = "localhost";
  if (gethostname(host, sizeof host - 1) != 0) strcpy(host, "localhost");
  host[sizeof host - 1] = 0;
  for (char *c = host; *c; c++) if (*c == '/') *c = '_';

  size_t plen = strlen(dir) + strlen(host) + strlen(suffix) + 96;
  char *path = malloc(plen);
  if (!path) return wick_errorf(WICK_ERR_OOM, "SummaryWriter: out of memory");
  int fd = -1;
  for (int tries = 0; tries < 10000; tries++) {
    snprintf(path, plen, "%s/events.out.tfevents.%010lld.%s.%ld.%d%s", dir, (long long)wall_time,
             host, (long)getpid(), atomic_fetch_add(&file_counter, 1), suffix);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST) break;
  }
  if (fd < 0) {
    int e = errno;
    wick_status st = wick_errorf(WICK_ERR_IO, "SummaryWriter: cannot create %s: %s", path, strerror(e));
    free(path);
    return st;
  }
  /* The first record is written before the constructor returns: a file is never empty. */
  wick_pb ev = {0};
  wick_tb_event_file_version(&ev, wall_time);
  uint8_t *framed = ev.oom ? NULL : malloc(ev.len + WICK_TB_RECORD_OVERHEAD);
  int werr = 0;
  if (framed) {
    wick_tb_record_frame(framed, ev.data, ev.len);
    if (write_all(fd, framed, ev.len + WICK_TB_RECORD_OVERHEAD) != 0) werr = errno;
  }
  free(framed);
  wick_pb_free(&ev);
  wick_tb_writer *w = framed ? calloc(1, sizeof *w) : NULL;
  if (!w || werr) {
    close(fd);
    unlink(path);
    wick_status st = werr ? wick_errorf(WICK_ERR_IO, "SummaryWriter: writing %s failed: %s", path, strerror(werr))
                          : wick_errorf(WICK_ERR_OOM, "SummaryWriter: out of memory");
    free(w);
    free(path);
    return st;
  }
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->wake, NULL);
  pthread_cond_init(&w->done, NULL);
  w->fd = fd;
  w->path = path;
  w->max_queue = max_queue;
  w->flush_secs = flush_secs;
  w->pid = getpid();
  if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
    close(fd);
    free(path);
    free(w);
    return wick_errorf(WICK_ERR_IO, "SummaryWriter: cannot start the writer thread");
  }
  w->thread_started = 1;
  pthread_mutex_lock(&open_mu);
  w->next_open = open_list;
  open_list = w;
  if (!atexit_done) atexit_done = atexit(close_all_at_exit) == 0;
  pthread_mutex_unlock(&open_mu);
  *out = w;
  return WICK_OK;
}

const char *wick_tb_writer_path(const wick_tb_writer *w) { return w->path; }
int wick_tb_writer_is_closed(const wick_tb_writer *w) { return w->closed; }

/* Called with w->mu held. */
static wick_status usable(wick_tb_writer *w) {
  if (w->closed) return wick_errorf(WICK_ERR_ARG, "SummaryWriter: the writer is closed");
  if (w->pid != getpid())
    return wick_errorf(WICK_ERR_ARG, "SummaryWriter: this writer belongs to process %ld (used after fork)", (long)w->pid);
  if (w->err[0]) return wick_errorf(WICK_ERR_IO, "%s", w->err);
  return WICK_OK;
}

wick_status wick_tb_writer_add(wick_tb_writer *w, const void *event, size_t n) {
  rec *r = malloc(sizeof *r + n + WICK_TB_RECORD_OVERHEAD);
  if (!r) return wick_errorf(WICK_ERR_OOM, "SummaryWriter: out of memory (event of %zu bytes)", n);
  r->next = NULL;
  r->n = n + WICK_TB_RECORD_OVERHEAD;
  wick_tb_record_frame(r->data, event, n);
  pthread_mutex_lock(&w->mu);
  wick_status st = usable(w);
  if (st != WICK_OK) {
    pthread_mutex_unlock(&w->mu);
    free(r);
    return st;
  }
  if (w->tail) w->tail->next = r; else w->head = r;
  w->tail = r;
  /* the first pending record starts the thread's flush_secs clock; max_queue ends the wait */
  if (++w->pending == 1 || w->pending >= (size_t)w->max_queue) pthread_cond_signal(&w->wake);
  /* the caller waits only when the disk falls far behind (bounded memory), not at every batch */
  size_t backlog = 2 * (size_t)w->max_queue > 4096 ? 2 * (size_t)w->max_queue : 4096;
  while (w->pending >= backlog && !w->err[0]) pthread_cond_wait(&w->done, &w->mu);
  pthread_mutex_unlock(&w->mu);
  return WICK_OK;
}

wick_status wick_tb_writer_flush(wick_tb_writer *w) {
  pthread_mutex_lock(&w->mu);
  wick_status st = usable(w);
  if (st == WICK_OK) {
    uint64_t gen = ++w->flush_asked;
    pthread_cond_signal(&w->wake);
    while (w->flush_done < gen) pthread_cond_wait(&w->done, &w->mu);
    if (w->err[0]) st = wick_errorf(WICK_ERR_IO, "%s", w->err);
  }
  pthread_mutex_unlock(&w->mu);
  return st;
}

wick_status wick_tb_writer_close(wick_tb_writer *w) {
  pthread_mutex_lock(&w->mu);
  if (w->closed || w->pid != getpid()) {
    pthread_mutex_unlock(&w->mu);
    return WICK_OK;
  }
  w->closed = 1;
  w->stop = 1;
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  w->thread_started = 0;
  list_remove(w);
  int e = close(w->fd) != 0 ? errno : 0;
  w->fd = -1;
  if (w->err[0]) return wick_errorf(WICK_ERR_IO, "%s", w->err);
  if (e) return wick_errorf(WICK_ERR_IO, "SummaryWriter: closing %s failed: %s", w->path, strerror(e));
  return WICK_OK;
}

void wick_tb_writer_free(wick_tb_writer *w) {
  if (!w) return;
  if (w->pid == getpid()) {
    wick_tb_writer_close(w);
  } else {
    list_remove(w); /* a forked child: the thread and the records belong to the parent */
  }
  rec *r = w->head;
  while (r) { rec *n = r->next; free(r); r = n; }
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->wake);
  pthread_cond_destroy(&w->done);
  free(w->path);
  free(w);
}
