// The emulator's thread and block coordinates (emu.h).
#include "emu.h"
thread_local emu3 threadIdx, blockIdx;
emu3 blockDim, gridDim;
thread_local EmuBlock *emu_block;
