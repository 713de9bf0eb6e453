/* Thread-local error messages behind wick_status. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_buf[1024];

wick_status wick_errorf(wick_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err_buf, sizeof err_buf, fmt, ap);
  va_end(ap);
  return s;
}

const char *wick_last_error(void) { return err_buf; }

void wick_error_prefix(const char *prefix) {
  char tmp[sizeof err_buf];
  snprintf(tmp, sizeof tmp, "%s: %s", prefix, err_buf);
  memcpy(err_buf, tmp, sizeof err_buf);
}
