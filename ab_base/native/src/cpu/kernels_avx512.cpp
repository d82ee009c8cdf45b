// AVX-512 kernels; CMake compiles this file with -mavx512f (and friends) and defines FA_CPU_BUILD_AVX512
// on x86-64.
#include "cpu/plan.h"
#if defined(FA_CPU_BUILD_AVX512)
#define FA_ISA_NAME avx512
#define FA_W 16
#define FA_MR 8
#define FA_NV 2
#define FA_KERNELS_FN kernels_avx512
#include "cpu/kernels/body.h"
#else
namespace fa::cpu {
const Kernels* kernels_avx512() { return nullptr; }
}  // namespace fa::cpu
#endif
