// Shared-memory carve-up of one CTA: Q (one or two slots), the K and V stages (and, for FP8, the transposed V
// stages), the O staging tiles of the TMA-store epilogue where it fits, then the mbarriers and the tile
// hand-over. Every tile starts on a 1024-byte boundary, the span of a 128-byte swizzle atom.
#pragma once
#include <cstdint>

#include "cuda/primitives/sm90/smem.cuh"
#include "cuda/sm90/config.h"

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

    // Where each part starts for a given number of Q slots, and the bytes to allocate.
    struct Offsets {
        uint32_t q, k, v, vt, o, barriers, num_barriers, sink, tile_slots, v_end_flags, alloc;
    };
    static constexpr Offsets offsets(uint32_t q_slots) {
        Offsets f{};
        f.q = 0;
        f.k = align1k(f.q + q_slots * kQBytes);
        f.v = align1k(f.k + Cfg::kStages * kKVStageBytes);
        f.vt = align1k(f.v + Cfg::kStages * kKVStageBytes);
        f.o = align1k(f.vt + Cfg::kVtStages * kVtStageBytes);
        f.barriers = align1k(f.o + Cfg::kConsumerWarpgroups * kOStageBytes);
        f.num_barriers = 2 * q_slots + 4 * Cfg::kStages + 2 * Cfg::kVtStages;
        // 16 bytes that nothing reads: the target of wgmma::retain_operands' never-taken store.
        f.sink = (f.barriers + 8 * f.num_barriers + 15u) & ~15u;
        // The producer's hand-over of each Q slot's tile to the consumers (TileCoord: m_block, bh).
        f.tile_slots = f.sink + 16;
        // FP8: one word per V stage, set on the stage after the last V block to stop the transposer warps.
        f.v_end_flags = f.tile_slots + 8 * q_slots;
        // The dynamic-smem base is only guaranteed 16-byte aligned: room to round it up to 1024.
        f.alloc = f.v_end_flags + 4 * Cfg::kStages + 1024;
        return f;
    }

    // Q slots: with two, the producer loads the next tile's Q while this one runs instead of after its last
    // Q·K^T. H100, interleaved A/B against one slot (bf16, 512-8192 keys): head_dim 64 +0.3 to +6% (most at
    // 512 keys); 128 -2 to +4%, noise; e4m3 lost (head_dim 64 causal -2 to -6%, 256 -0.4 to -4%). So two
    // for the 16-bit kernels up to head_dim 96, where they fit.
    static constexpr uint32_t kMaxAllocBytes = 227 * 1024;
    static constexpr bool kTwoQSlotsPay = !Cfg::kFp8 && Cfg::kHeadDim <= 96;
    static constexpr int kQSlots =
        offsets(2).alloc > kMaxAllocBytes ? 1 : FA_SM90_TUNE_Q_SLOTS > 0 ? FA_SM90_TUNE_Q_SLOTS : kTwoQSlotsPay ? 2 : 1;
    static constexpr Offsets kOffsets = offsets(kQSlots);

    static constexpr uint32_t kQ = kOffsets.q;
    static constexpr uint32_t kK = kOffsets.k;
    static constexpr uint32_t kV = kOffsets.v;
    static constexpr uint32_t kVt = kOffsets.vt;
    static constexpr uint32_t kO = kOffsets.o;
    static constexpr uint32_t kBarriers = kOffsets.barriers;

    // Barrier slots (8 bytes each).
    static constexpr uint32_t kBarQFull = 0;
    static constexpr uint32_t kBarQEmpty = kBarQFull + kQSlots;
    static constexpr uint32_t kBarKFull = kBarQEmpty + kQSlots;
    static constexpr uint32_t kBarKEmpty = kBarKFull + Cfg::kStages;
    static constexpr uint32_t kBarVFull = kBarKEmpty + Cfg::kStages;
    static constexpr uint32_t kBarVEmpty = kBarVFull + Cfg::kStages;
    static constexpr uint32_t kBarVtFull = kBarVEmpty + Cfg::kStages;
    static constexpr uint32_t kBarVtEmpty = kBarVtFull + Cfg::kVtStages;
    static constexpr uint32_t kNumBarriers = kBarVtEmpty + Cfg::kVtStages;
    static_assert(kNumBarriers == kOffsets.num_barriers, "barrier count");

    static constexpr uint32_t kSink = kOffsets.sink;
    static constexpr uint32_t kTileSlots = kOffsets.tile_slots;
    static constexpr uint32_t kVEndFlags = kOffsets.v_end_flags;
    static constexpr uint32_t kAllocBytes = kOffsets.alloc;
    static_assert(kAllocBytes <= kMaxAllocBytes, "exceeds the 227 KiB of shared memory a Hopper CTA may use");

    uint32_t base;  // 1024-aligned shared-window address

    __device__ __forceinline__ uint32_t q(int slot) const { return base + kQ + slot * kQBytes; }
    __device__ __forceinline__ uint32_t k(int stage) const { return base + kK + stage * kKVStageBytes; }
    __device__ __forceinline__ uint32_t v(int stage) const { return base + kV + stage * kKVStageBytes; }
    __device__ __forceinline__ uint32_t vt(int stage) const { return base + kVt + stage * kVtStageBytes; }
    __device__ __forceinline__ uint32_t o(int wg) const { return base + kO + wg * kOStageBytes; }
    __device__ __forceinline__ uint32_t bar(uint32_t slot) const { return base + kBarriers + 8 * slot; }
    __device__ __forceinline__ uint32_t sink() const { return base + kSink; }
    __device__ __forceinline__ uint32_t tile_slot(int slot) const { return base + kTileSlots + 8 * slot; }
    __device__ __forceinline__ uint32_t v_end_flag(int s) const { return base + kVEndFlags + 4 * s; }

    __device__ __forceinline__ uint32_t q_full(int slot) const { return bar(kBarQFull + slot); }
    __device__ __forceinline__ uint32_t q_empty(int slot) const { return bar(kBarQEmpty + slot); }
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
