// AVX2 + FMA kernels; CMake compiles this file with -mavx2 -mfma and defines FA_CPU_BUILD_AVX2 on x86-64.
#include "cpu/plan.h"
#if defined(FA_CPU_BUILD_AVX2)
#define FA_ISA_NAME avx2
#define FA_W 8
#define FA_MR 6
#define FA_NV 2
#define FA_KERNELS_FN kernels_avx2
#include "cpu/kernels/body.h"
#else
namespace fa::cpu {
const Kernels* kernels_avx2() { return nullptr; }
}  // namespace fa::cpu
#endif
