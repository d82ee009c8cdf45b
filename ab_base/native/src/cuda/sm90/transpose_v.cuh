// FP8 only: wgmma reads an e4m3 B operand only K-major, but V arrives (by TMA) key-major like K. Warps
// 1-3 of the producer warpgroup rewrite each V stage as Vt (head_dim rows x keys) for the consumers.
//
// The keys of Vt are permuted inside every group of 32 so that P, the register-A operand of P·V, can
// be packed straight from the Q·K^T accumulator. A thread's accumulator holds, per 8-key column block,
// keys 2q and 2q+1 (q = lane % 4), while an e4m3 A fragment register holds 4 consecutive k positions
// 4q..4q+3. Packing accumulator blocks (b, b+1) into one register therefore puts keys
// {2q, 2q+1, 8+2q, 9+2q} at k positions 4q..4q+3, so Vt column 4q+r must hold key perm(4q+r):
//   perm(k) = (k & 16) + 2 * ((k & 15) >> 2) + (k & 1) + ((k & 2) ? 8 : 0).
// The contraction sums over keys, so permuting both operands the same way leaves P·V unchanged.
#pragma once
#include "cuda/primitives/ldmatrix.cuh"
#include "cuda/primitives/sm90/mbarrier.cuh"
#include "cuda/primitives/sm90/smem.cuh"
#include "cuda/primitives/sm90/tma.cuh"
#include "cuda/sm90/smem_layout.cuh"

namespace fa::sm90 {

template <class Cfg>
struct VTransposer {
    using Smem = SmemLayout<Cfg>;
    static constexpr int kWarps = 3;  // warps 1..3 of the producer warpgroup
    // Work step of one warp: 16 keys x 32 head-dim columns (512 bytes), in three instructions' worth of
    // data movement:
    //   ldmatrix.x4.trans reads four 8x8 tiles of 16-bit elements: keys {k0..k0+7, k0+8..k0+15} x byte
    //     columns {d0..d0+15, d0+16..d0+31}. Transposed, lane (j = lane / 4, q = lane % 4) receives,
    //     per tile, keys 2q and 2q+1 of columns 2j and 2j+1: bytes {(2q,2j), (2q,2j+1), (2q+1,2j), (2q+1,2j+1)}.
    //   Two byte permutes per tile pair (keys +0 / +8) give, per column, the keys {2q, 2q+1, 8+2q, 9+2q}:
    //     exactly the permuted k positions 4q..4q+3 of that Vt row.
    //   stmatrix.x4 writes them as four 8x8 tiles of Vt rows (one row per j, 16 bytes of k positions).
    // Lanes with j >= 4 swap their even and odd column results, so that each stored tile holds Vt rows
    // {0, 2, 4, 6, 9, 11, 13, 15} (or the complement): all 8 residues mod 8, i.e. 8 different swizzled
    // 16-byte positions, no bank conflict. The ldmatrix tiles read 8 consecutive keys at one 16-byte
    // column, which the V tile's swizzle also spreads over 8 positions.
    static constexpr int kColSteps = Cfg::kHeadDim / 32;
    static constexpr int kSteps = (Cfg::kBlockN / 16) * kColSteps;
    static __device__ __forceinline__ int key0_of(int step) { return (step / kColSteps) * 16; }
    static_assert(Cfg::kHeadDim % 32 == 0 && Cfg::kBlockN % 16 == 0, "whole transpose steps");

    static constexpr bool kOwnVtRing = Cfg::kVtStages != Cfg::kStages;

    Smem smem;
    PipeState<Cfg::kStages> pipe;          // V[s]; also Vt[s] unless Vt has its own ring
    PipeState<Cfg::kVtStages> vt_pipe;     // Vt, when kOwnVtRing

    // Addresses. Each warp's steps are fixed at compile time (step = W, W + 3, ...), and the steps move by
    // whole swizzle periods (16 keys: rows of V, columns of Vt; 32 head-dim columns), so a step's address
    // is (stage base + lane row + compile-time offset) XOR a lane constant:
    //   V rows (kSwizzleBytes per column chunk): the swizzle XORs the 16-byte granule of a row with bits
    //     of the row index that only the lane's src_key sets; the step's granule (2c mod G) + mh (c =
    //     column step, mh = the lane's column half, G granules per row) enters as an offset, since the
    //     granule bits of everything else are zero.
    //   Vt rows (128 bytes of 128 keys per chunk): the granule is the step's key group, XORed with the
    //     low bits of the lane's dst_row.
    // The XOR comes last so that nothing per step is loop-invariant: hoisted out of the stage loop, the
    // per-step lane offsets needed a register each and spilled at head_dim 128 (40 producer registers).
    // Computing the addresses from the flat step index (divisions, sign fix-ups, two swizzles) took 25
    // integer instructions per 8 data-moving ones; ncu showed the transposer warps busy almost all the
    // time and the consumers waiting on vt_full (e4m3, head_dim 256). H100, interleaved A/B: +12 to +18%
    // at head_dim 256, +0.4 to +8% at 128, +3.5 to +7% at 64.
    static constexpr int kVGranules = Cfg::kSwizzleBytes / 16;
    struct LaneAddr {
        uint32_t src, src_xor;  // V: src_key * kSwizzleBytes + 16 * mh; 16 * (the row's swizzle bits)
        uint32_t dst, dst_xor;  // Vt: dst_row * 128; 16 * (dst_row mod 8)
    };

    static __device__ __forceinline__ LaneAddr lane_addr(int lane) {
        // This lane's row in ldmatrix/stmatrix tile m = lane / 8, row i = lane % 8.
        const int m = lane / 8, i = lane % 8;
        const int src_key = 8 * (m & 1) + i, mh = m >> 1;
        const int dst_row = 16 * (m >> 1) + 2 * i + ((m & 1) ^ (i >= 4 ? 1 : 0));
        // key0, a multiple of 16, adds nothing to the swizzle bits.
        const uint32_t x = ((src_key * Cfg::kSwizzleBytes) >> 7) & (kVGranules - 1);
        return {static_cast<uint32_t>(src_key * Cfg::kSwizzleBytes + 16 * mh), 16 * x,
                static_cast<uint32_t>(dst_row * Cfg::kVtRowBytes), static_cast<uint32_t>(16 * (dst_row % 8))};
    }

    // Warp W's steps of one stage; v and vt already include this lane's rows (LaneAddr::src, dst).
    template <int W>
    __device__ __forceinline__ void transpose_stage(uint32_t v, uint32_t vt, const LaneAddr& a, uint32_t sel_a,
                                                    uint32_t sel_b) const {
        // One step at a time: ldmatrix, permutes, stmatrix. Issuing the loads of 2 steps before their stores
        // made the kernel slower, not faster (e4m3, H100, interleaved A/B: -2 to -22% at head_dim 128 and
        // 256; 4 steps: -16 to -36%).
#pragma unroll
        for (int step = W; step < kSteps; step += kWarps) {
            const int key0 = key0_of(step), c = step % kColSteps;
            const uint32_t src = (32 * c / Cfg::kSwizzleBytes) * Smem::kKVChunkBytes + key0 * Cfg::kSwizzleBytes +
                                 32 * (c % (kVGranules / 2));
            const uint32_t dst = (key0 / Cfg::kVtRowBytes) * Smem::kVtChunkBytes + 32 * c * Cfg::kVtRowBytes +
                                 16 * ((key0 % Cfg::kVtRowBytes) / 16);
            uint32_t r[4];
            cuda::ldmatrix_x4_trans(r, (v + src) ^ a.src_xor);
            stmatrix_x4((vt + dst) ^ a.dst_xor, __byte_perm(r[0], r[1], sel_a), __byte_perm(r[0], r[1], sel_b),
                        __byte_perm(r[2], r[3], sel_a), __byte_perm(r[2], r[3], sel_b));
        }
    }

    // Takes the V blocks in the order the TMA thread loads them, whatever tiles they belong to, until the
    // stage whose end flag the TMA thread set after the last one (producer.cuh). Per stage: wait for V[s]
    // (TMA) and for Vt[s] to be free (the consumers' P·V on it retired: vt_empty), transpose, then hand V[s]
    // back to the TMA thread (v_empty) and Vt[s] to the consumers (vt_full). With V and Vt released
    // separately, the next V load overlaps the P·V that still reads Vt. Lane 0 reads the flag: its arrival
    // on v_empty is what lets the TMA thread write it.
    template <int W>
    __device__ void run(int lane) {
        const LaneAddr a = lane_addr(lane);
        // Byte selectors of the column-2j / column-2j+1 results, swapped for lanes j >= 4 (see above).
        const bool swap = lane >= 16;
        const uint32_t sel_a = swap ? 0x7531u : 0x6420u, sel_b = swap ? 0x6420u : 0x7531u;
        for (;;) {
            const int s = pipe.stage;
            const int ts = kOwnVtRing ? vt_pipe.stage : s;
            const uint32_t vt_phase = kOwnVtRing ? vt_pipe.phase : pipe.phase;
            mbarrier::wait_warp<Cfg::kParkTransposer>(smem.v_full(s), pipe.phase);
            uint32_t end = 0;
            if (lane == 0) end = ld_shared_u32(smem.v_end_flag(s));
            if (__shfl_sync(0xffffffffu, end, 0) != 0) break;
            mbarrier::wait_warp<Cfg::kParkTransposer>(smem.vt_empty(ts), vt_phase ^ 1u);
            transpose_stage<W>(smem.v(s) + a.src, smem.vt(ts) + a.dst, a, sel_a, sel_b);
            // Generic-proxy loads and stores must be ordered before the async-proxy accesses that
            // follow the arrivals: the TMA refill of V[s] and the consumers' wgmma reads of Vt[ts].
            tma::fence_proxy_async_smem();
            __syncwarp();
            if (lane == 0) {
                mbarrier::arrive(smem.v_empty(s));
                mbarrier::arrive(smem.vt_full(ts));
            }
            pipe.advance();
            if constexpr (kOwnVtRing) vt_pipe.advance();
        }
    }

    // warp: 0..kWarps-1 (producer warps 1..3).
    __device__ void run(int warp, int lane) {
        static_assert(kWarps == 3, "one instantiation per transposer warp");
        if (warp == 0)
            run<0>(lane);
        else if (warp == 1)
            run<1>(lane);
        else
            run<2>(lane);
    }
};

}  // namespace fa::sm90
