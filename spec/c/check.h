/* The C unit tests' one assertion: CHECK(cond) or CHECK(cond, "fmt", ...) counts a failure and
 * prints where; main() returns failures != 0. */
#ifndef WICK_SPEC_CHECK_H
#define WICK_SPEC_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      failures++;                                                         \
      printf("FAIL %s:%d: %s:", __FILE__, __LINE__, #cond);               \
      printf(" " __VA_ARGS__);                                            \
      printf("\n");                                                       \
    }                                                                     \
  } while (0)

#endif
