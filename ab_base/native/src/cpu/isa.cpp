// Picks the kernel build for the running CPU once. The binary ships without -march, so the AVX2 and
// AVX-512 builds are only ever entered after this check. CPUID plus XGETBV (is the OS saving the wider
// registers?) rather than __builtin_cpu_supports, which needs compiler runtime support that clang-cl
// and some MinGW toolchains lack.
#include "cpu/plan.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(FLASHATTN_CPU_X86)
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace fa::cpu {

namespace {

struct Features {
    bool avx2 = false;    // AVX2 + FMA + F16C, with the OS saving ymm state
    bool avx512 = false;  // AVX-512 F/BW/DQ/VL, with the OS saving zmm and mask state
};

#if defined(FLASHATTN_CPU_X86)
void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
#if defined(_MSC_VER)
    int x[4];
    __cpuidex(x, static_cast<int>(leaf), static_cast<int>(sub));
    for (int i = 0; i < 4; ++i) r[i] = static_cast<uint32_t>(x[i]);
#else
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

uint64_t xgetbv0() {
#if defined(_MSC_VER)
    return _xgetbv(0);
#else
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return lo | (static_cast<uint64_t>(hi) << 32);
#endif
}

Features detect() {
    Features f;
    uint32_t r[4];
    cpuid(0, 0, r);
    const uint32_t max_leaf = r[0];
    if (max_leaf < 7) return f;
    cpuid(1, 0, r);
    const uint32_t ecx1 = r[2];
    const bool osxsave = ecx1 & (1u << 27), avx = ecx1 & (1u << 28), fma = ecx1 & (1u << 12),
               f16c = ecx1 & (1u << 29);
    if (!osxsave || !avx) return f;
    const uint64_t xcr0 = xgetbv0();
    cpuid(7, 0, r);
    const uint32_t ebx7 = r[1];
    const bool ymm_state = (xcr0 & 0x6) == 0x6;
    const bool zmm_state = (xcr0 & 0xe6) == 0xe6;
    f.avx2 = ymm_state && fma && f16c && (ebx7 & (1u << 5));
    const uint32_t avx512_bits = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);  // F, DQ, BW, VL
    f.avx512 = f.avx2 && zmm_state && (ebx7 & avx512_bits) == avx512_bits;
    return f;
}
#else
Features detect() { return Features{}; }
#endif

const Kernels* choose() {
    const Features f = detect();
    const Kernels* avx512 = f.avx512 ? kernels_avx512() : nullptr;
    const Kernels* avx2 = f.avx2 ? kernels_avx2() : nullptr;
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
