/* libFuzzer target: wick_torch_load (zip reader + restricted unpickler) on arbitrary bytes must
 * load a state dict or return an error; never crash, leak, run code or read out of bounds. */
#include "fuzz_input.h"

#include "core/status.h"
#include "core/tensor.h"
#include "io/pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  char path[64];
  int fd = fuzz_file(data, n, path, sizeof path);
  wick_torch_entry *e = NULL;
  size_t count = 0;
  if (wick_torch_load(path, &e, &count) == WICK_OK) wick_torch_entries_free(e, count);
  close(fd);
  return 0;
}
