// TMA (cp.async.bulk.tensor): whole tiles copied between global and shared memory by the copy engine,
// described by a CUtensorMap built on the host, completing on an mbarrier with transaction bytes.
#pragma once
#include <cstdint>

namespace fa::sm90::tma {

// The tensor map lives in kernel-parameter space (__grid_constant__); its generic address is what
// the instructions take. Prefetching it hides the descriptor fetch behind barrier setup.
__device__ __forceinline__ void prefetch_map(const void* map) {
    asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}

// Copies the box at coordinates (c0 innermost .. c3) into smem at `dst`; out-of-bounds elements are
// written as zeros and still count toward the transaction bytes, so expect_tx is always the full box.
__device__ __forceinline__ void load_4d(uint32_t dst, const void* map, uint32_t bar, int32_t c0, int32_t c1,
                                        int32_t c2, int32_t c3) {
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes"
        " [%0], [%1, {%3, %4, %5, %6}], [%2];\n" ::"r"(dst),
        "l"(reinterpret_cast<uint64_t>(map)), "r"(bar), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
        : "memory");
}

// Copies `bytes` (a multiple of 16) contiguous bytes from global `src` to smem `dst`, both 16-byte aligned,
// completing on `bar` like the tensor loads: for per-row vectors that need no tensor map.
__device__ __forceinline__ void load_1d(uint32_t dst, const void* src, uint32_t bytes, uint32_t bar) {
    asm volatile(
        "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(dst),
        "l"(reinterpret_cast<uint64_t>(src)), "r"(bytes), "r"(bar)
        : "memory");
}

// Copies the smem box at `src` to the global box at coordinates (c0 .. c3); elements outside the tensor
// are not written. Completes in the issuing thread's bulk group (commit_group / wait_group below).
__device__ __forceinline__ void store_4d(const void* map, uint32_t src, int32_t c0, int32_t c1, int32_t c2,
                                         int32_t c3) {
    asm volatile("cp.async.bulk.tensor.4d.global.shared::cta.bulk_group [%0, {%2, %3, %4, %5}], [%1];\n" ::"l"(
                     reinterpret_cast<uint64_t>(map)),
                 "r"(src), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
                 : "memory");
}

__device__ __forceinline__ void commit_group() { asm volatile("cp.async.bulk.commit_group;\n" ::: "memory"); }

// Waits until at most N of this thread's bulk groups are pending: `_read` only until their shared-memory
// sources have been read (the buffer may be rewritten), the other until the writes are done.
template <int N>
__device__ __forceinline__ void wait_group_read() {
    asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(N) : "memory");
}
template <int N>
__device__ __forceinline__ void wait_group() {
    asm volatile("cp.async.bulk.wait_group %0;\n" ::"n"(N) : "memory");
}

// Orders this thread's generic-proxy shared-memory accesses before later async-proxy accesses
// (wgmma operand reads, TMA writes) of the same bytes.
__device__ __forceinline__ void fence_proxy_async_smem() {
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

}  // namespace fa::sm90::tma
