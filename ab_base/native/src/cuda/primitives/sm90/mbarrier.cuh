// mbarrier: the shared-memory barrier objects that pair TMA transfers (transaction bytes) with their
// consumers, and consumers' releases with the producer. All operations take 32-bit smem addresses.
#pragma once
#include <cstdint>

namespace fa::sm90::mbarrier {

// `count` arrivals complete a phase (plus every expected transaction byte, when expect_tx is used).
__device__ __forceinline__ void init(uint32_t bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}

// Makes the initialised barriers visible to the async proxy (TMA) and to the other threads once the
// CTA synchronises; without it the first complete_tx may land on an uninitialised object.
__device__ __forceinline__ void fence_init() {
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

__device__ __forceinline__ void arrive(uint32_t bar) {
    asm volatile(
        "{\n"
        ".reg .b64 state;\n"
        "mbarrier.arrive.shared::cta.b64 state, [%0];\n"
        "}\n" ::"r"(bar)
        : "memory");
}

// The producer's arrival: counts as one arrival and raises the phase's pending transaction bytes by
// `bytes`, which the TMA copies signalling this barrier pay back as they land.
__device__ __forceinline__ void arrive_expect_tx(uint32_t bar, uint32_t bytes) {
    asm volatile(
        "{\n"
        ".reg .b64 state;\n"
        "mbarrier.arrive.expect_tx.shared::cta.b64 state, [%0], %1;\n"
        "}\n" ::"r"(bar), "r"(bytes)
        : "memory");
}

// True once the phase with the given parity has completed. A freshly initialised barrier is in
// phase 0, so waiting for parity 1 returns at once: producers start their empty-slot waits there.
// kPark adds a suspend-time hint: the hardware may park the thread inside try_wait until the phase
// completes (or the hint, in ns, runs out) instead of returning at once. A polling thread re-issues its
// try_wait and branch every ~12 cycles: the FA3 producer's were 9% of all instructions issued by the
// head_dim-64 kernel (ncu), taken from the issue slots of the consumer warps on its scheduler.
template <bool kPark = false>
__device__ __forceinline__ bool try_wait(uint32_t bar, uint32_t parity) {
    constexpr uint32_t kSuspendHintNs = 10000000;
    uint32_t done;
    if constexpr (kPark) {
        asm volatile(
            "{\n"
            ".reg .pred p;\n"
            "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2, %3;\n"
            "selp.u32 %0, 1, 0, p;\n"
            "}\n"
            : "=r"(done)
            : "r"(bar), "r"(parity), "n"(kSuspendHintNs)
            : "memory");
    } else {
        asm volatile(
            "{\n"
            ".reg .pred p;\n"
            "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
            "selp.u32 %0, 1, 0, p;\n"
            "}\n"
            : "=r"(done)
            : "r"(bar), "r"(parity)
            : "memory");
    }
    return done != 0;
}

template <bool kPark = false>
__device__ __forceinline__ void wait(uint32_t bar, uint32_t parity) {
    while (!try_wait<kPark>(bar, parity)) {
    }
}

// For whole warps that go on to warp-synchronous (.aligned) instructions such as wgmma: lanes can leave
// the polling loop on different iterations, so reconverge explicitly.
template <bool kPark = false>
__device__ __forceinline__ void wait_warp(uint32_t bar, uint32_t parity) {
    wait<kPark>(bar, parity);
    __syncwarp();
}

}  // namespace fa::sm90::mbarrier
