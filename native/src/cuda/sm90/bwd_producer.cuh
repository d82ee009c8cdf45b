// The backward's TMA thread: K and V of the CTA's keys once, then for every query head of the KV head and
// every query block that sees those keys, one stage of Q, dO and the rows' LSE and D, in the order the
// consumers walk them.
#pragma once
#include "cuda/primitives/sm90/mbarrier.cuh"
#include "cuda/primitives/sm90/tma.cuh"
#include "cuda/sm90/bwd_args.h"
#include "cuda/sm90/bwd_smem.cuh"
#include "cuda/sm90/smem_layout.cuh"

namespace fa::sm90 {

template <class Cfg>
struct BwdProducer {
    using Smem = BwdSmem<Cfg>;

    const BwdArgs& args;
    Smem smem;
    PipeState<Cfg::kStages> pipe;

    // One box per 64-column chunk; rows past the tensor's end arrive as zeros.
    __device__ __forceinline__ void load_tile(uint32_t dst, uint32_t chunk_bytes, const TensorMap& map, uint32_t bar,
                                              int row, int head, int batch) const {
#pragma unroll
        for (int c = 0; c < Cfg::kChunks; ++c)
            tma::load_4d(dst + c * chunk_bytes, &map, bar, c * Cfg::kChunkCols, row, head, batch);
    }

    __device__ void run(const BwdSeq& seq, int n_block, int kv_head, int batch) {
        const int key0 = seq.k_row0 + n_block * Cfg::kBlockN;
        mbarrier::arrive_expect_tx(smem.kv_full(), 2 * Smem::kKBytes);
        load_tile(smem.k(), Smem::kKChunkBytes, args.tma_k, smem.kv_full(), key0, kv_head, seq.tma_batch);
        load_tile(smem.v(), Smem::kKChunkBytes, args.tma_v, smem.kv_full(), key0, kv_head, seq.tma_batch);

        const QueryRange r = query_range<Cfg::kBlockM, Cfg::kBlockN>(args, seq, n_block);
        for (int g = 0; g < args.heads_per_kv; ++g) {
            const int head = kv_head * args.heads_per_kv + g;
            const int64_t row_base = (static_cast<int64_t>(batch) * args.num_heads_q + head) * args.rows_padded;
            for (int m = r.begin; m < r.end; ++m) {
                const int s = pipe.stage;
                mbarrier::wait(smem.empty(s), pipe.phase ^ 1u);
                const uint32_t full = smem.full(s);
                mbarrier::arrive_expect_tx(full, Smem::kStageTxBytes);
                // A packed tile runs past its sequence into the next one's rows: their LSE is +inf (workspace
                // padding), so they add nothing.
                const int row0 = m * Cfg::kBlockM;
                load_tile(smem.q(s), Smem::kQChunkBytes, args.tma_q, full, seq.q_row0 + row0, head, seq.tma_batch);
                load_tile(smem.dout(s), Smem::kQChunkBytes, args.tma_dout, full, seq.q_row0 + row0, head,
                          seq.tma_batch);
                tma::load_1d(smem.lse_log2(s), args.lse_log2 + row_base + row0, Smem::kRowFloatBytes, full);
                tma::load_1d(smem.dsum(s), args.dsum + row_base + row0, Smem::kRowFloatBytes, full);
                pipe.advance();
            }
        }
    }
};

}  // namespace fa::sm90
