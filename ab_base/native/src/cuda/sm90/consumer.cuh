// A consumer warpgroup: for every tile of this CTA, 64 query rows against all visible key blocks.
//
// Per key block i (processing order), with the intra-warpgroup overlap:
//     issue S_i = Q K_i^T            | issue O += P_{i-1} V_{i-1}
//     wait S_i; release K_i; mask; softmax(S_i) -> P_i   (tensor cores still busy with P_{i-1} V_{i-1})
//     wait O; release V_{i-1}; rescale O; pack P_i
// so the exp2/max work of block i overlaps the P·V GEMM of block i-1.
//
// Pingpong between the consumer warpgroups: named barrier (1 + w) is warpgroup w's turn to issue
// GEMMs. A warpgroup syncs on its own barrier before issuing and arrives on the next one's (w + 1,
// wrapping) right after, so they take the tensor cores in a ring: the others' softmax runs while one
// warpgroup's GEMMs execute. All walk the same tiles and key blocks, so every sync pairs with exactly one
// arrive; warpgroup 0 starts with one extra arrive on its own barrier, which stays the invariant across
// tiles.
#pragma once
#include <type_traits>

#include "cuda/primitives/sm90/mbarrier.cuh"
#include "cuda/primitives/sm90/smem.cuh"
#include "cuda/primitives/sm90/warpgroup.cuh"
#include "cuda/primitives/sm90/wgmma.cuh"
#include "cuda/sm90/epilogue.cuh"
#include "cuda/sm90/fragment.cuh"
#include "cuda/sm90/fwd_args.h"
#include "cuda/sm90/mask.cuh"
#include "cuda/sm90/p_fragment.cuh"
#include "cuda/sm90/smem_layout.cuh"
#include "cuda/sm90/softmax.cuh"
#include "cuda/sm90/tile_gemms.cuh"
#include "cuda/sm90/tile_scheduler.cuh"
#include "cuda/sm90/trace.cuh"

namespace fa::sm90 {

// Named barrier ids (0 is __syncthreads): 1..W the pingpong turns of consumer warpgroups 0..W-1 (256
// threads: the one that syncs and the one that arrives), W+1..2W each warpgroup's own TMA-store epilogue
// (128 threads).
template <int kConsumerWarpgroups>
struct NamedBarriers {
    static constexpr uint32_t turn(int wg) { return 1 + wg; }
    static constexpr uint32_t epilogue(int wg) { return 1 + kConsumerWarpgroups + wg; }
    static_assert(2 * kConsumerWarpgroups < 16, "16 hardware barriers");
};

template <class Cfg, class OutT>
struct Consumer {
    using Smem = SmemLayout<Cfg>;
    using Gemms = TileGemms<Cfg>;
    using P = PFragment<Cfg::kKind, Gemms::kNumS>;
    using Softmax = OnlineSoftmax<Gemms::kNumS, Gemms::kNumO, Cfg::kLazyRescale, Cfg::kExpPolyEvery,
                                  Cfg::kMaxChains>;
    static_assert(P::kRegs == Gemms::kNumP, "P fragment size");
    using Bars = NamedBarriers<Cfg::kConsumerWarpgroups>;
    static constexpr int kTurnThreads = 2 * kWarpgroupThreads;

    const FwdArgs& args;
    Smem smem;
    int wg;           // which 64 rows of the tile: 0 .. kConsumerWarpgroups - 1
    int tid;          // thread index within the warpgroup
    FragmentCoords fc;
    PipeState<Cfg::kStages> k_pipe;
    PipeState<Cfg::kTransposeV ? Cfg::kVtStages : Cfg::kStages> v_pipe;  // the Vt ring for FP8
    PipeState<Smem::kQSlots> q_pipe;  // the Q slot of the current tile
    int tile_count = 0;  // tiles done, for trace builds (trace.cuh)

    __device__ __forceinline__ void stamp(int event) const {
        if (tid == 0) trace_stamp(args, tile_count, wg, event);
    }

    __device__ __forceinline__ Consumer(const FwdArgs& a, Smem s, int wg_, int tid_)
        : args(a), smem(s), wg(wg_), tid(tid_), fc(tid_) {}

    __device__ __forceinline__ void my_turn() const { named_barrier_sync(Bars::turn(wg), kTurnThreads); }
    __device__ __forceinline__ void their_turn() const {
        constexpr int W = Cfg::kConsumerWarpgroups;
        named_barrier_arrive(Bars::turn(W == 2 ? 1 - wg : wg + 1 == W ? 0 : wg + 1), kTurnThreads);
    }

    // One arrival per warp (the barriers count Cfg::kConsumerWarps): every lane has passed the
    // warp-synchronous wgmma wait that retired the reads of the slot.
    __device__ __forceinline__ void release(uint32_t bar) const {
        if (tid % 32 == 0) mbarrier::arrive(bar);
    }

    __device__ __forceinline__ uint32_t v_operand(int stage) const {
        return Cfg::kTransposeV ? smem.vt(stage) : smem.v(stage);
    }
    __device__ __forceinline__ uint32_t v_ready(int stage) const {
        return Cfg::kTransposeV ? smem.vt_full(stage) : smem.v_full(stage);
    }
    __device__ __forceinline__ uint32_t v_done(int stage) const {
        return Cfg::kTransposeV ? smem.vt_empty(stage) : smem.v_empty(stage);
    }

    __device__ void run() {
        // Warpgroup 0 takes the first turn.
        if (wg == 0) named_barrier_arrive(Bars::turn(0), kTurnThreads);
        // The producer hands over each tile with its Q (producer.cuh), and m_block -1 after the last. Lane 0
        // reads the hand-over slot for its warp: it is the lane whose arrival frees the Q slot, and with it the
        // hand-over slot, for a later tile, and its program order puts the read before that arrival.
        for (;; q_pipe.advance()) {
            mbarrier::wait_warp<Cfg::kParkConsumers>(smem.q_full(q_pipe.stage), q_pipe.phase);
            stamp(0);
            uint32_t m_block = 0, bh = 0;
            if (tid % 32 == 0) ld_shared_v2_u32(smem.tile_slot(q_pipe.stage), m_block, bh);
            m_block = __shfl_sync(0xffffffffu, m_block, 0);
            bh = __shfl_sync(0xffffffffu, bh, 0);
            if (static_cast<int>(m_block) < 0) break;
            process_tile(make_tile(args, TileCoord{static_cast<int>(m_block), static_cast<int>(bh)}));
            ++tile_count;
        }
        // The staging tiles must outlive the last TMA stores that read them.
        if (Cfg::kTmaStoreO && args.o_tma && tid == 0) tma::wait_group<0>();
    }

    __device__ __forceinline__ void process_tile(const Tile& t) {
        const BlockRange range = block_range<Cfg::kBlockM, Cfg::kBlockN>(args, t);
        if (tid == 0) trace_word(args, tile_count, wg, 7, static_cast<uint32_t>(range.n_max));
        const int row_base = t.m_block * Cfg::kBlockM + wg * Cfg::kRowsPerConsumer;
        const int rows[2] = {row_base + fc.row0, row_base + fc.row0 + 8};
        const uint32_t q_rows = smem.q(q_pipe.stage) + wg * Cfg::kRowsPerConsumer * Cfg::kSwizzleBytes;
        const uint32_t q_empty = smem.q_empty(q_pipe.stage);

        float o[Gemms::kNumO];
#pragma unroll
        for (int e = 0; e < Gemms::kNumO; ++e) o[e] = 0.f;
        Softmax softmax(args.scale_log2, Cfg::kPOffsetLog2, Cfg::kRescaleLog2);

        if (range.n_max == 0) {
            release(q_empty);
        } else {
            float s[Gemms::kNumS];
            uint32_t p[Gemms::kNumP];
            float o_scale[2];
            // Never true (the API requires seqlen_k >= 1); read once, not after every wait (see below).
            const bool retain_store = args.seqlen_k <= 0;

            // First block: nothing to overlap with yet.
            int n = range.n_max - 1;
            mbarrier::wait_warp<Cfg::kParkConsumers>(smem.k_full(k_pipe.stage), k_pipe.phase);
            my_turn();
            wgmma::fence();
            Gemms::qk(s, q_rows, smem.k(k_pipe.stage));
            wgmma::commit_group();
            their_turn();
            wgmma::wait_group<0>();
            wgmma::fence_operands(s);
            stamp(1);
            release(smem.k_empty(k_pipe.stage));
            k_pipe.advance();
            if (range.n_max == 1) release(q_empty);
            if (n >= range.mask_from)
                apply_mask(s, fc, rows, n * Cfg::kBlockN, t.seqlen_k, t.seqlen_q, args.causal != 0);
            softmax.template update<true>(s, o_scale);
            P::pack(s, p);
            stamp(2);

            // One key block with the intra-warpgroup overlap. kMask: 0 = the block needs no mask, 1 = it
            // does, 2 = test n >= mask_from at run time.
            auto block_step = [&](int n, auto mask_kind) {
                constexpr int kMask = decltype(mask_kind)::value;
                mbarrier::wait_warp<Cfg::kParkConsumers>(smem.k_full(k_pipe.stage), k_pipe.phase);
                my_turn();
                wgmma::fence_operands(o);
                wgmma::fence_operands(p);
                wgmma::fence();
                Gemms::qk(s, q_rows, smem.k(k_pipe.stage));
                wgmma::commit_group();
                mbarrier::wait_warp<Cfg::kParkConsumers>(v_ready(v_pipe.stage), v_pipe.phase);
                wgmma::fence();  // each batch opens with its own fence, so ptxas sees two well-formed stages
                Gemms::pv(o, p, v_operand(v_pipe.stage));
                wgmma::commit_group();
                their_turn();

                wgmma::wait_group<1>();  // S ready; P·V still running
                wgmma::fence_operands(s);
                release(smem.k_empty(k_pipe.stage));
                k_pipe.advance();
                if (n == 0) release(q_empty);
                if (kMask == 1 || (kMask == 2 && n >= range.mask_from))
                    apply_mask(s, fc, rows, n * Cfg::kBlockN, t.seqlen_k, t.seqlen_q, args.causal != 0);
                const bool rescale = softmax.template update<false>(s, o_scale);

                if constexpr (Cfg::kGatedWait)
                    wgmma::wait_group_after<0>(softmax.row_sum[0] + softmax.row_sum[1]);
                else
                    wgmma::wait_group<0>();
                wgmma::fence_operands(o);
                wgmma::fence_operands(p);
                if constexpr (Cfg::kRetainP) wgmma::retain_operands(p, smem.sink(), retain_store);
                release(v_done(v_pipe.stage));
                v_pipe.advance();
                if (rescale) Softmax::rescale(o, o_scale);
                P::pack(s, p);
            };
            // Key blocks run from the last to the first, so the ones that may need the mask come first.
            // ptxas waits for the in-flight P·V at the first branch merge after S is ready, which puts the
            // wait before the softmax whenever the mask test is a branch inside the body (ncu: the
            // exponentials then run after P·V instead of beside it). So the masked and the unmasked
            // blocks each get a copy of the body without the test.
            --n;
            if constexpr (Cfg::kSplitMaskLoop) {
                for (; n >= 0 && n >= range.mask_from; --n) block_step(n, std::integral_constant<int, 1>{});
                for (; n >= 0; --n) block_step(n, std::integral_constant<int, 0>{});
            } else {
                for (; n >= 0; --n) block_step(n, std::integral_constant<int, 2>{});
            }

            // Last block's P·V.
            stamp(3);
            mbarrier::wait_warp<Cfg::kParkConsumers>(v_ready(v_pipe.stage), v_pipe.phase);
            wgmma::fence_operands(o);
            wgmma::fence_operands(p);
            wgmma::fence();
            Gemms::pv(o, p, v_operand(v_pipe.stage));
            wgmma::commit_group();
            wgmma::wait_group<0>();
            wgmma::fence_operands(o);
            stamp(4);
            release(v_done(v_pipe.stage));
            v_pipe.advance();
        }

        float o_factor[2], lse[2];
        softmax.finalize(args.out_scale, args.scale, o_factor, lse);
        stamp(6);
#if defined(FA_SM90_TUNE_NO_STORE)  // timing only: O computed, stores skipped (wrong results)
        if (o[0] == 1234.5f && lse[0] == 5.4321f)
#endif
        {
            if (Cfg::kTmaStoreO && args.o_tma)
                store_output_tma<Cfg, OutT>(args, smem.o(wg), Bars::epilogue(wg), o, o_factor, lse, fc, rows,
                                            row_base, t, tid);
            else
                store_output<OutT>(args, o, o_factor, lse, fc, rows, t);
        }
        stamp(5);
    }
};

}  // namespace fa::sm90
