/* libFuzzer target: wick_safetensors_load on arbitrary bytes must either load the file or
 * return an error; never crash, leak or read out of bounds (built with ASan and UBSan). */
#include "fuzz_input.h"

#include "core/status.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  char path[64];
  int fd = fuzz_file(data, n, path, sizeof path);
  wick_safetensors *st = NULL;
  if (wick_safetensors_load(path, &st) == WICK_OK) wick_safetensors_free(st);
  close(fd);
  return 0;
}
