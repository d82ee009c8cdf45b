// Picks the kernel build for the running CPU once. The binary ships without -march, so the AVX2 and
// AVX-512 builds are only ever entered after this check.
#include "cpu/plan.h"

#include <cstdlib>
#include <cstring>

namespace fa::cpu {

namespace {

bool cpu_has_avx2() {
#if defined(FLASHATTN_CPU_X86) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

bool cpu_has_avx512() {
#if defined(FLASHATTN_CPU_X86) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && cpu_has_avx2();
#else
    return false;
#endif
}

const Kernels* choose() {
    const Kernels* avx512 = cpu_has_avx512() ? kernels_avx512() : nullptr;
    const Kernels* avx2 = cpu_has_avx2() ? kernels_avx2() : nullptr;
    // A request for an ISA this CPU (or build) lacks is ignored rather than obeyed into a crash.
    if (const char* want = std::getenv("FLASHATTN_CPU_ISA")) {
        if (std::strcmp(want, "generic") == 0) return kernels_generic();
        if (std::strcmp(want, "avx2") == 0 && avx2) return avx2;
        if (std::strcmp(want, "avx512") == 0 && avx512) return avx512;
    }
    if (avx512) return avx512;
    if (avx2) return avx2;
    return kernels_generic();
}

}  // namespace

const Kernels& kernels() {
    static const Kernels* chosen = choose();
    return *chosen;
}

}  // namespace fa::cpu
