// Tile shape and budgets of the FA3 backward kernel (bwd_kernel.cuh). A CTA owns kBlockN keys of one
// (batch, KV head); consumer warpgroup w owns the 64 keys from 64 w and keeps their dK and dV in registers
// while it walks every 64-row query block of the KV head's query heads. The producer warp streams Q, dO and
// the rows' LSE and D = rowsum(dO * O) through a ring of kStages stages.
#pragma once
#include "cuda/primitives/sm90/wgmma.cuh"

// Tuning builds: the Q / dO ring depth; the head_dim-64 kernel's query rows per step (64 or 128).
#ifndef FA_SM90_TUNE_BWD_STAGES
#define FA_SM90_TUNE_BWD_STAGES 2
#endif
#ifndef FA_SM90_TUNE_BWD_D64_BLOCK_M
#define FA_SM90_TUNE_BWD_D64_BLOCK_M 64
#endif
// Tuning builds: 1 makes the warpgroups take turns issuing their GEMM batches (without the dQ split), so
// that one's exponentials and dS run while the other's products do.
#ifndef FA_SM90_TUNE_BWD_PINGPONG
#define FA_SM90_TUNE_BWD_PINGPONG 0
#endif
// Tuning builds: 1 leaves a block's dQ product running behind the next block's S^T and dP^T, its RED after.
#ifndef FA_SM90_TUNE_BWD_DEFER_DQ
#define FA_SM90_TUNE_BWD_DEFER_DQ 0
#endif

namespace fa::sm90 {

template <wgmma::Kind K, int kHeadDim_, bool kDqSplit_ = true>
struct BwdConfig {
    static_assert(K != wgmma::Kind::E4M3, "the backward takes 16-bit inputs");
    static constexpr wgmma::Kind kKind = K;
    static constexpr int kHeadDim = kHeadDim_;
    static_assert(kHeadDim == 64 || kHeadDim == 128,
                  "dK and dV of 64 keys (2 x head_dim / 2 registers) must fit beside S and dP");

    // Query rows per step: the N of S^T = K Q^T, and 64 x kRowHalves the rows of dQ = dS K (M = 64 per wgmma).
    static constexpr int kBlockM = kHeadDim == 64 ? FA_SM90_TUNE_BWD_D64_BLOCK_M : 64;
    static constexpr int kRowHalves = kBlockM / 64;
    static_assert(kBlockM == 64 || kBlockM == 128, "64 or 128 query rows per step");
    static constexpr int kKeysPerConsumer = 64;  // the M of every wgmma a consumer issues but dQ's
    static constexpr int kConsumerWarpgroups = 2;
    static constexpr int kBlockN = kConsumerWarpgroups * kKeysPerConsumer;
    static constexpr int kThreads = 128 * (1 + kConsumerWarpgroups);
    static constexpr int kConsumerWarps = 4 * kConsumerWarpgroups;
    static constexpr int kStages = FA_SM90_TUNE_BWD_STAGES;

    // Operand maps as the forward's (operand_map.h): 64-column chunks, 128-byte swizzle.
    static constexpr int kElemBytes = 2;
    static constexpr int kSwizzleBytes = 128;
    static constexpr int kChunkCols = kSwizzleBytes / kElemBytes;
    static constexpr int kChunks = kHeadDim / kChunkCols;
    static constexpr int kMmaK = 16;
    static constexpr int kKStepsPerChunk = kSwizzleBytes / 32;

    // dQ = dS K sums over all kBlockN keys. Split: warpgroup w computes dQ's 64-column chunk w from both
    // warpgroups' dS (a 256-thread barrier per query block): each dQ element gets one RED per CTA and one
    // wgmma batch. Otherwise each warpgroup computes every chunk over its own 64 keys (bwd_api.cu chooses).
    static constexpr bool kDqSplit = kDqSplit_ && kChunks == kConsumerWarpgroups;
    static_assert(!kDqSplit || kRowHalves == 1, "the dQ split reads both warpgroups' dS^T as one operand");
    // Deferred dQ keeps one dQ accumulator alive across the next block's scores: where a warpgroup has one
    // dQ chunk per block.
    static constexpr bool kPingpong = FA_SM90_TUNE_BWD_PINGPONG != 0 && !kDqSplit && kRowHalves == 1;
    static constexpr bool kDeferDq = FA_SM90_TUNE_BWD_DEFER_DQ != 0 && (kDqSplit || kChunks == 1) && kRowHalves == 1;

    // 384 threads launch with 168 registers each; the producer warpgroup gives its share to the consumers.
    static constexpr int kProducerRegs = 24;
    static constexpr int kConsumerRegs = 240;
    static_assert(128 * kProducerRegs + 128 * kConsumerWarpgroups * kConsumerRegs <= kThreads * (65536 / kThreads / 8 * 8),
                  "register budget");
};

}  // namespace fa::sm90
