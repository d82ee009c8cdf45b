// Baseline kernels: no ISA flags (SSE2 on x86-64, NEON on arm64), for any CPU.
#define FA_ISA_NAME generic
#define FA_W 4
#define FA_MR 6
#define FA_NV 2
#define FA_KERNELS_FN kernels_generic
#include "cpu/kernels/body.h"
