// The producer warpgroup's TMA thread: it walks the CTA's tiles (the static order of tile_scheduler.cuh or
// the dynamic one of dynamic_order.cuh), hands each to the consumers, and loads its Q once, then K and V of
// each key block into the stage rings, in the order the consumers use them (K0, K1 V0, K2 V1, ...,
// V_last: with the consumers' intra-warpgroup overlap, iteration i needs K_i and V_{i-1}).
#pragma once
#include "cuda/primitives/sm90/mbarrier.cuh"
#include "cuda/primitives/sm90/smem.cuh"
#include "cuda/primitives/sm90/tma.cuh"
#include "cuda/sm90/dynamic_order.cuh"
#include "cuda/sm90/fwd_args.h"
#include "cuda/sm90/smem_layout.cuh"
#include "cuda/sm90/tile_scheduler.cuh"
#include "cuda/sm90/trace.cuh"

namespace fa::sm90 {

template <class Cfg>
struct Producer {
    using Smem = SmemLayout<Cfg>;

    // The first K block before Q (load_tile_blocks). H100, interleaved A/B against Q first, 9 repetitions,
    // 2-16k keys: bf16 head_dim 64 -0.3 to +3.1% (mean +1.3%), 128 and 256 -3.5 to +2.8% (mean 0); e4m3 -6.5 to
    // +0.7% (mean -1.2%). So 16-bit inputs only.
    static constexpr bool kKBeforeQ = FA_SM90_TUNE_K_BEFORE_Q >= 0 ? FA_SM90_TUNE_K_BEFORE_Q != 0 : !Cfg::kFp8;

    const FwdArgs& args;
    Smem smem;
    PipeState<Cfg::kStages> k_pipe, v_pipe;
    PipeState<Smem::kQSlots> q_pipe;  // the Q slot of the next tile
    int tile_count = 0;  // tiles handed over, for trace builds (trace.cuh)

    // One box per column chunk; out-of-range rows and columns arrive as zeros.
    __device__ __forceinline__ void load_tile(uint32_t dst, uint32_t chunk_bytes, const TensorMap& map, uint32_t bar,
                                              int row, int head, int batch) const {
#pragma unroll
        for (int c = 0; c < Cfg::kChunks; ++c)
            tma::load_4d(dst + c * chunk_bytes, &map, bar, c * Cfg::kChunkCols, row, head, batch);
    }

    __device__ __forceinline__ void load_k(int n_block, int kv_head, const Tile& t) {
        const int s = k_pipe.stage;
        mbarrier::wait<Cfg::kParkProducer>(smem.k_empty(s), k_pipe.phase ^ 1u);
        mbarrier::arrive_expect_tx(smem.k_full(s), Smem::kKVStageBytes);
        load_tile(smem.k(s), Smem::kKVChunkBytes, args.tma_k, smem.k_full(s), t.k_row0 + n_block * Cfg::kBlockN,
                  kv_head, t.tma_batch);
        k_pipe.advance();
    }

    __device__ __forceinline__ void load_v(int n_block, int kv_head, const Tile& t) {
        const int s = v_pipe.stage;
        mbarrier::wait<Cfg::kParkProducer>(smem.v_empty(s), v_pipe.phase ^ 1u);
        mbarrier::arrive_expect_tx(smem.v_full(s), Smem::kKVStageBytes);
        load_tile(smem.v(s), Smem::kKVChunkBytes, args.tma_v, smem.v_full(s), t.k_row0 + n_block * Cfg::kBlockN,
                  kv_head, t.tma_batch);
        v_pipe.advance();
    }

    // The first K block, Q, then the other key blocks of one tile. The tile's coordinates go to the consumers
    // through the Q slot's hand-over word once an earlier tile has freed that slot (the consumers read the word
    // before they free it) and before Q's barrier can complete: the arrival on it releases the write to the
    // consumers that wait on it.
    __device__ __forceinline__ void load_tile_blocks(TileCoord c) {
        const Tile t = make_tile(args, c);
        const int kv_head = t.head / args.heads_per_kv;
        const BlockRange r = block_range<Cfg::kBlockM, Cfg::kBlockN>(args, t);

        // The first K block goes out before the wait for Q: a ring stage is free long before the previous
        // tile's consumers free Q (after their last Q·K^T), and K, not Q, was what a new tile waited for.
        if (kKBeforeQ && r.n_max > 0) load_k(r.n_max - 1, kv_head, t);

        // Q is loaded even for tiles with no visible key, so the consumers' per-tile Q handshake
        // never depends on the mask. The consumers free a Q slot after their last Q·K^T of its tile: with two
        // slots, that is the tile before the previous one, so this Q goes out as soon as the previous tile's
        // K and V have.
        const int qs = q_pipe.stage;
        trace_stamp(args, tile_count, kTraceProducer, 0);
        mbarrier::wait<Cfg::kParkProducer>(smem.q_empty(qs), q_pipe.phase ^ 1u);
        trace_stamp(args, tile_count, kTraceProducer, 1);
        st_shared_v2_u32(smem.tile_slot(qs), static_cast<uint32_t>(c.m_block), static_cast<uint32_t>(c.bh));
        mbarrier::arrive_expect_tx(smem.q_full(qs), Smem::kQBytes);
        load_tile(smem.q(qs), Smem::kQChunkBytes, args.tma_q, smem.q_full(qs), t.q_row0 + t.m_block * Cfg::kBlockM,
                  t.head, t.tma_batch);
        q_pipe.advance();

        if (r.n_max > 0) {
            if (!kKBeforeQ) load_k(r.n_max - 1, kv_head, t);
            for (int n = r.n_max - 2; n >= 0; --n) {
                load_k(n, kv_head, t);
                load_v(n + 1, kv_head, t);
            }
            load_v(0, kv_head, t);
        }
        trace_stamp(args, tile_count, kTraceProducer, 2);
        ++tile_count;
    }

    // After the last tile: m_block -1 tells the consumers to stop, with a plain arrival on Q's barrier,
    // which completes its phase without bytes. The FP8 transposer warps, which see only the stream of V
    // blocks, stop at the next V stage's end flag, delivered the same way once the stage is free.
    __device__ __forceinline__ void hand_over_end() {
        const int qs = q_pipe.stage;
        mbarrier::wait<Cfg::kParkProducer>(smem.q_empty(qs), q_pipe.phase ^ 1u);
        st_shared_v2_u32(smem.tile_slot(qs), static_cast<uint32_t>(-1), 0u);
        mbarrier::arrive(smem.q_full(qs));
        if constexpr (Cfg::kTransposeV) {
            const int s = v_pipe.stage;
            mbarrier::wait<Cfg::kParkProducer>(smem.v_empty(s), v_pipe.phase ^ 1u);
            st_shared_u32(smem.v_end_flag(s), 1u);
            mbarrier::arrive(smem.v_full(s));
        }
    }

    __device__ void run() {
        if (args.unit_counter != nullptr) {
            // The next unit is drawn before this one's loads go out, so the atomic's round trip overlaps them.
            for (int u = DynamicOrder::with_rows<Cfg::kBlockM>(args, DynamicOrder::first()); u != DynamicOrder::kEnd;) {
                const int next = DynamicOrder::draw(args);
                load_tile_blocks(DynamicOrder::coord(args, u));
                u = DynamicOrder::with_rows<Cfg::kBlockM>(args, next);
            }
            hand_over_end();
            DynamicOrder::finish(args);
            return;
        }
        for (TileScheduler<Cfg::kBlockM> sched(args); sched.valid(args); sched.advance(args))
            load_tile_blocks(sched.coord(args));
        hand_over_end();
    }
};

}  // namespace fa::sm90
