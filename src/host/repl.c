/* The REPL loop: libedit line editing, persistent history, completion and Ctrl-C on a terminal,
 * plain lines from a pipe. What to compile, show and complete is Lua policy (lua/wick/repl.lua). */
#include <errno.h>
#include <histedit.h>
#include <lauxlib.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>
#include <wchar.h>

#include "host.h"

typedef struct {
  lua_State *L;
  int policy;          /* registry ref of the wick.repl table */
  int tty;             /* stdin is a terminal: prompts, banner, history */
  EditLine *el;        /* NULL when stdin is not a terminal */
  History *hist;
  char *hist_path;     /* NULL: no history file */
  int hist_warned;
  int cancelled;       /* Ctrl-C at the prompt discarded the line */
  char prompt[256];
  char *pipe_line;     /* getline buffer for piped input */
  size_t pipe_cap;
} repl_state;

/* Signals only set flags; the reader notices them (never touch libedit or Lua from a handler). */
static volatile sig_atomic_t got_sigint, got_sigwinch;
static void on_sigint(int s) { (void)s; got_sigint = 1; }
static void on_sigwinch(int s) { (void)s; got_sigwinch = 1; }

/* Calls wick.repl[name] with the nargs values on top of the stack; leaves nres results. */
static int call_policy(repl_state *st, const char *name, int nargs, int nres) {
  lua_State *L = st->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, st->policy);
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  lua_insert(L, -1 - nargs);
  return lua_pcall(L, nargs, nres, 0);
}

static void report(lua_State *L, int status) {
  if (status == LUA_OK) return;
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
  fflush(stderr);
  lua_pop(L, 1);
}

/* ---- terminal input ---- */

static char *prompt_fn(EditLine *el) {
  repl_state *st;
  el_get(el, EL_CLIENTDATA, &st);
  return st->prompt;
}

/* Reads one character for libedit. Waiting happens in pselect with SIGINT/SIGWINCH unblocked
 * only there, so a Ctrl-C is never lost between the flag check and the wait; it becomes ^C,
 * which is bound to wick-interrupt. */
static int read_char(EditLine *el, wchar_t *wc) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGWINCH);
  mbstate_t ps;
  memset(&ps, 0, sizeof ps);
  char buf[MB_LEN_MAX];
  size_t n = 0;
  for (;;) {
    sigprocmask(SIG_BLOCK, &block, &old);
    if (got_sigint) {
      got_sigint = 0;
      sigprocmask(SIG_SETMASK, &old, NULL);
      *wc = 3;
      return 1;
    }
    if (got_sigwinch) {
      got_sigwinch = 0;
      sigprocmask(SIG_SETMASK, &old, NULL);
      el_resize(el); /* the terminal redraws itself; libedit only needs the new width */
      continue;
    }
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(STDIN_FILENO, &fds);
    int r = pselect(STDIN_FILENO + 1, &fds, NULL, NULL, NULL, &old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    unsigned char c;
    ssize_t got = read(STDIN_FILENO, &c, 1);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) return got == 0 ? 0 : -1;
    buf[n++] = (char)c;
    size_t k = mbrtowc(wc, buf, n, &ps);
    if (k == (size_t)-2 && n < sizeof buf) continue; /* more bytes of this character */
    if (k == (size_t)-1 || k == (size_t)-2) {       /* not valid in the locale: pass the byte */
      *wc = (wchar_t)(unsigned char)buf[0];
    }
    return 1;
  }
}

/* Ctrl-C at the prompt: show ^C at the end of the line and return it to be discarded. */
static unsigned char interrupt_fn(EditLine *el, int ch) {
  (void)ch;
  repl_state *st;
  el_get(el, EL_CLIENTDATA, &st);
  st->cancelled = 1;
  const LineInfo *li = el_line(el);
  el_cursor(el, (int)(li->lastchar - li->cursor));
  el_insertstr(el, "^C");
  el_push(el, "\n");
  return CC_REFRESH;
}

/* Tab: complete the common prefix of the candidates, or list them when it cannot grow. */
static unsigned char complete_fn(EditLine *el, int ch) {
  (void)ch;
  repl_state *st;
  el_get(el, EL_CLIENTDATA, &st);
  lua_State *L = st->L;
  int top = lua_gettop(L);
  const LineInfo *li = el_line(el);
  lua_pushlstring(L, li->buffer, (size_t)(li->cursor - li->buffer));
  if (call_policy(st, "complete", 1, 2) != LUA_OK || !lua_istable(L, -2)) {
    lua_settop(L, top);
    return CC_ERROR;
  }
  /* stack: candidates word */
  size_t wordlen = lua_rawlen(L, -1);
  lua_Integer n = (lua_Integer)lua_rawlen(L, -2);
  unsigned char ret = CC_ERROR;
  if (n > 0) {
    lua_rawgeti(L, -2, 1);
    size_t lcp;
    const char *first = lua_tolstring(L, -1, &lcp);
    for (lua_Integer i = 2; i <= n && first; i++) {
      lua_rawgeti(L, -3, i);
      const char *s = lua_tostring(L, -1);
      size_t j = 0;
      while (s && j < lcp && s[j] == first[j]) j++;
      lcp = j;
      lua_pop(L, 1);
    }
    if (first && lcp > wordlen) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      luaL_addlstring(&b, first + wordlen, lcp - wordlen);
      luaL_pushresult(&b);
      el_insertstr(el, lua_tostring(L, -1));
      ret = CC_REFRESH;
    } else if (n > 1) {
      int cols = 0;
      if (el_get(el, EL_GETTC, "co", &cols) != 0) cols = 0;
      lua_pushvalue(L, top + 1);
      lua_pushinteger(L, cols);
      if (call_policy(st, "columns", 2, 1) == LUA_OK && lua_isstring(L, -1)) {
        fprintf(stdout, "\n%s\n", lua_tostring(L, -1));
        fflush(stdout);
        ret = CC_REDISPLAY;
      }
    }
  }
  lua_settop(L, top);
  return ret;
}

static void history_add(repl_state *st, const char *line) {
  HistEvent ev;
  if (!st->hist || !*line) return;
  history(st->hist, &ev, H_ENTER, line);
  if (st->hist_path && history(st->hist, &ev, H_SAVE, st->hist_path) < 0 && !st->hist_warned) {
    fprintf(stderr, "wick: cannot save the history to %s: %s\n", st->hist_path, strerror(errno));
    st->hist_warned = 1;
  }
}

static void editline_open(repl_state *st) {
  HistEvent ev;
  setlocale(LC_CTYPE, ""); /* multibyte input; numbers keep the C locale */
  st->hist = history_init();
  if (st->hist) {
    history(st->hist, &ev, H_SETSIZE, 1000);
    history(st->hist, &ev, H_SETUNIQUE, 1);
  }
  lua_State *L = st->L;
  if (call_policy(st, "history_path", 0, 1) == LUA_OK && lua_isstring(L, -1)) {
    st->hist_path = strdup(lua_tostring(L, -1));
    if (st->hist && st->hist_path) history(st->hist, &ev, H_LOAD, st->hist_path);
  }
  lua_pop(L, 1);
  st->el = el_init("wick", stdin, stdout, stderr);
  if (!st->el) return;
  el_set(st->el, EL_CLIENTDATA, st);
  el_set(st->el, EL_EDITOR, "emacs");
  el_set(st->el, EL_PROMPT, prompt_fn);
  el_set(st->el, EL_GETCFN, read_char);
  if (st->hist) el_set(st->el, EL_HIST, history, st->hist);
  el_set(st->el, EL_ADDFN, "wick-complete", "Complete the name before the cursor", complete_fn);
  el_set(st->el, EL_BIND, "^I", "wick-complete", NULL);
  el_set(st->el, EL_ADDFN, "wick-interrupt", "Discard the line", interrupt_fn);
  el_set(st->el, EL_BIND, "^C", "wick-interrupt", NULL);
  el_set(st->el, EL_BIND, "^R", "em-inc-search-prev", NULL);
  el_source(st->el, NULL); /* the user's ~/.editrc may rebind keys */
}

static void editline_close(repl_state *st) {
  if (st->el) el_end(st->el);
  if (st->hist) history_end(st->hist);
  free(st->hist_path);
}

/* Pushes the next line (without its newline). Returns 1, 0 at end of input, -1 when Ctrl-C
 * discarded it. */
static int read_line(repl_state *st, int continuation) {
  lua_State *L = st->L;
  if (st->tty) {
    lua_pushboolean(L, continuation);
    if (call_policy(st, "prompt", 1, 1) == LUA_OK && lua_isstring(L, -1))
      snprintf(st->prompt, sizeof st->prompt, "%s", lua_tostring(L, -1));
    else
      snprintf(st->prompt, sizeof st->prompt, "%s", continuation ? ">> " : "> ");
    lua_pop(L, 1);
  }
  st->cancelled = 0;
  got_sigint = 0;
  if (!st->el) { /* a pipe, or a terminal libedit could not handle */
    if (st->tty) { fputs(st->prompt, stdout); fflush(stdout); }
    ssize_t n = getline(&st->pipe_line, &st->pipe_cap, stdin);
    if (n < 0) {
      if (st->tty && got_sigint) { clearerr(stdin); fputc('\n', stdout); return -1; }
      return 0;
    }
    if (n > 0 && st->pipe_line[n - 1] == '\n') n--;
    lua_pushlstring(L, st->pipe_line, (size_t)n);
    return 1;
  }
  int count = 0;
  const char *line = el_gets(st->el, &count);
  if (st->cancelled) return -1;
  if (!line || count <= 0) return 0;
  size_t n = strlen(line);
  if (n > 0 && line[n - 1] == '\n') n--;
  lua_pushlstring(L, line, n);
  return 1;
}

/* Reads a whole statement: continues with more lines while the parser wants more input.
 * Leaves the source and the compiled function (or nil and the message) on the stack.
 * Returns 1, 0 at end of input, -1 when Ctrl-C discarded it. */
static int read_statement(repl_state *st) {
  lua_State *L = st->L;
  int r = read_line(st, 0);
  if (r <= 0) return r;
  for (;;) {
    /* stack: src */
    lua_pushvalue(L, -1);
    if (call_policy(st, "compile", 1, 3) != LUA_OK) {
      lua_pushnil(L);
      lua_insert(L, -2);
      return 1; /* stack: src nil message */
    }
    /* stack: src fn|nil msg incomplete */
    int incomplete = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!incomplete) return 1;
    r = read_line(st, 1);
    if (r < 0) { lua_pop(L, 3); return -1; }
    if (r == 0) return 1; /* end of input inside a statement: report the syntax error */
    lua_remove(L, -2);
    lua_remove(L, -2);
    /* stack: src line */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

int wick_repl(lua_State *L) {
  repl_state st;
  memset(&st, 0, sizeof st);
  st.L = L;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "wick.repl");
  int status = wick_host_docall(L, 1, 1);
  if (status != LUA_OK) { report(L, status); return 1; }
  st.policy = luaL_ref(L, LUA_REGISTRYINDEX);

  struct sigaction sa, old_int, old_winch;
  int tty = st.tty = isatty(STDIN_FILENO);
  if (tty) {
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sigint; /* no SA_RESTART: the wait must wake up */
    sigaction(SIGINT, &sa, &old_int);
    sa.sa_handler = on_sigwinch;
    sigaction(SIGWINCH, &sa, &old_winch);
    editline_open(&st);
    if (call_policy(&st, "banner", 0, 1) == LUA_OK && lua_isstring(L, -1))
      printf("%s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    fflush(stdout);
  }
  int base = lua_gettop(L), failures = 0;
  for (;;) {
    lua_settop(L, base);
    int r = read_statement(&st);
    if (r == 0) {
      if (lua_gettop(L) > base) { /* unfinished statement at the end of input */
        report(L, LUA_ERRSYNTAX);
        failures++;
      }
      break;
    }
    if (r < 0) continue;
    /* stack: src fn|nil msg */
    history_add(&st, lua_tostring(L, base + 1));
    if (lua_isnil(L, base + 2)) {
      report(L, LUA_ERRSYNTAX);
      failures++;
      continue;
    }
    lua_settop(L, base + 2);
    int before = lua_gettop(L) - 1;
    status = wick_host_docall(L, 0, LUA_MULTRET);
    if (status != LUA_OK) {
      report(L, status);
      failures++;
    } else {
      int nres = lua_gettop(L) - before;
      if (nres > 0 && lua_checkstack(L, 2)) {
        status = call_policy(&st, "format_results", nres, 1);
        if (status != LUA_OK) {
          lua_pushfstring(L, "error showing the result: %s", lua_tostring(L, -1));
          lua_remove(L, -2);
          report(L, status);
        } else if (lua_isstring(L, -1)) {
          fputs(lua_tostring(L, -1), stdout);
          fputc('\n', stdout);
        }
      }
    }
    fflush(stdout);
  }
  lua_settop(L, base);
  if (tty) {
    fputc('\n', stdout);
    fflush(stdout);
    editline_close(&st);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGWINCH, &old_winch, NULL);
  }
  free(st.pipe_line);
  luaL_unref(L, LUA_REGISTRYINDEX, st.policy);
  return failures;
}
