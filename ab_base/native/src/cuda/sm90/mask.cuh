// Masking of one S = Q·K^T block: keys past seqlen_k (TMA filled them with zeros, which must not count)
// and, under the causal mask, keys right of each row's diagonal. Only the first blocks of a tile's
// descending walk need it (BlockRange::mask_from); the rest skip this entirely.
#pragma once
#include "cuda/sm90/fragment.cuh"

#include <cmath>

namespace fa::sm90 {

// s: one thread's S accumulator (N/2 values). rows: the thread's two global query rows.
template <int kNumS>
__device__ __forceinline__ void apply_mask(float (&s)[kNumS], const FragmentCoords& fc, const int (&rows)[2],
                                           int key0, int seqlen_k, int seqlen_q, bool causal) {
    // The first key index this row may not see, relative to key0 + col0: the test of element e is then against
    // its column's compile-time part alone (col_of(e) - col0), one compare with an immediate per element.
    int limit[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        long long lim = seqlen_k;
        if (causal) lim = min(lim, static_cast<long long>(rows[r]) + seqlen_k - seqlen_q + 1);
        lim -= key0;
        limit[r] = static_cast<int>(max(-1LL, min(lim, static_cast<long long>(kNumS * 4)))) - fc.col0;
    }
#pragma unroll
    for (int e = 0; e < kNumS; ++e)
        if ((e >> 2) * 8 + (e & 1) >= limit[FragmentCoords::row_of(e)]) s[e] = -INFINITY;
}

}  // namespace fa::sm90
