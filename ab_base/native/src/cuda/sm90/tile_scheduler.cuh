// Static tile order: the grid has one CTA per SM, and CTA b takes the work units
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
//
// Variable length (packed tensors, cu_seqlens): every sequence gets the m-blocks of the longest one, and
// the positions past a shorter sequence's end are skipped. Only the producer walks this order; it hands each
// tile to the consumers (producer.cuh).
//
// The dynamic order (dynamic_order.cuh) replaces this one where tiles cost unequal amounts (fwd_launch.cuh).
#pragma once
#include "cuda/sm90/fwd_args.h"

namespace fa::sm90 {

// Which tile: m-block m_block of (batch, head) number bh = batch * num_heads_q + head. The producer hands
// this to its consumers through shared memory, so only the producer walks an order.
struct TileCoord {
    int m_block, bh;
};

// One tile and the sequence it belongs to.
struct Tile {
    int m_block, head, batch;
    int seqlen_q, seqlen_k;  // this sequence's lengths
    int q_row0, k_row0;      // TMA row coordinate of its first query / key row: the packed offset, or 0
    int tma_batch;           // TMA batch coordinate: batch, or 0 for packed tensors
};

__device__ __forceinline__ Tile make_tile(const FwdArgs& a, TileCoord c) {
    const int b = c.bh / a.num_heads_q;
    Tile t{c.m_block, c.bh % a.num_heads_q, b, a.seqlen_q, a.seqlen_k, 0, 0, b};
    if (a.cu_seqlens_q != nullptr) {
        t.q_row0 = a.cu_seqlens_q[b];
        t.k_row0 = a.cu_seqlens_k[b];
        t.seqlen_q = a.cu_seqlens_q[b + 1] - t.q_row0;
        t.seqlen_k = a.cu_seqlens_k[b + 1] - t.k_row0;
        t.tma_batch = 0;
    }
    return t;
}

template <int kBlockM>
struct TileScheduler {
    int unit;
    bool second;  // on the short tile of a causal pair

    __device__ __forceinline__ explicit TileScheduler(const FwdArgs& a)
        : unit(static_cast<int>(blockIdx.x)), second(false) {
        skip_empty(a);
    }

    __device__ __forceinline__ bool valid(const FwdArgs& a) const { return unit < a.num_units; }

    __device__ __forceinline__ TileCoord coord(const FwdArgs& a) const {
        const int j = unit % a.units_per_bh;
        return TileCoord{second ? j : a.num_m_blocks - 1 - j, unit / a.units_per_bh};
    }

    __device__ __forceinline__ void advance(const FwdArgs& a) {
        step(a);
        skip_empty(a);
    }

private:
    __device__ __forceinline__ void step(const FwdArgs& a) {
        // j has a partner m-block iff j < num_m_blocks - 1 - j.
        if (a.pair_tiles && !second && 2 * (unit % a.units_per_bh) + 1 < a.num_m_blocks) {
            second = true;
        } else {
            second = false;
            unit += static_cast<int>(gridDim.x);
        }
    }

    // Only packed sequences can be shorter than num_m_blocks tiles.
    __device__ __forceinline__ void skip_empty(const FwdArgs& a) {
        if (a.cu_seqlens_q == nullptr) return;
        while (valid(a)) {
            const Tile t = make_tile(a, coord(a));
            if (t.m_block * kBlockM < t.seqlen_q) return;
            step(a);
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
__device__ __forceinline__ BlockRange block_range(const FwdArgs& a, const Tile& t) {
    const int n_blocks = (t.seqlen_k + kBlockN - 1) / kBlockN;
    int n_max = n_blocks;
    int mask_from = t.seqlen_k % kBlockN == 0 ? n_blocks : t.seqlen_k / kBlockN;
    if (a.causal) {
        // Bottom-right alignment: row i sees key j iff j <= i + seqlen_k - seqlen_q.
        const long long offset = static_cast<long long>(t.seqlen_k) - t.seqlen_q;
        const long long first_row = static_cast<long long>(t.m_block) * kBlockM;
        const long long last_row = min(first_row + kBlockM - 1, static_cast<long long>(t.seqlen_q) - 1);
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
