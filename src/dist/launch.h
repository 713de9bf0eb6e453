/* Worker processes of a distributed run: started by `wick run -n N` (fork + exec of this
 * binary) or by wick.dist.spawn (fork of the Lua state), then supervised until all exit. When
 * one fails the others get SIGTERM, then SIGKILL after a grace period: never a silent hang. */
#ifndef WICK_DIST_LAUNCH_H
#define WICK_DIST_LAUNCH_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/status.h"

#define WICK_PROC_TAIL 8192 /* bytes of stderr kept for the failure report */
#define WICK_PROC_LINE 4096 /* longest forwarded line before it is cut */

typedef struct {
  pid_t pid;
  int out_fd, err_fd; /* pipes from the worker's stdout/stderr, or -1 (inherited) */
  int msg_fd;         /* spawn: the error message pipe, or -1 */
  /* filled by supervision */
  int exited, code, sig; /* exit code, or the signal that killed it (sig > 0) */
  int exit_pass;         /* the supervision pass that saw the exit (exits wake it at once, so
                          * passes order them); 0 while running */
  int after_stop;        /* it exited after the supervisor began stopping the workers */
  char *msg;             /* what came through msg_fd (malloc'ed, NUL-terminated) or NULL */
  size_t msg_len;
  char tail[WICK_PROC_TAIL]; /* the last stderr bytes, a ring */
  size_t tail_pos;
  int tail_full;
  char line[2][WICK_PROC_LINE]; /* partial output lines (stdout, stderr) */
  size_t line_len[2];
} wick_proc;

/* Forks and execs exe with argv/envp (NULL-terminated); with capture, the worker's stdout and
 * stderr go to pipes read by wick_dist_supervise. The child asks for SIGKILL when its parent
 * dies (PR_SET_PDEATHSIG). */
wick_status wick_dist_exec_worker(const char *exe, char *const argv[], char *const envp[], int capture,
                                  wick_proc *p);

/* The signal a worker gets when its launcher dies (PR_SET_PDEATHSIG). */
#define WICK_PARENT_DEATH_SIGNAL SIGUSR2

/* In a worker of `wick run -n N`: when the launcher dies, also kill what this worker started
 * (its process group), not only the worker. */
void wick_dist_worker_guard(void);

/* Forks the calling process. In the child *is_child = 1 and *msg_out is the write end of the
 * error pipe; in the parent p is filled. */
wick_status wick_dist_fork_worker(wick_proc *p, int *is_child, int *msg_out);

typedef struct {
  int prefix;       /* forward output lines with "[rank] " before them */
  int rank_base;    /* the rank of procs[0] in those prefixes (several nodes: node_rank * n) */
  double grace_s;   /* between SIGTERM and SIGKILL when stopping */
  /* Called about every tick_ms while workers run (multi-node: the other launchers' state);
   * nonzero stops the workers as a failure does, with *failed = WICK_SUPERVISE_EXTERNAL. */
  int (*tick)(void *ud);
  void *ud;
  int tick_ms;
} wick_supervise_opts;

#define WICK_SUPERVISE_EXTERNAL (-2)

/* Waits for all n workers, forwarding captured output. The first worker to fail stops the
 * others (SIGTERM, SIGKILL after grace_s); a SIGINT or SIGTERM to this process is forwarded the
 * same way. *failed = index of the first failure, WICK_SUPERVISE_EXTERNAL, or -1;
 * *interrupted = the signal received, or 0. */
void wick_dist_supervise(wick_proc *procs, int n, const wick_supervise_opts *o, int *failed, int *interrupted);

/* The last `lines` lines of a worker's captured stderr, into buf (NUL-terminated). */
void wick_proc_tail_lines(const wick_proc *p, int lines, char *buf, size_t size);

/* Frees what supervision allocated (msg) and closes the pipes. */
void wick_proc_clear(wick_proc *p);

#endif
