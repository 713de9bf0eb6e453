/* Worker processes: fork/exec, fork for spawn, and the supervision loop that forwards their
 * output, notices the first failure and stops the rest (see launch.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dist/launch.h"

static void proc_init(wick_proc *p) {
  memset(p, 0, sizeof *p);
  p->out_fd = p->err_fd = p->msg_fd = -1;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* In a child, before anything else: die with the parent, even if it died already. The signal
 * is SIGUSR2 (whose default action also ends the process) so that a worker can take its own
 * children along (wick_dist_worker_guard). */
static void child_setup(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, WICK_PARENT_DEATH_SIGNAL);
  if (getppid() != parent) _exit(1);
  /* its own process group, so that stopping a worker also stops what it started */
  setpgid(0, 0);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  signal(WICK_PARENT_DEATH_SIGNAL, SIG_DFL); /* an ignored one would not end the worker */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A worker whose launcher died: everything in its process group (itself, what it started). */
static void on_parent_death(int sig) {
  (void)sig;
  kill(0, SIGKILL);
  _exit(1);
}

void wick_dist_worker_guard(void) {
  if (getpgrp() != getpid()) return; /* not a worker started by child_setup */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_parent_death;
  sigemptyset(&sa.sa_mask);
  sigaction(WICK_PARENT_DEATH_SIGNAL, &sa, NULL);
  if (getppid() == 1) on_parent_death(0); /* the launcher went before the handler was in place */
}

wick_status wick_dist_exec_worker(const char *exe, char *const argv[], char *const envp[], int capture,
                                  wick_proc *p) {
  proc_init(p);
  int out[2] = { -1, -1 }, err[2] = { -1, -1 };
  if (capture && (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)) {
    int e = errno;
    close_fd(&out[0]); close_fd(&out[1]); close_fd(&err[0]); close_fd(&err[1]);
    return wick_errorf(WICK_ERR_DIST, "launch: cannot create pipes: %s", strerror(e));
  }
  fflush(NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close_fd(&out[0]); close_fd(&out[1]); close_fd(&err[0]); close_fd(&err[1]);
    return wick_errorf(WICK_ERR_DIST, "launch: fork failed: %s", strerror(e));
  }
  if (pid == 0) {
    /* only async-signal-safe calls from here on: the parent may have threads */
    child_setup(parent);
    if (capture) {
      /* workers are not in the terminal's foreground group: a read would stop them */
      int null = open("/dev/null", O_RDONLY);
      if (null >= 0) dup2(null, 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
    }
    execve(exe, argv, envp);
    static const char msg[] = "launch: exec of the worker failed\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
  }
  setpgid(pid, pid); /* also here: no window where a signal to the group misses it */
  close_fd(&out[1]);
  close_fd(&err[1]);
  p->pid = pid;
  p->out_fd = out[0];
  p->err_fd = err[0];
  return WICK_OK;
}

wick_status wick_dist_fork_worker(wick_proc *p, int *is_child, int *msg_out) {
  proc_init(p);
  *is_child = 0;
  int m[2];
  if (pipe2(m, O_CLOEXEC) != 0) return wick_errorf(WICK_ERR_DIST, "spawn: cannot create a pipe: %s", strerror(errno));
  fflush(NULL); /* or buffered output would be written twice */
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(m[0]);
    close(m[1]);
    return wick_errorf(WICK_ERR_DIST, "spawn: fork failed: %s", strerror(e));
  }
  if (pid == 0) {
    child_setup(parent);
    close(m[0]);
    *is_child = 1;
    *msg_out = m[1];
    return WICK_OK;
  }
  setpgid(pid, pid);
  close(m[1]);
  p->pid = pid;
  p->msg_fd = m[0];
  return WICK_OK;
}

/* ---- supervision ---- */

static volatile sig_atomic_t got_signal = 0;
static int wake_pipe[2] = { -1, -1 };

static void on_signal(int sig) {
  int saved = errno;
  got_signal = sig;
  if (wake_pipe[1] >= 0) {
    ssize_t w = write(wake_pipe[1], "s", 1);
    (void)w;
  }
  errno = saved;
}

/* A worker's exit wakes the loop at once, so that exits are seen in the order they happen. */
static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  if (wake_pipe[1] >= 0) {
    ssize_t w = write(wake_pipe[1], "c", 1);
    (void)w;
  }
  errno = saved;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

static void emit_line(int rank, int fd, const char *s, size_t n, int prefix) {
  char head[32];
  int hl = prefix ? snprintf(head, sizeof head, "[%d] ", rank) : 0;
  char *buf = malloc((size_t)hl + n + 1);
  if (!buf) return;
  memcpy(buf, head, (size_t)hl);
  memcpy(buf + hl, s, n);
  buf[hl + n] = '\n';
  write_all(fd, buf, (size_t)hl + n + 1); /* one write per line keeps lines whole */
  free(buf);
}

static void keep_tail(wick_proc *p, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    p->tail[p->tail_pos++] = s[i];
    if (p->tail_pos == WICK_PROC_TAIL) { p->tail_pos = 0; p->tail_full = 1; }
  }
}

/* Splits what a worker wrote into lines and forwards them (stream 0: stdout, 1: stderr). */
static void forward(wick_proc *p, int rank, int stream, const char *s, size_t n, int prefix, int eof) {
  int fd = stream ? 2 : 1;
  if (stream) keep_tail(p, s, n);
  for (size_t i = 0; i < n; i++) {
    size_t *len = &p->line_len[stream];
    if (s[i] == '\n' || *len == WICK_PROC_LINE) {
      emit_line(rank, fd, p->line[stream], *len, prefix);
      *len = 0;
      if (s[i] == '\n') continue;
    }
    p->line[stream][(*len)++] = s[i];
  }
  if (eof && p->line_len[stream]) {
    emit_line(rank, fd, p->line[stream], p->line_len[stream], prefix);
    p->line_len[stream] = 0;
  }
}

static void read_msg(wick_proc *p, const char *s, size_t n) {
  if (p->msg_len + n > (1u << 20)) return; /* a bounded error message */
  char *m = realloc(p->msg, p->msg_len + n + 1);
  if (!m) return;
  memcpy(m + p->msg_len, s, n);
  p->msg = m;
  p->msg_len += n;
  p->msg[p->msg_len] = 0;
}

/* Reads one ready fd of a worker (which: 0 out, 1 err, 2 msg); closes it at EOF. */
static void drain(wick_proc *p, int rank, int which, int prefix) {
  int *fd = which == 0 ? &p->out_fd : which == 1 ? &p->err_fd : &p->msg_fd;
  char buf[65536];
  ssize_t got = read(*fd, buf, sizeof buf);
  if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (got <= 0) {
    if (which < 2) forward(p, rank, which, buf, 0, prefix, 1);
    close_fd(fd);
    return;
  }
  if (which < 2) forward(p, rank, which, buf, (size_t)got, prefix, 0);
  else read_msg(p, buf, (size_t)got);
}

/* Signals each worker's process group; with all, also the groups of workers that exited
 * (what they started may still run). */
static void signal_all(wick_proc *procs, int n, int sig, int all) {
  for (int i = 0; i < n; i++)
    if (procs[i].pid > 0 && (all || !procs[i].exited)) {
      kill(-procs[i].pid, sig);
      /* a stopped worker (SIGSTOP, the heartbeat's case) acts on SIGTERM only once continued */
      if (sig == SIGTERM) kill(-procs[i].pid, SIGCONT);
    }
}

void wick_dist_supervise(wick_proc *procs, int n, const wick_supervise_opts *o, int *failed, int *interrupted) {
  int prefix = o->prefix, base = o->rank_base;
  double grace_s = o->grace_s;
  *failed = -1;
  *interrupted = 0;
  got_signal = 0;
  if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) wake_pipe[0] = wake_pipe[1] = -1;
  struct sigaction sa, sc, old_int, old_term, old_chld;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  memset(&sc, 0, sizeof sc);
  sc.sa_handler = on_child;
  sc.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&sc.sa_mask);
  sigaction(SIGCHLD, &sc, &old_chld);
  int pass = 0;

  struct pollfd *fds = calloc((size_t)n * 3 + 1, sizeof *fds);
  int *who = calloc((size_t)n * 3 + 1, sizeof *who);
  int stopping = 0, killed = 0;
  int64_t kill_at = 0, all_exited_at = -1, tick_at = now_ms() + o->tick_ms;
  for (;;) {
    int nf = 0;
    if (fds && wake_pipe[0] >= 0) { fds[nf] = (struct pollfd){ wake_pipe[0], POLLIN, 0 }; who[nf++] = -1; }
    int open_fds = 0;
    for (int i = 0; fds && i < n; i++) {
      int f3[3] = { procs[i].out_fd, procs[i].err_fd, procs[i].msg_fd };
      for (int k = 0; k < 3; k++)
        if (f3[k] >= 0) { fds[nf] = (struct pollfd){ f3[k], POLLIN, 0 }; who[nf++] = i * 3 + k; open_fds++; }
    }
    poll(fds, (nfds_t)nf, 50);
    for (int j = 0; j < nf; j++) {
      if (!fds[j].revents) continue;
      if (who[j] < 0) {
        char b[16];
        while (read(wake_pipe[0], b, sizeof b) > 0) {}
      } else {
        drain(&procs[who[j] / 3], base + who[j] / 3, who[j] % 3, prefix);
      }
    }
    int alive = 0;
    pass++;
    /* exits seen in one pass count as simultaneous: a failure found earlier in the pass does
     * not make the later ones "after the stop", unless the stop's own SIGTERM ended them */
    int stopping_before = stopping;
    for (int i = 0; i < n; i++) {
      wick_proc *p = &procs[i];
      if (p->exited) continue;
      int st;
      pid_t r = waitpid(p->pid, &st, WNOHANG);
      if (r == p->pid) {
        p->exited = 1;
        p->exit_pass = pass;
        if (WIFSIGNALED(st)) p->sig = WTERMSIG(st);
        else p->code = WEXITSTATUS(st);
        p->after_stop = stopping_before || (stopping && p->sig == SIGTERM);
        if (!stopping && (p->sig || p->code)) {
          *failed = i;
          stopping = 1;
          kill_at = now_ms() + (int64_t)(grace_s * 1000);
          signal_all(procs, n, SIGTERM, 1);
        }
      } else if (r < 0 && errno == ECHILD) {
        p->exited = 1; /* reaped elsewhere: nothing to wait for */
      } else {
        alive++;
      }
    }
    if (o->tick && !stopping && alive && now_ms() >= tick_at) {
      if (o->tick(o->ud)) {
        *failed = WICK_SUPERVISE_EXTERNAL;
        stopping = 1;
        kill_at = now_ms() + (int64_t)(grace_s * 1000);
        signal_all(procs, n, SIGTERM, 1);
      }
      tick_at = now_ms() + o->tick_ms;
    }
    if (got_signal && !*interrupted) {
      *interrupted = got_signal;
      if (!stopping) {
        stopping = 1;
        kill_at = now_ms() + (int64_t)(grace_s * 1000);
      }
      signal_all(procs, n, got_signal, 1);
    }
    if (stopping && !killed && alive && now_ms() >= kill_at) {
      signal_all(procs, n, SIGKILL, 1);
      killed = 1;
    }
    if (!alive) {
      /* the pipes may be held open by a worker's own children: drain briefly, then stop */
      if (all_exited_at < 0) all_exited_at = now_ms();
      if (open_fds == 0 || now_ms() - all_exited_at > 500) break;
    }
    if (!fds) break;
  }
  if (stopping) signal_all(procs, n, SIGKILL, 1); /* no orphans after a failure */
  for (int i = 0; i < n; i++) {
    if (procs[i].line_len[0]) forward(&procs[i], base + i, 0, "", 0, prefix, 1);
    if (procs[i].line_len[1]) forward(&procs[i], base + i, 1, "", 0, prefix, 1);
  }
  free(fds);
  free(who);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  sigaction(SIGCHLD, &old_chld, NULL);
  close_fd(&wake_pipe[0]);
  close_fd(&wake_pipe[1]);
}

void wick_proc_tail_lines(const wick_proc *p, int lines, char *buf, size_t size) {
  /* unroll the ring */
  size_t n = p->tail_full ? WICK_PROC_TAIL : p->tail_pos;
  char *all = malloc(n + 1);
  if (!all || size == 0) { if (size) buf[0] = 0; free(all); return; }
  if (p->tail_full) {
    memcpy(all, p->tail + p->tail_pos, WICK_PROC_TAIL - p->tail_pos);
    memcpy(all + WICK_PROC_TAIL - p->tail_pos, p->tail, p->tail_pos);
  } else {
    memcpy(all, p->tail, n);
  }
  size_t end = n;
  while (end > 0 && all[end - 1] == '\n') end--;
  size_t start = end;
  int seen = 0;
  while (start > 0) {
    if (all[start - 1] == '\n' && ++seen == lines) break;
    start--;
  }
  size_t len = end - start < size - 1 ? end - start : size - 1;
  memcpy(buf, all + end - len, len);
  buf[len] = 0;
  free(all);
}

void wick_proc_clear(wick_proc *p) {
  close_fd(&p->out_fd);
  close_fd(&p->err_fd);
  close_fd(&p->msg_fd);
  free(p->msg);
  p->msg = NULL;
  p->msg_len = 0;
}
