// Persistent static tile scheduler: the grid has one CTA per SM, and CTA b takes the work units
// b, b + grid, ... A unit is a position j within one (batch, head); the heads' units are consecutive, so
// the CTAs running at one time share the K/V of a few neighbouring heads in L2.
//
// Without a causal mask every tile costs the same and a unit is the single tile
// m_block = num_m_blocks - 1 - j. Under a causal mask a tile's cost grows with its m_block, and
// round-robin over single tiles is badly unbalanced whenever the grid and num_m_blocks share factors:
// at 132 CTAs and 128 m-blocks, CTA b only ever gets positions b, b + 4, ..., so the slowest CTA does 1.6x
// the mean (at 4 m-blocks, CTA b always gets the same m-block). So a causal unit is the pair
// (num_m_blocks - 1 - j, j), long tile first: all pairs cost about the same, the CTAs finish each round
// together and stay on neighbouring heads. An odd middle m-block is a unit of its own.
#pragma once
#include "cuda/sm90/fwd_args.h"

namespace fa::sm90 {

struct Tile {
    int m_block, head, batch;
};

struct TileScheduler {
    int unit;
    bool second;  // on the short tile of a causal pair

    __device__ __forceinline__ TileScheduler() : unit(static_cast<int>(blockIdx.x)), second(false) {}

    __device__ __forceinline__ bool valid(const FwdArgs& a) const { return unit < a.num_units; }

    __device__ __forceinline__ Tile tile(const FwdArgs& a) const {
        const int j = unit % a.units_per_bh;
        const int bh = unit / a.units_per_bh;
        return Tile{second ? j : a.num_m_blocks - 1 - j, bh % a.num_heads_q, bh / a.num_heads_q};
    }

    __device__ __forceinline__ void advance(const FwdArgs& a) {
        // j has a partner m-block iff j < num_m_blocks - 1 - j.
        if (a.pair_tiles && !second && 2 * (unit % a.units_per_bh) + 1 < a.num_m_blocks) {
            second = true;
        } else {
            second = false;
            unit += static_cast<int>(gridDim.x);
        }
    }
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
