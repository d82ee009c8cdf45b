// The producer warpgroup's TMA thread: for every tile of this CTA it loads Q once, then K and V of
// each key block into the stage rings, in the order the consumers use them (K0, K1 V0, K2 V1, ...,
// V_last: with the consumers' intra-warpgroup overlap, iteration i needs K_i and V_{i-1}).
#pragma once
#include "cuda/primitives/sm90/mbarrier.cuh"
#include "cuda/primitives/sm90/tma.cuh"
#include "cuda/sm90/fwd_args.h"
#include "cuda/sm90/smem_layout.cuh"
#include "cuda/sm90/tile_scheduler.cuh"

namespace fa::sm90 {

template <class Cfg>
struct Producer {
    using Smem = SmemLayout<Cfg>;

    const FwdArgs& args;
    Smem smem;
    PipeState<Cfg::kStages> k_pipe, v_pipe;

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

    __device__ void run() {
        uint32_t tile_parity = 0;
        for (TileScheduler<Cfg::kBlockM> sched(args); sched.valid(args); sched.advance(args), tile_parity ^= 1u) {
            const Tile t = sched.tile(args);
            const int kv_head = t.head / args.heads_per_kv;
            const BlockRange r = block_range<Cfg::kBlockM, Cfg::kBlockN>(args, t);

            // Q is loaded even for tiles with no visible key, so the consumers' per-tile Q handshake
            // never depends on the mask. The previous tile's consumers free Q after their last Q·K^T.
            mbarrier::wait<Cfg::kParkProducer>(smem.q_empty(), tile_parity ^ 1u);
            mbarrier::arrive_expect_tx(smem.q_full(), Smem::kQBytes);
            load_tile(smem.q(), Smem::kQChunkBytes, args.tma_q, smem.q_full(), t.q_row0 + t.m_block * Cfg::kBlockM,
                      t.head, t.tma_batch);

            if (r.n_max == 0) continue;
            load_k(r.n_max - 1, kv_head, t);
            for (int n = r.n_max - 2; n >= 0; --n) {
                load_k(n, kv_head, t);
                load_v(n + 1, kv_head, t);
            }
            load_v(0, kv_head, t);
        }
    }
};

}  // namespace fa::sm90
