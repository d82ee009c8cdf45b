// cp.async: global -> shared copies that bypass registers, so a tile load can be issued and left in
// flight while the warp computes on the previous tile.
#pragma once
#include <cstdint>

namespace fa::cuda {

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Copies 16 bytes, or writes 16 zero bytes and reads nothing when !valid: tails of a tile (rows past
// seqlen, columns past head_dim) become zeros, which every later stage treats as "no contribution".
// .cg skips L1: each tile is read once per block, so caching it in L1 only evicts other data.
__device__ __forceinline__ void cp_async_16(uint32_t smem_addr, const void* gmem, bool valid) {
    const int src_bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr), "l"(gmem), "r"(src_bytes)
                 : "memory");
}

// The same, issued only when `issue` (a predicated instruction, no branch): callers that place a tile's
// copies inside an unrolled GEMM keep it one basic block even when the copy is conditional.
__device__ __forceinline__ void cp_async_16_if(uint32_t smem_addr, const void* gmem, bool valid, bool issue) {
    const int src_bytes = valid ? 16 : 0;
    asm volatile(
        "{\n .reg .pred p;\n setp.ne.b32 p, %3, 0;\n @p cp.async.cg.shared.global [%0], [%1], 16, %2;\n}\n" ::"r"(
            smem_addr),
        "l"(gmem), "r"(src_bytes), "r"(int(issue))
        : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

// Waits until at most N committed groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

}  // namespace fa::cuda
