/* The fuzz targets' shared helper: the readers under test take a path, so each input is put in
 * an anonymous in-memory file (memfd) and handed over as /proc/self/fd/N. */
#ifndef WICK_FUZZ_INPUT_H
#define WICK_FUZZ_INPUT_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data to a fresh memfd; fills path and returns the fd (closed by the caller). */
static int fuzz_file(const uint8_t *data, size_t n, char *path, size_t path_len) {
  int fd = memfd_create("wick-fuzz", MFD_CLOEXEC);
  if (fd < 0) { perror("memfd_create"); abort(); }
  for (size_t done = 0; done < n;) {
    ssize_t w = write(fd, data + done, n - done);
    if (w <= 0) { perror("write"); abort(); }
    done += (size_t)w;
  }
  snprintf(path, path_len, "/proc/self/fd/%d", fd);
  return fd;
}

#endif
