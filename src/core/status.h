/* wick_status: how every C function below the Lua bindings reports failure.
 * The detail goes to a thread-local buffer read back with wick_last_error(). */
#ifndef WICK_STATUS_H
#define WICK_STATUS_H

typedef enum {
  WICK_OK = 0,
  WICK_ERR_ARG,         /* a bad argument value (option, dim, index) */
  WICK_ERR_SHAPE,
  WICK_ERR_DTYPE,
  WICK_ERR_DEVICE,
  WICK_ERR_INDEX,
  WICK_ERR_OOM,
  WICK_ERR_IO,
  WICK_ERR_PARSE,
  WICK_ERR_CUDA,
  WICK_ERR_NCCL,
  WICK_ERR_DIST,
  WICK_ERR_UNSUPPORTED,
} wick_status;

/* Formats the message into the thread-local buffer and returns s. */
wick_status wick_errorf(wick_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The message of the last error raised on this thread ("" when none). */
const char *wick_last_error(void);
/* Prefixes the current message with "<prefix>: " (adds context in containers). */
void wick_error_prefix(const char *prefix);

#define WICK_TRY(expr) do { wick_status s_ = (expr); if (s_ != WICK_OK) return s_; } while (0)

#endif
