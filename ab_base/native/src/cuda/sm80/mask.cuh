// Which (query row, key column) pairs take part: key j is visible to row i iff j < seqlen_k and, when
// causal, j <= i + seqlen_k - seqlen_q (bottom-right aligned). Applied only to tiles that straddle a
// boundary (tile_needs_mask); the rest of the loop runs mask-free.
#pragma once
#include <cfloat>
#include <cmath>

namespace fa::sm80 {

struct Mask {
    int seqlen_q, seqlen_k;
    bool causal;

    // One past the last visible key of query row `row`.
    __device__ __forceinline__ int key_limit(int row) const {
        return causal ? min(seqlen_k, row + seqlen_k - seqlen_q + 1) : seqlen_k;
    }

    // Does the tile rows [m0, m1) x keys [n0, n1) contain a hidden pair? Rows past seqlen_q are not
    // considered: their inputs are zero-filled and their outputs dropped.
    __device__ __forceinline__ bool tile_needs_mask(int m0, int n1) const {
        return n1 > seqlen_k || (causal && n1 - 1 > m0 + seqlen_k - seqlen_q);
    }
};

// S with query rows (forward, deterministic dQ): fragment layout of warp_gemm.cuh, tile origin
// (row0, col0) in sequence coordinates.
template <int MF, int NF>
__device__ __forceinline__ void mask_scores(float (&s)[MF][NF][4], const Mask& mask, int row0, int col0,
                                            int lane) {
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int mf = 0; mf < MF; ++mf)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int limit = mask.key_limit(row0 + mf * 16 + g + 8 * h);
#pragma unroll
            for (int nf = 0; nf < NF; ++nf)
#pragma unroll
                for (int j = 0; j < 2; ++j)
                    if (col0 + nf * 8 + 2 * t + j >= limit) s[mf][nf][2 * h + j] = -INFINITY;
        }
}

// S^T with key rows and query columns (the dK/dV kernel).
template <int MF, int NF>
__device__ __forceinline__ void mask_scores_transposed(float (&s)[MF][NF][4], const Mask& mask, int key0,
                                                       int query0, int lane) {
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int mf = 0; mf < MF; ++mf)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int key = key0 + mf * 16 + g + 8 * h;
#pragma unroll
            for (int nf = 0; nf < NF; ++nf)
#pragma unroll
                for (int j = 0; j < 2; ++j)
                    if (key >= mask.key_limit(query0 + nf * 8 + 2 * t + j)) s[mf][nf][2 * h + j] = -INFINITY;
        }
}

}  // namespace fa::sm80
