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
#include "cuda/sm90/fwd_args.h"
#include "cuda/sm90/smem_layout.cuh"
#include "cuda/sm90/tile_scheduler.cuh"

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
    static __device__ __forceinline__ int col0_of(int step) { return (step % kColSteps) * 32; }
    static_assert(Cfg::kHeadDim % 32 == 0 && Cfg::kBlockN % 16 == 0, "whole transpose steps");

    static constexpr bool kOwnVtRing = Cfg::kVtStages != Cfg::kStages;

    const FwdArgs& args;
    Smem smem;
    PipeState<Cfg::kStages> pipe;          // V[s]; also Vt[s] unless Vt has its own ring
    PipeState<Cfg::kVtStages> vt_pipe;     // Vt, when kOwnVtRing

    __device__ __forceinline__ uint32_t v_offset(int key, int col) const {
        const int chunk = col / Cfg::kChunkCols;
        const uint32_t off = key * Cfg::kSwizzleBytes + (col % Cfg::kChunkCols);
        return chunk * Smem::kKVChunkBytes + swizzle_offset<Cfg::kSwizzleBytes>(off);
    }

    // Vt is split into chunks of 128 keys (one 128-byte swizzled row each).
    __device__ __forceinline__ uint32_t vt_offset(int row, int key) const {
        return (key / Cfg::kVtRowBytes) * Smem::kVtChunkBytes +
               swizzle_offset<Cfg::kVtRowBytes>(row * Cfg::kVtRowBytes + key % Cfg::kVtRowBytes);
    }

    __device__ __forceinline__ void transpose_stage(int stage, int vt_stage, int warp, int lane) const {
        const uint32_t v = smem.v(stage), vt = smem.vt(vt_stage);
        // This lane's row address in ldmatrix/stmatrix tile m = lane / 8, row i = lane % 8.
        const int m = lane / 8, i = lane % 8;
        const int src_key = 8 * (m & 1) + i, src_col = 16 * (m >> 1);
        const int dst_row = 16 * (m >> 1) + 2 * i + ((m & 1) ^ (i >= 4 ? 1 : 0));
        // Byte selectors of the column-2j / column-2j+1 results, swapped for lanes j >= 4 (see above).
        const bool swap = lane >= 16;
        const uint32_t sel_a = swap ? 0x7531u : 0x6420u, sel_b = swap ? 0x6420u : 0x7531u;
        // One step at a time: ldmatrix, permutes, stmatrix. Issuing the loads of 2 steps before their stores
        // made the kernel slower, not faster (e4m3, H100, interleaved A/B: -2 to -22% at head_dim 128 and
        // 256; 4 steps: -16 to -36% against the previous transposer), and so did this loop without the
        // unroll at head_dim 256 (-9 to -12% in 5 of 6 cells). The transposer is not on the critical path;
        // presumably its shared-memory traffic competes less with the consumers' wgmma operand reads when
        // it is spread out.
#pragma unroll 2
        for (int step = warp; step < kSteps; step += kWarps) {
            uint32_t r[4];
            cuda::ldmatrix_x4_trans(r, v + v_offset(key0_of(step) + src_key, col0_of(step) + src_col));
            stmatrix_x4(vt + vt_offset(col0_of(step) + dst_row, key0_of(step)), __byte_perm(r[0], r[1], sel_a),
                        __byte_perm(r[0], r[1], sel_b), __byte_perm(r[2], r[3], sel_a), __byte_perm(r[2], r[3], sel_b));
        }
    }

    // Walks the same tiles and key blocks as the TMA thread. Per stage: wait for V[s] (TMA) and for
    // Vt[s] to be free (the consumers' P·V on it retired: vt_empty), transpose, then hand V[s] back to
    // the TMA thread (v_empty) and Vt[s] to the consumers (vt_full). With V and Vt released separately,
    // the next V load overlaps the P·V that still reads Vt.
    __device__ void run(int warp, int lane) {
        for (TileScheduler sched; sched.valid(args); sched.advance(args)) {
            const Tile t = sched.tile(args);
            const BlockRange r = block_range<Cfg::kBlockM, Cfg::kBlockN>(args, t.m_block);
            for (int i = 0; i < r.n_max; ++i) {
                const int s = pipe.stage;
                const int ts = kOwnVtRing ? vt_pipe.stage : s;
                const uint32_t vt_phase = kOwnVtRing ? vt_pipe.phase : pipe.phase;
                mbarrier::wait_warp(smem.v_full(s), pipe.phase);
                mbarrier::wait_warp(smem.vt_empty(ts), vt_phase ^ 1u);
                transpose_stage(s, ts, warp, lane);
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
    }
};

}  // namespace fa::sm90
