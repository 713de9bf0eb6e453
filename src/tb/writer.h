/* An event file and its background writer thread: records are queued whole and appended by
 * the thread when max_queue are pending, every flush_secs, on flush() and on close(). */
#ifndef WICK_TB_WRITER_H
#define WICK_TB_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct wick_tb_writer wick_tb_writer;

/* Creates dir (and parents), then a new file events.out.tfevents.<%010d time>.<host>.<pid>.<n>
 * <suffix> (O_EXCL: never opens an existing file; n is a per-process counter that also skips
 * names taken by others), writes the file_version event synchronously, starts the thread. */
wick_status wick_tb_writer_open(const char *dir, const char *suffix, int max_queue,
                                double flush_secs, double wall_time, wick_tb_writer **out);
/* mkdir -p dir (errors name SummaryWriter and the directory). */
wick_status wick_tb_mkdirs(const char *dir);
const char *wick_tb_writer_path(const wick_tb_writer *w);
/* Queues one serialized Event (copied and framed here). Blocks only while 2*max_queue records
 * are waiting for the thread. Reports an earlier write error of the thread. */
wick_status wick_tb_writer_add(wick_tb_writer *w, const void *event, size_t n);
/* Waits until everything queued so far is written and fsync'ed. */
wick_status wick_tb_writer_flush(wick_tb_writer *w);
/* Flush, stop the thread, fsync and close the file. Idempotent. */
wick_status wick_tb_writer_close(wick_tb_writer *w);
int wick_tb_writer_is_closed(const wick_tb_writer *w);
/* Closes (if needed) and frees. */
void wick_tb_writer_free(wick_tb_writer *w);

#endif
