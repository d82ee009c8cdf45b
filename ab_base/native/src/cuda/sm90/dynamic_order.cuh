// Dynamic tile order (FwdArgs::unit_counter set): the producer thread of every persistent CTA draws its
// next unit from a global counter, so a CTA that got short tiles draws more, and the CTAs finish together
// without the static order's rounds of equal units (tile_scheduler.cuh).
//
// A unit is one tile. Units come longest first within groups of (batch, head)s whose K and V fit in L2
// together (FwdArgs::l2_group_bh): unit r of a group of `size` is m-block num_m_blocks - 1 - r / size of
// the group's (batch, head) r % size. Under a causal mask the last tiles drawn are then the shortest, so
// the tail where some CTAs idle is one short tile long; the CTAs running at one time read the K/V of a
// few heads.
#pragma once
#include "cuda/sm90/fwd_args.h"
#include "cuda/sm90/tile_scheduler.cuh"

namespace fa::sm90 {

struct DynamicOrder {
    static constexpr int kEnd = -1;

    // The first unit of a CTA is its index, without a draw; the counter counts the draws after those.
    static __device__ __forceinline__ int first() { return static_cast<int>(blockIdx.x); }
    static __device__ __forceinline__ int draw(const FwdArgs& a) {
        return static_cast<int>(gridDim.x) + atomicAdd(a.unit_counter, 1);
    }

    static __device__ __forceinline__ TileCoord coord(const FwdArgs& a, int u) {
        const int bh_count = a.batch * a.num_heads_q;
        const int group_units = a.l2_group_bh * a.num_m_blocks;
        const int g = u / group_units;
        const int r = u - g * group_units;
        const int bh0 = g * a.l2_group_bh;
        const int size = min(a.l2_group_bh, bh_count - bh0);
        return TileCoord{a.num_m_blocks - 1 - r / size, bh0 + r % size};
    }

    // u, or the next unit drawn after it that has rows (packed sequences shorter than num_m_blocks tiles
    // have none past their end), or kEnd once the units are gone.
    template <int kBlockM>
    static __device__ __forceinline__ int with_rows(const FwdArgs& a, int u) {
        for (;; u = draw(a)) {
            if (u >= a.num_units) return kEnd;
            if (a.cu_seqlens_q == nullptr) return u;
            const TileCoord c = coord(a, u);
            const int b = c.bh / a.num_heads_q;
            if (c.m_block * kBlockM < a.cu_seqlens_q[b + 1] - a.cu_seqlens_q[b]) return u;
        }
    }

    // Every CTA's producer, once it has drawn past the end (it draws no more): the last of them zeroes
    // the counters for the next launch that gets them. The fence orders this CTA's draws before its count.
    static __device__ __forceinline__ void finish(const FwdArgs& a) {
        __threadfence();
        if (atomicAdd(a.unit_counter + 1, 1) == static_cast<int>(gridDim.x) - 1) {
            atomicExch(a.unit_counter, 0);
            atomicExch(a.unit_counter + 1, 0);
        }
    }
};

}  // namespace fa::sm90
