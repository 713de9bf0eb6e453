/* wick_torch_load: PyTorch's torch.save(state_dict) zip files (.pt/.pth) read through a
 * restricted unpickler that knows only what a state dict needs; anything else is refused. */
#ifndef WICK_PICKLE_H
#define WICK_PICKLE_H

#include <stddef.h>

#include "core/tensor.h"

/* One tensor of a loaded state dict: a dotted name and a NEW reference. */
typedef struct {
  char *name;
  wick_tensor *tensor;
} wick_torch_entry;

/* Loads path: a (possibly nested) dict of tensors, in pickle order, nested keys joined with
 * "."; errors start "load_torch: ". Free the result with wick_torch_entries_free. */
wick_status wick_torch_load(const char *path, wick_torch_entry **out, size_t *n);
void wick_torch_entries_free(wick_torch_entry *e, size_t n);

#endif
