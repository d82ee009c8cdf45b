// Warpgroup-level control: register reallocation between producer and consumer warpgroups, and the
// named hardware barriers (bar.sync / bar.arrive) that order the consumer warpgroups.
#pragma once
#include <cstdint>

namespace fa::sm90 {

constexpr int kWarpgroupThreads = 128;

// All warps of a warpgroup must execute the same setmaxnreg. Counts are multiples of 8 in [24, 256];
// the CTA's pool is what the kernel was launched with (384 threads x 168 with __launch_bounds__(384, 1),
// 512 x 128 with __launch_bounds__(512, 1)).
template <int kRegs>
__device__ __forceinline__ void warpgroup_reg_alloc() {
    static_assert(kRegs % 8 == 0 && kRegs >= 24 && kRegs <= 256, "setmaxnreg count");
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kRegs));
}

template <int kRegs>
__device__ __forceinline__ void warpgroup_reg_dealloc() {
    static_assert(kRegs % 8 == 0 && kRegs >= 24 && kRegs <= 256, "setmaxnreg count");
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kRegs));
}

// Barrier 0 belongs to __syncthreads; callers use 1..15. `threads` counts every participant, whether it
// syncs or only arrives, and must be a multiple of 32.
__device__ __forceinline__ void named_barrier_sync(uint32_t id, uint32_t threads) {
    asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

__device__ __forceinline__ void named_barrier_arrive(uint32_t id, uint32_t threads) {
    asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

}  // namespace fa::sm90
