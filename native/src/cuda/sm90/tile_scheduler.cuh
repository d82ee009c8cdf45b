// Persistent static tile scheduler: the grid has one CTA per SM, CTA b takes tiles b, b + grid, ...
// Tiles are (m_block, head, batch); within one (batch, head) the m-blocks run last-first, so under a
// causal mask the longest tiles are handed out first and the short ones fill the tail, while CTAs that
// run at the same time share K/V of the same heads in L2.
#pragma once
#include "cuda/sm90/fwd_args.h"

namespace fa::sm90 {

struct Tile {
    int m_block, head, batch;
};

struct TileScheduler {
    int next_tile;

    __device__ __forceinline__ TileScheduler() : next_tile(static_cast<int>(blockIdx.x)) {}

    __device__ __forceinline__ bool valid(const FwdArgs& a) const { return next_tile < a.num_tiles; }

    __device__ __forceinline__ Tile tile(const FwdArgs& a) const {
        const int mi = next_tile % a.num_m_blocks;
        const int bh = next_tile / a.num_m_blocks;
        return Tile{a.num_m_blocks - 1 - mi, bh % a.num_heads_q, bh / a.num_heads_q};
    }

    __device__ __forceinline__ void advance() { next_tile += static_cast<int>(gridDim.x); }
};

// The key blocks one tile visits, in processing order n_max - 1, ..., 0 (highest first, so the few
// blocks needing a mask come first and the loop body after them is mask-free). Both the producer and
// the consumers derive it from the same inputs, so they agree on every count without communicating.
struct BlockRange {
    int n_max;      // number of key blocks visited; 0 when every row of the tile sees no key
    int mask_from;  // blocks n >= mask_from need masking (sequence tail or causal diagonal)
};

template <int kBlockM, int kBlockN>
__device__ __forceinline__ BlockRange block_range(const FwdArgs& a, int m_block) {
    const int n_blocks = (a.seqlen_k + kBlockN - 1) / kBlockN;
    int n_max = n_blocks;
    int mask_from = a.seqlen_k % kBlockN == 0 ? n_blocks : a.seqlen_k / kBlockN;
    if (a.causal) {
        // Bottom-right alignment: row i sees key j iff j <= i + seqlen_k - seqlen_q.
        const long long offset = static_cast<long long>(a.seqlen_k) - a.seqlen_q;
        const long long first_row = static_cast<long long>(m_block) * kBlockM;
        const long long last_row = min(first_row + kBlockM - 1, static_cast<long long>(a.seqlen_q) - 1);
        const long long last_key = last_row + offset;  // the tile's last visible key
        n_max = last_key < 0 ? 0 : static_cast<int>(min(static_cast<long long>(n_blocks), last_key / kBlockN + 1));
        // The first block holding a key that the tile's first row may not see.
        const long long first_hidden = first_row + offset + 1;
        const int causal_from = first_hidden <= 0 ? 0 : static_cast<int>(min(static_cast<long long>(n_blocks), first_hidden / kBlockN));
        mask_from = min(mask_from, causal_from);
    }
    return BlockRange{n_max, mask_from};
}

}  // namespace fa::sm90
