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
    static constexpr int kThreads = 96;  // warps 1..3 of the producer warpgroup
    // Work unit: 16 consecutive keys (one half of a 32-key group) x 4 head-dim columns. Loads are 4-byte
    // words of one V row (consecutive threads take consecutive columns: conflict-free), stores are
    // 16-byte rows of Vt, 4 per unit.
    //
    // Store order: the 8 threads of a quarter-warp (one shared-memory wavefront of 16-byte stores) hold
    // column groups g..g+7 at the same keys. Storing Vt row 4g + j at step j would give their rows only
    // two distinct values mod 8, i.e. two of the 8 swizzled 16-byte positions: a 4-way conflict per
    // position (measured 26 wavefronts per store instruction instead of 4). So each thread rotates its
    // row order by rho = (g / 2) % 4: at step s it stores row 4g + (s + rho) % 4, and the quarter-warp's
    // rows cover all 8 residues mod 8. The rotation is folded into the byte selectors of the
    // transpose, so it costs no extra permutes. Only where a warp's 32 threads share one key range
    // (head_dim >= 128): at head_dim 64 the rotated kernel measured 5-10% slower (cause not
    // established), so it keeps the plain order there.
    static constexpr int kColGroups = Cfg::kHeadDim / 4;
    static constexpr bool kRotateStores = kColGroups >= 32;
    static constexpr int kUnits = (Cfg::kBlockN / 16) * kColGroups;

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

    __device__ __forceinline__ uint32_t vt_offset(int row, int key) const {
        return swizzle_offset<Cfg::kVtRowBytes>(row * Cfg::kVtRowBytes + key);
    }

    // Byte selector interleaving bytes r and r + 1 (mod 4) of two words: {x_r, y_r, x_r+1, y_r+1}.
    static __device__ __forceinline__ uint32_t pair_selector(int r) {
        const uint32_t r1 = (r + 1) & 3;
        return r | ((r + 4) << 4) | (r1 << 8) | ((r1 + 4) << 12);
    }

    // 4x4 byte transpose of the words of keys {2w, 2w+1, 2w+8, 2w+9}: out[s] holds byte (s + rho) % 4
    // of each, in that key order, i.e. Vt row col + (s + rho) % 4 at k positions 4w..4w+3.
    // sel_lo / sel_hi = pair_selector(rho) / pair_selector(rho + 2).
    static __device__ __forceinline__ void gather(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t sel_lo,
                                                  uint32_t sel_hi, uint32_t (&out)[4]) {
        const uint32_t ab_lo = __byte_perm(a, b, sel_lo), ab_hi = __byte_perm(a, b, sel_hi);
        const uint32_t cd_lo = __byte_perm(c, d, sel_lo), cd_hi = __byte_perm(c, d, sel_hi);
        out[0] = __byte_perm(ab_lo, cd_lo, 0x5410);
        out[1] = __byte_perm(ab_lo, cd_lo, 0x7632);
        out[2] = __byte_perm(ab_hi, cd_hi, 0x5410);
        out[3] = __byte_perm(ab_hi, cd_hi, 0x7632);
    }

    __device__ __forceinline__ void transpose_stage(int stage, int vt_stage, int tid) const {
        const uint32_t v = smem.v(stage), vt = smem.vt(vt_stage);
        for (int u = tid; u < kUnits; u += kThreads) {
            const int group = u % kColGroups;
            const int col = group * 4;
            const int key0 = (u / kColGroups) * 16;
            const int rho = kRotateStores ? (group >> 1) & 3 : 0;
            const uint32_t sel_lo = pair_selector(rho), sel_hi = pair_selector((rho + 2) & 3);
            uint32_t w[16];
#pragma unroll
            for (int r = 0; r < 16; ++r) w[r] = ld_shared_u32(v + v_offset(key0 + r, col));
            uint32_t rows[4][4];  // rows[s][wq]: Vt row col + (s + rho) % 4, k positions key0 + 4wq .. +3
#pragma unroll
            for (int wq = 0; wq < 4; ++wq) {
                uint32_t out[4];
                gather(w[2 * wq], w[2 * wq + 1], w[2 * wq + 8], w[2 * wq + 9], sel_lo, sel_hi, out);
#pragma unroll
                for (int s = 0; s < 4; ++s) rows[s][wq] = out[s];
            }
#pragma unroll
            for (int s = 0; s < 4; ++s)
                st_shared_v4(vt + vt_offset(col + ((s + rho) & 3), key0), rows[s][0], rows[s][1], rows[s][2], rows[s][3]);
        }
    }

    // Walks the same tiles and key blocks as the TMA thread. Per stage: wait for V[s] (TMA) and for
    // Vt[s] to be free (the consumers' P·V on it retired: vt_empty), transpose, then hand V[s] back to
    // the TMA thread (v_empty) and Vt[s] to the consumers (vt_full). With V and Vt released separately,
    // the next V load overlaps the P·V that still reads Vt.
    __device__ void run(int tid) {
        const int lane = tid % 32;
        for (TileScheduler sched; sched.valid(args); sched.advance(args)) {
            const Tile t = sched.tile(args);
            const BlockRange r = block_range<Cfg::kBlockM, Cfg::kBlockN>(args, t.m_block);
            for (int i = 0; i < r.n_max; ++i) {
                const int s = pipe.stage;
                const int ts = kOwnVtRing ? vt_pipe.stage : s;
                const uint32_t vt_phase = kOwnVtRing ? vt_pipe.phase : pipe.phase;
                mbarrier::wait_warp(smem.v_full(s), pipe.phase);
                mbarrier::wait_warp(smem.vt_empty(ts), vt_phase ^ 1u);
                transpose_stage(s, ts, tid);
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
