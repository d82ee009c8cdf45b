// Shared-memory carve-up of one CTA: Q, the K and V stages (and, for FP8, the transposed V stages),
// the O staging tiles of the TMA-store epilogue where it fits, then the mbarriers and the tile hand-over.
// Every tile starts on a 1024-byte boundary, the span of a 128-byte swizzle atom.
#pragma once
#include <cstdint>

namespace fa::sm90 {

template <class Cfg>
struct SmemLayout {
    static constexpr uint32_t kQBytes = Cfg::kChunks * Cfg::kBlockM * Cfg::kSwizzleBytes;
    static constexpr uint32_t kQChunkBytes = Cfg::kBlockM * Cfg::kSwizzleBytes;
    static constexpr uint32_t kKVChunkBytes = Cfg::kBlockN * Cfg::kSwizzleBytes;
    static constexpr uint32_t kKVStageBytes = Cfg::kChunks * kKVChunkBytes;
    static constexpr uint32_t kVtChunkBytes = Cfg::kHeadDim * Cfg::kVtRowBytes;  // 128 keys of every Vt row
    static constexpr uint32_t kVtStageBytes = Cfg::kTransposeV ? Cfg::kVtChunks * kVtChunkBytes : 0;
    static constexpr uint32_t kOChunkBytes = Cfg::kRowsPerConsumer * 128;  // 64 rows of 64 16-bit columns
    static constexpr uint32_t kOStageBytes = Cfg::kTmaStoreO ? Cfg::kOutChunks * kOChunkBytes : 0;  // per warpgroup

    static constexpr uint32_t align1k(uint32_t x) { return (x + 1023u) & ~1023u; }

    static constexpr uint32_t kQ = 0;
    static constexpr uint32_t kK = align1k(kQ + kQBytes);
    static constexpr uint32_t kV = align1k(kK + Cfg::kStages * kKVStageBytes);
    static constexpr uint32_t kVt = align1k(kV + Cfg::kStages * kKVStageBytes);
    static constexpr uint32_t kO = align1k(kVt + Cfg::kVtStages * kVtStageBytes);
    static constexpr uint32_t kBarriers = align1k(kO + Cfg::kConsumerWarpgroups * kOStageBytes);

    // Barrier slots (8 bytes each).
    static constexpr uint32_t kBarQFull = 0;
    static constexpr uint32_t kBarQEmpty = 1;
    static constexpr uint32_t kBarKFull = 2;
    static constexpr uint32_t kBarKEmpty = kBarKFull + Cfg::kStages;
    static constexpr uint32_t kBarVFull = kBarKEmpty + Cfg::kStages;
    static constexpr uint32_t kBarVEmpty = kBarVFull + Cfg::kStages;
    static constexpr uint32_t kBarVtFull = kBarVEmpty + Cfg::kStages;
    static constexpr uint32_t kBarVtEmpty = kBarVtFull + Cfg::kVtStages;
    static constexpr uint32_t kNumBarriers = kBarVtEmpty + Cfg::kVtStages;

    // 16 bytes that nothing reads: the target of wgmma::retain_operands' never-taken store.
    static constexpr uint32_t kSink = (kBarriers + 8 * kNumBarriers + 15u) & ~15u;

    // The producer's hand-over of the next tile to the consumers (TileCoord: m_block, bh).
    static constexpr uint32_t kTileSlot = kSink + 16;
    // FP8: one word per V stage, set on the stage after the last V block to stop the transposer warps.
    static constexpr uint32_t kVEndFlags = kTileSlot + 8;

    static constexpr uint32_t kBytes = kVEndFlags + 4 * Cfg::kStages;
    // The dynamic-smem base is only guaranteed 16-byte aligned: room to round it up to 1024.
    static constexpr uint32_t kAllocBytes = kBytes + 1024;
    static_assert(kAllocBytes <= 227 * 1024, "exceeds the 227 KiB of shared memory a Hopper CTA may use");

    uint32_t base;  // 1024-aligned shared-window address

    __device__ __forceinline__ uint32_t q() const { return base + kQ; }
    __device__ __forceinline__ uint32_t k(int stage) const { return base + kK + stage * kKVStageBytes; }
    __device__ __forceinline__ uint32_t v(int stage) const { return base + kV + stage * kKVStageBytes; }
    __device__ __forceinline__ uint32_t vt(int stage) const { return base + kVt + stage * kVtStageBytes; }
    __device__ __forceinline__ uint32_t o(int wg) const { return base + kO + wg * kOStageBytes; }
    __device__ __forceinline__ uint32_t bar(uint32_t slot) const { return base + kBarriers + 8 * slot; }
    __device__ __forceinline__ uint32_t sink() const { return base + kSink; }
    __device__ __forceinline__ uint32_t tile_slot() const { return base + kTileSlot; }
    __device__ __forceinline__ uint32_t v_end_flag(int s) const { return base + kVEndFlags + 4 * s; }

    __device__ __forceinline__ uint32_t q_full() const { return bar(kBarQFull); }
    __device__ __forceinline__ uint32_t q_empty() const { return bar(kBarQEmpty); }
    __device__ __forceinline__ uint32_t k_full(int s) const { return bar(kBarKFull + s); }
    __device__ __forceinline__ uint32_t k_empty(int s) const { return bar(kBarKEmpty + s); }
    __device__ __forceinline__ uint32_t v_full(int s) const { return bar(kBarVFull + s); }
    __device__ __forceinline__ uint32_t v_empty(int s) const { return bar(kBarVEmpty + s); }
    __device__ __forceinline__ uint32_t vt_full(int s) const { return bar(kBarVtFull + s); }
    __device__ __forceinline__ uint32_t vt_empty(int s) const { return bar(kBarVtEmpty + s); }
};

// Position in a ring of kStages slots; the phase bit flips on every wrap. Consumers wait on "full"
// with `phase`; the producer waits on "empty" with `phase ^ 1`, which a fresh barrier satisfies, so
// the first kStages loads go out without waiting.
template <int kStages>
struct PipeState {
    int stage = 0;
    uint32_t phase = 0;
    __device__ __forceinline__ void advance() {
        if (++stage == kStages) {
            stage = 0;
            phase ^= 1u;
        }
    }
};

}  // namespace fa::sm90
