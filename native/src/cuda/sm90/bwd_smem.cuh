// Shared-memory carve-up of one backward CTA: K and V of its keys (loaded once), the Q / dO / LSE / D stages,
// two buffers (alternating between query blocks) of dS^T, the A operand of dQ = dS K, each holding the consumer
// warpgroups' tiles back to back (the block's keys in order), and the mbarriers. Tiles start on 1024-byte boundaries, the span of a 128-byte swizzle atom.
#pragma once
#include <cstdint>

#include "cuda/primitives/sm90/smem.cuh"
#include "cuda/sm90/bwd_config.h"

namespace fa::sm90 {

template <class Cfg>
struct BwdSmem {
    static constexpr uint32_t kKChunkBytes = Cfg::kBlockN * Cfg::kSwizzleBytes;  // 64 columns of every key
    static constexpr uint32_t kKBytes = Cfg::kChunks * kKChunkBytes;
    static constexpr uint32_t kQChunkBytes = Cfg::kBlockM * Cfg::kSwizzleBytes;
    static constexpr uint32_t kQBytes = Cfg::kChunks * kQChunkBytes;
    static constexpr uint32_t kRowFloatBytes = Cfg::kBlockM * 4;                 // one float per query row
    static constexpr uint32_t kStageTxBytes = 2 * kQBytes + 2 * kRowFloatBytes;  // what TMA delivers per stage
    static constexpr uint32_t kStageBytes = align1k(kStageTxBytes);
    static constexpr uint32_t kDsBytes = Cfg::kKeysPerConsumer * Cfg::kBlockM * 2;  // 64 keys x 64 rows, 16-bit

    static constexpr uint32_t kK = 0;
    static constexpr uint32_t kV = kK + kKBytes;
    static constexpr uint32_t kStages = kV + kKBytes;
    static constexpr uint32_t kDs = kStages + Cfg::kStages * kStageBytes;
    static constexpr uint32_t kBarriers = kDs + Cfg::kConsumerWarpgroups * 2 * kDsBytes;

    // Barrier slots (8 bytes each): K and V loaded; each stage full / empty.
    static constexpr uint32_t kBarKV = 0;
    static constexpr uint32_t kBarFull = 1;
    static constexpr uint32_t kBarEmpty = kBarFull + Cfg::kStages;
    static constexpr uint32_t kNumBarriers = kBarEmpty + Cfg::kStages;
    // The dynamic-smem base is only guaranteed 16-byte aligned: room to round it up to 1024.
    static constexpr uint32_t kAllocBytes = kBarriers + 8 * kNumBarriers + 1024;
    static_assert(kAllocBytes <= 227 * 1024, "exceeds the 227 KiB of shared memory a Hopper CTA may use");

    uint32_t base;  // 1024-aligned shared-window address

    __device__ __forceinline__ uint32_t k() const { return base + kK; }
    __device__ __forceinline__ uint32_t v() const { return base + kV; }
    __device__ __forceinline__ uint32_t q(int s) const { return base + kStages + s * kStageBytes; }
    __device__ __forceinline__ uint32_t dout(int s) const { return q(s) + kQBytes; }
    __device__ __forceinline__ uint32_t lse_log2(int s) const { return q(s) + 2 * kQBytes; }
    __device__ __forceinline__ uint32_t dsum(int s) const { return lse_log2(s) + kRowFloatBytes; }
    __device__ __forceinline__ uint32_t ds(int wg, int buf) const {
        return base + kDs + (buf * Cfg::kConsumerWarpgroups + wg) * kDsBytes;
    }

    __device__ __forceinline__ uint32_t bar(uint32_t slot) const { return base + kBarriers + 8 * slot; }
    __device__ __forceinline__ uint32_t kv_full() const { return bar(kBarKV); }
    __device__ __forceinline__ uint32_t full(int s) const { return bar(kBarFull + s); }
    __device__ __forceinline__ uint32_t empty(int s) const { return bar(kBarEmpty + s); }
};

}  // namespace fa::sm90
