// Tile shapes per compiled head dim, in one place so tuning touches nothing else.
//
// Forward: BlockM query rows per block, split across warps (each warp owns 16 * kMFrags rows and all
// head-dim columns of O); BlockN keys per pipeline stage. Registers per thread are roughly
// O (BlockM * D / threads) + S (BlockM * BlockN / threads) fp32 values and must stay under 255.
//
// Backward (dK/dV kernel): BlockN keys per block, BlockM query rows per step. Each of its three
// warp layouts covers one product: A (S^T and dP^T, BlockN x BlockM), B (dV and dK, BlockN x D),
// C (dQ, BlockM x D), as (rows x cols) warps; the registers that matter are dK + dV
// (2 * BlockN * D / threads) plus S^T + dP^T (2 * BlockN * BlockM / threads).
//
// Tuning builds can replace the tile of one head dim from the compiler command line, e.g.
//   -DFA_SM80_TUNE_FWD_DIM=128 -DFA_SM80_TUNE_FWD_BM=128 -DFA_SM80_TUNE_FWD_BN=32 -DFA_SM80_TUNE_FWD_WARPS=4
//   -DFA_SM80_TUNE_BWD_DIM=128 -DFA_SM80_TUNE_BWD_BM=64 -DFA_SM80_TUNE_BWD_BN=128 -DFA_SM80_TUNE_BWD_WARPS=8
//     -DFA_SM80_TUNE_BWD_AROWS=4 -DFA_SM80_TUNE_BWD_BROWS=4 -DFA_SM80_TUNE_BWD_CROWS=2
#pragma once
#include <type_traits>

namespace fa::sm80 {

template <int BM, int BN, int WARPS>
struct FwdTile {
    static constexpr int kBlockM = BM, kBlockN = BN, kWarps = WARPS;
};

template <int D>
struct FwdDefault;
template <> struct FwdDefault<32>  : FwdTile<128, 128, 4> {};
template <> struct FwdDefault<64>  : FwdTile<128, 128, 4> {};
template <> struct FwdDefault<96>  : FwdTile<128, 64, 4> {};
template <> struct FwdDefault<128> : FwdTile<128, 64, 4> {};
template <> struct FwdDefault<160> : FwdTile<128, 32, 4> {};
template <> struct FwdDefault<192> : FwdTile<128, 64, 8> {};
template <> struct FwdDefault<224> : FwdTile<128, 64, 8> {};
// hdim 256: 128-key blocks halve the per-block softmax and barrier steps; measured +7-9% over 128x64
// (H100, 2026-11-22, seqlen 2k-16k) with one pipeline stage and no spill.
template <> struct FwdDefault<256> : FwdTile<128, 128, 8> {};

template <int BM, int BN, int WARPS, int AROWS, int BROWS, int CROWS>
struct BwdTile {
    static constexpr int kBlockM = BM, kBlockN = BN, kWarps = WARPS;
    static constexpr int kARows = AROWS, kACols = WARPS / AROWS;
    static constexpr int kBRows = BROWS, kBCols = WARPS / BROWS;
    static constexpr int kCRows = CROWS, kCCols = WARPS / CROWS;
};

template <int D>
struct BwdDefault;
template <> struct BwdDefault<32>  : BwdTile<128, 128, 8, 4, 4, 4> {};
template <> struct BwdDefault<64>  : BwdTile<128, 128, 8, 4, 4, 4> {};
template <> struct BwdDefault<96>  : BwdTile<64, 128, 8, 4, 4, 2> {};
template <> struct BwdDefault<128> : BwdTile<64, 128, 8, 4, 4, 2> {};
template <> struct BwdDefault<160> : BwdTile<64, 64, 8, 2, 2, 2> {};
template <> struct BwdDefault<192> : BwdTile<64, 64, 8, 2, 2, 2> {};
template <> struct BwdDefault<224> : BwdTile<64, 64, 8, 2, 2, 2> {};
template <> struct BwdDefault<256> : BwdTile<64, 64, 8, 2, 2, 2> {};

#if defined(FA_SM80_TUNE_FWD_DIM)
template <int D>
struct FwdTraits : std::conditional_t<D == FA_SM80_TUNE_FWD_DIM,
                                      FwdTile<FA_SM80_TUNE_FWD_BM, FA_SM80_TUNE_FWD_BN, FA_SM80_TUNE_FWD_WARPS>,
                                      FwdDefault<D>> {};
#else
template <int D>
struct FwdTraits : FwdDefault<D> {};
#endif

#if defined(FA_SM80_TUNE_BWD_DIM)
template <int D>
struct BwdTraits : std::conditional_t<D == FA_SM80_TUNE_BWD_DIM,
                                      BwdTile<FA_SM80_TUNE_BWD_BM, FA_SM80_TUNE_BWD_BN, FA_SM80_TUNE_BWD_WARPS,
                                              FA_SM80_TUNE_BWD_AROWS, FA_SM80_TUNE_BWD_BROWS, FA_SM80_TUNE_BWD_CROWS>,
                                      BwdDefault<D>> {};
#else
template <int D>
struct BwdTraits : BwdDefault<D> {};
#endif

// Passes of the dK/dV kernel over the columns of product A (query columns of S^T and dP^T) and of
// product C (head-dim columns of dQ): with P passes only 1/P of those accumulators is live at once,
// which is what keeps the kernel under 255 registers, at the price of reading the other operand P
// times from smem. Tuning builds can set every head dim's passes with -DFA_SM80_TUNE_BWD_APASSES=P
// or -DFA_SM80_TUNE_BWD_CPASSES=P (applied where the columns split into even fragment counts).
template <int D>
struct BwdPassesDefault {
    static constexpr int kA = 1, kC = 1;
};
// Two dQ passes: dQ is the largest live array at hdim 256 (64 floats) and the spill point at hdim 128;
// H200, seqlen 8192: bwd 294 -> 300 TFLOP/s at hdim 128, 229 -> 242 at 256 (hdim 64 unchanged, and
// two passes of product A cost 4-5 % at hdim 64 and 128).
template <> struct BwdPassesDefault<128> { static constexpr int kA = 1, kC = 2; };
template <> struct BwdPassesDefault<256> { static constexpr int kA = 1, kC = 2; };
#if defined(FA_SM80_TUNE_BWD_APASSES)
constexpr int kTuneBwdAPasses = FA_SM80_TUNE_BWD_APASSES;
#else
constexpr int kTuneBwdAPasses = 0;
#endif
#if defined(FA_SM80_TUNE_BWD_CPASSES)
constexpr int kTuneBwdCPasses = FA_SM80_TUNE_BWD_CPASSES;
#else
constexpr int kTuneBwdCPasses = 0;
#endif
// Passes leave every pass an even number of 8-column fragments (the B operands load in pairs): the
// override where it does, else the head dim's default where it does, else one pass.
__host__ __device__ constexpr int bwd_passes(int tuned, int fallback, int nf) {
    return tuned > 0 && nf % (2 * tuned) == 0 ? tuned : fallback > 0 && nf % (2 * fallback) == 0 ? fallback : 1;
}

// Scheduling knobs of the products (measured per head dim; tuning builds override them for every head
// dim with -DFA_SM80_<KNOB>=N, where N >= 0):
//   LA_FWD_QK, LA_FWD_PV, LA_BWD_A (S^T, dP^T), LA_BWD_B (dV, dK), LA_BWD_C (dQ): operand-load lookahead
//     of that product in B-load steps (warp_gemm.cuh: the smem fragments of step s + LA are loaded
//     before the mma of step s). 0 = load-then-use.
//   BWD_RED_SPREAD: 0 = each dQ pass's REDs right after its product; 1 = the last pass's REDs between
//     the steps of the dK product; 2 = also every earlier pass's REDs between the next pass's steps.
//   BWD_SPLIT_LOAD: 0 = the next step's Q and dO tiles issued together at the top of a step; 1 = dO
//     once P^T and dS^T are complete (before dV); 2 = dO after the dV product.
//   FWD_LOAD_EVERY: 0 = the forward's K and V tiles issued whole before their GEMM; N > 0 = pass by
//     pass, one every N steps of the GEMM (V within Q K^T, K within P V).
//   BWD_LOAD_EVERY: the same for the backward's next Q (within S^T) and dO (within dV) tiles; 0 =
//     whole tiles where BWD_SPLIT_LOAD places them.
#ifndef FA_SM80_LA_FWD_QK
#define FA_SM80_LA_FWD_QK -1
#endif
#ifndef FA_SM80_LA_FWD_PV
#define FA_SM80_LA_FWD_PV -1
#endif
#ifndef FA_SM80_LA_BWD_A
#define FA_SM80_LA_BWD_A -1
#endif
#ifndef FA_SM80_LA_BWD_B
#define FA_SM80_LA_BWD_B -1
#endif
#ifndef FA_SM80_LA_BWD_C
#define FA_SM80_LA_BWD_C -1
#endif
#ifndef FA_SM80_BWD_RED_SPREAD
#define FA_SM80_BWD_RED_SPREAD -1
#endif
#ifndef FA_SM80_BWD_SPLIT_LOAD
#define FA_SM80_BWD_SPLIT_LOAD -1
#endif
#ifndef FA_SM80_FWD_LOAD_EVERY
#define FA_SM80_FWD_LOAD_EVERY -1
#endif
#ifndef FA_SM80_BWD_LOAD_EVERY
#define FA_SM80_BWD_LOAD_EVERY -1
#endif
__host__ __device__ constexpr int tuned_or(int tuned, int fallback) { return tuned >= 0 ? tuned : fallback; }

struct ScheduleKnobs {
    static constexpr int kLaQK = 0, kLaPV = 0, kLoadEvery = 0;                               // forward
    static constexpr int kLaA = 0, kLaB = 0, kLaC = 0, kRedSpread = 0, kSplitLoad = 0;      // backward
    static constexpr int kBwdLoadEvery = 0;
};
template <int D>
struct ScheduleDefault : ScheduleKnobs {};
// hdim 256 backward (H100, seqlen 2k/8k, same run; every variant also has the dK product in the REDs'
// basic block, +2.7 % on its own): dO issued after product A +2.7 % more, with RED spread 2 and
// lookahead 1 of product A +3.8 % (a later run: +3.6 % against the plain schedule). hdim 64 and 128
// gained nothing beyond noise from these knobs; hdim 192 and 224, same tile as 256, neither
// (192: -1.5 %, 224: +0.3 %), so they keep the plain schedule.
//
// Forward (H100, seqlen 2k/8k, interleaved A/B in one run each):
// - Q K^T with the K fragments 4 steps ahead (a whole k-step where BlockN is 64): ncu put the hdim-128
//   forward's extra stalls (vs PyTorch's flash) on HMMAs waiting for the ldmatrix just issued before
//   them. hdim 128 +2.3 to +4.2 %, hdim 256 +0 to +4.5 %, hdim 64 -0.2 to +1.8 %; a whole k-step at
//   hdim 256 (8) and P V lookahead (2, 8) gained nothing more. Later: hdim 96 +1.6 to +2.9 %, hdim 160
//   +3.2 to +8.5 % (and its 16-byte spill gone); hdim 192 -1.0 to +0.4 % and 224 -2.0 to +0.1 %, so
//   those two keep load-then-use.
// - K and V tiles issued pass by pass inside the GEMMs: ncu put hdim 256's long-scoreboard stalls
//   (16.5 % of samples vs flash's 2.8 %) on the address arithmetic right after the 16 cp.async of a
//   tile, which waited for the cp.async still holding those registers. One pass every 2 steps: hdim
//   256 +9 to +13 %; every 4 steps: hdim 128 +3.7 to +6.0 % (every 1 or 2: -1 to -3 %), and every 8
//   (half the passes spread, the rest after the last step; 24-byte spill frame instead of 40) another
//   +0.7 to +3.6 %; hdim 64 -2 to +1 % with any spacing, so it keeps whole-tile loads.
// Backward hdim 256: the next step's Q and dO passes inside S^T and dV, one every 2 steps: +1.0 to
// +3.9 % forward+backward (seqlen 2k/16k); with spacings 1, 2 and 4, hdim 128 -2.7 to +1.8 % and hdim
// 64 -1.5 to -3.6 %, so only 256.
template <> struct ScheduleDefault<64> : ScheduleKnobs {
    static constexpr int kLaQK = 4;
};
template <> struct ScheduleDefault<96> : ScheduleKnobs {
    static constexpr int kLaQK = 4;
};
template <> struct ScheduleDefault<128> : ScheduleKnobs {
    static constexpr int kLaQK = 4, kLoadEvery = 8;
};
template <> struct ScheduleDefault<160> : ScheduleKnobs {
    static constexpr int kLaQK = 4;
};
template <> struct ScheduleDefault<256> : ScheduleKnobs {
    static constexpr int kLaQK = 4, kLoadEvery = 2;
    static constexpr int kLaA = 1, kRedSpread = 2, kSplitLoad = 1, kBwdLoadEvery = 2;
};
template <int D>
struct Schedule {
    using Df = ScheduleDefault<D>;
    static constexpr int kLaQK = tuned_or(FA_SM80_LA_FWD_QK, Df::kLaQK);
    static constexpr int kLaPV = tuned_or(FA_SM80_LA_FWD_PV, Df::kLaPV);
    static constexpr int kLoadEvery = tuned_or(FA_SM80_FWD_LOAD_EVERY, Df::kLoadEvery);
    static constexpr int kLaA = tuned_or(FA_SM80_LA_BWD_A, Df::kLaA);
    static constexpr int kLaB = tuned_or(FA_SM80_LA_BWD_B, Df::kLaB);
    static constexpr int kLaC = tuned_or(FA_SM80_LA_BWD_C, Df::kLaC);
    static constexpr int kRedSpread = tuned_or(FA_SM80_BWD_RED_SPREAD, Df::kRedSpread);
    static constexpr int kSplitLoad = tuned_or(FA_SM80_BWD_SPLIT_LOAD, Df::kSplitLoad);
    static constexpr int kBwdLoadEvery = tuned_or(FA_SM80_BWD_LOAD_EVERY, Df::kBwdLoadEvery);
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
