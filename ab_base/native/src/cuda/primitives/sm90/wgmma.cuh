// wgmma: warpgroup-wide asynchronous tensor-core MMA (Hopper). A warpgroup issues a batch of
// wgmma.mma_async, commits it as a group, and later waits for groups to retire; operands in shared
// memory are named by 64-bit matrix descriptors, accumulators live in registers of all 128 threads.
#pragma once
#include <cstdint>

namespace fa::sm90::wgmma {

enum class Kind { F16, BF16, E4M3 };

// Required before the first wgmma of a batch whenever registers it reads or accumulates into were
// written by ordinary instructions since the last wgmma.
__device__ __forceinline__ void fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }

__device__ __forceinline__ void commit_group() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }

// Returns once at most kPending of the most recently committed groups are still in flight.
template <int kPending>
__device__ __forceinline__ void wait_group() {
    static_assert(kPending >= 0 && kPending <= 7, "wgmma.wait_group count");
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
}

// wait_group<kPending> placed behind `after`: the wait sits at the join of a two-way branch on a warp-wide
// vote about `after`, so ptxas cannot schedule it before the instructions that compute `after` (it may
// move a plain wait_group up past independent work). Both ways wait; the vote only creates the join.
template <int kPending>
__device__ __forceinline__ void wait_group_after(float after) {
    static_assert(kPending >= 0 && kPending <= 7, "wgmma.wait_group count");
    asm volatile(
        "{\n"
        " .reg .pred p, q;\n"
        " setp.eq.f32 q, %0, %0;\n"
        " vote.sync.all.pred p, q, 0xffffffff;\n"
        " @p bra.uni WAIT_A;\n"
        " wgmma.wait_group.sync.aligned %1;\n"
        " bra.uni WAIT_DONE;\n"
        "WAIT_A:\n"
        " wgmma.wait_group.sync.aligned %1;\n"
        "WAIT_DONE:\n"
        "}\n" ::"f"(after),
        "n"(kPending)
        : "memory");
}

// Pins a register value at this point of the program: the compiler may not move reads or writes of
// accumulator/fragment registers across an issue or a wait of the asynchronous MMA.
__device__ __forceinline__ void fence_operand(float& r) { asm volatile("" : "+f"(r)::"memory"); }
__device__ __forceinline__ void fence_operand(uint32_t& r) { asm volatile("" : "+r"(r)::"memory"); }

template <typename T, int N>
__device__ __forceinline__ void fence_operands(T (&r)[N]) {
#pragma unroll
    for (int i = 0; i < N; ++i) fence_operand(r[i]);
}

// ptxas treats the register-A operand of an issued wgmma as dead from the issue on, although the tensor
// cores read it until the group retires: it may give those registers to later instructions, and must then
// wait for the whole group before the first of them (ncu, e4m3 head_dim 256: the wait for P·V sat right
// before the softmax's first write into a P register, ahead of every exponential). The empty-asm fence
// above is invisible to ptxas; a real read after the wait keeps the registers allocated up to it. The read
// is a shared-memory store (ptxas does not move it above the wait, whose group reads shared memory too)
// predicated on `store`, a run-time condition the caller knows to be false, into a 16-byte `sink`:
// one issue slot per 4 registers.
template <int N>
__device__ __forceinline__ void retain_operands(const uint32_t (&r)[N], uint32_t sink, bool store) {
    static_assert(N % 4 == 0, "retained in 16-byte stores");
#pragma unroll
    for (int i = 0; i < N; i += 4)
        asm volatile(
            "{\n .reg .pred p;\n setp.ne.b32 p, %0, 0;\n @p st.shared.v4.b32 [%1], {%2, %3, %4, %5};\n}\n" ::"r"(
                static_cast<uint32_t>(store)),
            "r"(sink), "r"(r[i]), "r"(r[i + 1]), "r"(r[i + 2]), "r"(r[i + 3])
            : "memory");
}

// Swizzle field of the descriptor (bits 62-63).
template <int kSwizzleBytes>
struct SwizzleCode;
template <> struct SwizzleCode<128> { static constexpr uint64_t value = 1; };
template <> struct SwizzleCode<64> { static constexpr uint64_t value = 2; };
template <> struct SwizzleCode<32> { static constexpr uint64_t value = 3; };

// Matrix descriptor: start address, leading- and stride-dimension byte offsets (all in 16-byte units,
// 14 bits each) and the swizzle mode. Base offset (bits 49-51) stays 0: every tile starts on a swizzle
// atom boundary and the k-steps move the start address only within or between whole atoms, which the
// hardware resolves from the address bits exactly as TMA wrote them.
//   K-major, swizzled: rows of kSwizzleBytes, `sbo` = bytes between 8-row groups; lbo unused (1).
//   MN-major, swizzled: `lbo` = bytes between (kSwizzleBytes/elem)-wide column blocks along MN,
//                       `sbo` = bytes between 8-row groups along K.
// The high word (SBO, swizzle) is a constant and the low word (start address, LBO) is built once per
// tile; a k-step's descriptor is then one 32-bit add, `at(offset)`: no carry leaves the 14-bit address
// field, as shared-memory addresses stay below 2^18. Built from the address at every k-step, each wgmma
// had ~6 uniform-datapath instructions of its own (and-mask, shift, or, moves), issue slots that the
// head_dim-64 softmax competes for.
template <int kSwizzleBytes, uint32_t kLboBytes, uint32_t kSboBytes>
struct Desc {
    static constexpr uint32_t kHi =
        ((kSboBytes >> 4) & 0x3FFFu) | (static_cast<uint32_t>(SwizzleCode<kSwizzleBytes>::value) << 30);
    uint32_t lo;

    __device__ __forceinline__ explicit Desc(uint32_t smem_addr)
        : lo(((smem_addr & 0x3FFFFu) >> 4) | (((kLboBytes >> 4) & 0x3FFFu) << 16)) {}

    // The descriptor of the tile `byte_offset` bytes (a multiple of 16) further on.
    __device__ __forceinline__ uint64_t at(uint32_t byte_offset) const {
        return (static_cast<uint64_t>(kHi) << 32) | (lo + (byte_offset >> 4));
    }
};

// Op<kind, N>: the m64nNk16 (16-bit) and m64nNk32 (e4m3) instructions with f32 accumulators d[N/2].
//   ss(d, desc_a, desc_b, scale_d)           A and B from shared memory
//   rs(d, a0..a3, desc_b, scale_d)           A from registers (four 32-bit fragments per thread)
// scale_d = 0 overwrites d, 1 accumulates. 16-bit kinds take transpose immediates (<TransA, TransB>
// for ss, <TransB> for rs: 1 = MN-major operand); e4m3 operands are always K-major.
template <Kind K, int N>
struct Op;

}  // namespace fa::sm90::wgmma

#include "cuda/primitives/sm90/wgmma_ops.inc"
