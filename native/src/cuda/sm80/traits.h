// Tile shapes per compiled head dim, in one place so tuning touches nothing else.
//
// Forward: BlockM query rows per block, split across warps (each warp owns 16 * kMFrags rows and all
// head-dim columns of O); BlockN keys per pipeline stage. Registers per thread are roughly
// O (BlockM * D / threads) + S (BlockM * BlockN / threads) fp32 values and must stay under 255.
//
// Backward (dK/dV kernel): BlockN keys per block, BlockM query rows per step. Each of its three
// warp layouts covers one product: A (S^T and dP^T, BlockN x BlockM), B (dV and dK, BlockN x D),
// C (dQ, BlockM x D); Rows x Cols warps each.
#pragma once

namespace fa::sm80 {

template <int D>
struct FwdTraits;
//                                          BlockM      BlockN      warps
template <> struct FwdTraits<32>  { static constexpr int kBlockM = 128, kBlockN = 128, kWarps = 4; };
template <> struct FwdTraits<64>  { static constexpr int kBlockM = 128, kBlockN = 128, kWarps = 4; };
template <> struct FwdTraits<96>  { static constexpr int kBlockM = 128, kBlockN = 64,  kWarps = 4; };
template <> struct FwdTraits<128> { static constexpr int kBlockM = 128, kBlockN = 64,  kWarps = 4; };
template <> struct FwdTraits<160> { static constexpr int kBlockM = 128, kBlockN = 32,  kWarps = 4; };
template <> struct FwdTraits<192> { static constexpr int kBlockM = 128, kBlockN = 64,  kWarps = 8; };
template <> struct FwdTraits<224> { static constexpr int kBlockM = 128, kBlockN = 64,  kWarps = 8; };
template <> struct FwdTraits<256> { static constexpr int kBlockM = 128, kBlockN = 64,  kWarps = 8; };

template <int D>
struct BwdTraits {
    static constexpr int kBlockM = 64;
    static constexpr int kBlockN = D <= 128 ? 128 : 64;
    static constexpr int kWarps = 8;
    // (rows, cols) of warps in each product's warp grid.
    static constexpr int kARows = kBlockN == 128 ? 4 : 2, kACols = kWarps / kARows;
    static constexpr int kBRows = kBlockN == 128 ? 4 : 2, kBCols = kWarps / kBRows;
    static constexpr int kCRows = 2, kCCols = kWarps / kCRows;
};

// Deterministic dQ kernel: forward-shaped (warps own query rows), one 16-row fragment per warp.
template <int D>
struct BwdDqTraits {
    static constexpr int kBlockM = 64;
    static constexpr int kBlockN = D <= 128 ? 64 : 32;
    static constexpr int kWarps = 4;
};

// Rows of the padded backward workspace are a multiple of this (>= every backward BlockM).
constexpr int kBwdRowPad = 128;

__host__ __device__ constexpr int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace fa::sm80
