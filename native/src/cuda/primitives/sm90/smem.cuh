// Shared-memory addressing for the Hopper kernels. TMA, mbarriers and wgmma descriptors all take
// 32-bit shared-window addresses, so the kernels carry those instead of generic pointers.
#pragma once
#include <cstdint>

namespace fa::sm90 {

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Tiles start on 1024-byte boundaries, the span of a 128-byte swizzle atom.
__host__ __device__ constexpr uint32_t align1k(uint32_t x) { return (x + 1023u) & ~1023u; }

// The swizzle patterns TMA writes and wgmma reads are functions of the address bits: 16-byte chunk
// bits [4, 4 + log2(span/16)) are XORed with the bits just above the 128-byte row, i.e. [7, ...).
// Offsets passed here are relative to a base aligned to the pattern's span (1024 or 512 bytes).
template <int kSwizzleBytes>
__host__ __device__ constexpr uint32_t swizzle_offset(uint32_t off) {
    static_assert(kSwizzleBytes == 128 || kSwizzleBytes == 64 || kSwizzleBytes == 32, "swizzle span");
    constexpr uint32_t mask = kSwizzleBytes / 16 - 1;
    return off ^ (((off >> 7) & mask) << 4);
}

__device__ __forceinline__ void st_shared_u32(uint32_t addr, uint32_t v) {
    asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(addr), "r"(v) : "memory");
}

__device__ __forceinline__ uint32_t ld_shared_u32(uint32_t addr) {
    uint32_t v;
    asm volatile("ld.shared.b32 %0, [%1];\n" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

__device__ __forceinline__ void st_shared_v2_u32(uint32_t addr, uint32_t a, uint32_t b) {
    asm volatile("st.shared.v2.b32 [%0], {%1, %2};\n" ::"r"(addr), "r"(a), "r"(b) : "memory");
}

__device__ __forceinline__ void ld_shared_v2_u32(uint32_t addr, uint32_t& a, uint32_t& b) {
    asm volatile("ld.shared.v2.b32 {%0, %1}, [%2];\n" : "=r"(a), "=r"(b) : "r"(addr) : "memory");
}

// stmatrix (sm_90): the store counterpart of ldmatrix. Lanes 8i..8i+7 give the row addresses of 8x8
// tile i (16 bytes per row); register i of lane t holds bytes 4 (t % 4) .. 4 (t % 4) + 3 of row t / 4.
__device__ __forceinline__ void stmatrix_x4(uint32_t addr, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(addr), "r"(a), "r"(b),
                 "r"(c), "r"(d)
                 : "memory");
}

}  // namespace fa::sm90
