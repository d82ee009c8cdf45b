// Tile shape and budgets of the FA3 backward kernel (bwd_kernel.cuh). A CTA owns kBlockN keys of one
// (batch, KV head); consumer warpgroup w owns the 64 keys from 64 w and keeps their dK and dV in registers
// while it walks every 64-row query block of the KV head's query heads. The producer warp streams Q, dO and
// the rows' LSE and D = rowsum(dO * O) through a ring of kStages stages.
#pragma once
#include "cuda/primitives/sm90/wgmma.cuh"

// Tuning builds: the Q / dO ring depth.
#ifndef FA_SM90_TUNE_BWD_STAGES
#define FA_SM90_TUNE_BWD_STAGES 2
#endif

namespace fa::sm90 {

template <wgmma::Kind K, int kHeadDim_, bool kDqSplit_ = true>
struct BwdConfig {
    static_assert(K != wgmma::Kind::E4M3, "the backward takes 16-bit inputs");
    static constexpr wgmma::Kind kKind = K;
    static constexpr int kHeadDim = kHeadDim_;
    static_assert(kHeadDim == 64 || kHeadDim == 128,
                  "dK and dV of 64 keys (2 x head_dim / 2 registers) must fit beside S and dP");

    static constexpr int kBlockM = 64;           // query rows per step: the N of S^T = K Q^T
    static constexpr int kKeysPerConsumer = 64;  // the M of every wgmma a consumer issues but dQ's
    static constexpr int kConsumerWarpgroups = 2;
    static constexpr int kBlockN = kConsumerWarpgroups * kKeysPerConsumer;
    static constexpr int kThreads = 128 * (1 + kConsumerWarpgroups);
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

    // 384 threads launch with 168 registers each; the producer warpgroup gives its share to the consumers.
    static constexpr int kProducerRegs = 24;
    static constexpr int kConsumerRegs = 240;
    static_assert(128 * kProducerRegs + 128 * kConsumerWarpgroups * kConsumerRegs <= kThreads * (65536 / kThreads / 8 * 8),
                  "register budget");
};

}  // namespace fa::sm90
