// Shared-memory carve-up of one CTA: Q (one or two slots), the K and V stages (and, for FP8, the
// transposed V stages), the O staging tiles of the TMA-store epilogue where it fits, then the mbarriers.
// Every tile starts on a 1024-byte boundary, the span of a 128-byte swizzle atom.
#pragma once
#include <cstdint>

namespace fa::sm90 {

// The byte sizes of the regions.
template <class Cfg>
struct SmemSizes {
    static constexpr uint32_t kQBytes = Cfg::kChunks * Cfg::kBlockM * Cfg::kSwizzleBytes;
    static constexpr uint32_t kQChunkBytes = Cfg::kBlockM * Cfg::kSwizzleBytes;
    static constexpr uint32_t kKVChunkBytes = Cfg::kBlockN * Cfg::kSwizzleBytes;
    static constexpr uint32_t kKVStageBytes = Cfg::kChunks * kKVChunkBytes;
    static constexpr uint32_t kVtChunkBytes = Cfg::kHeadDim * Cfg::kVtRowBytes;  // 128 keys of every Vt row
    static constexpr uint32_t kVtStageBytes = Cfg::kTransposeV ? Cfg::kVtChunks * kVtChunkBytes : 0;
    static constexpr uint32_t kOChunkBytes = Cfg::kRowsPerConsumer * 128;  // 64 rows of 64 16-bit columns
    static constexpr uint32_t kOStageBytes = Cfg::kTmaStoreO ? Cfg::kOutChunks * kOChunkBytes : 0;  // per warpgroup
};

// Region offsets for a given number of Q slots. Barrier slots (8 bytes each): q_full[slots],
// q_empty[slots], then per stage k_full, k_empty, v_full, v_empty, then vt_full, vt_empty.
struct SmemOffsets {
    uint32_t q, k, v, vt, o, barriers, num_barriers, sink, bytes;
};

constexpr uint32_t align1k(uint32_t x) { return (x + 1023u) & ~1023u; }

template <class Cfg>
constexpr SmemOffsets smem_offsets(int q_slots) {
    using Z = SmemSizes<Cfg>;
    SmemOffsets r{};
    r.q = 0;
    r.k = align1k(r.q + q_slots * Z::kQBytes);
    r.v = align1k(r.k + Cfg::kStages * Z::kKVStageBytes);
    r.vt = align1k(r.v + Cfg::kStages * Z::kKVStageBytes);
    r.o = align1k(r.vt + Cfg::kVtStages * Z::kVtStageBytes);
    r.barriers = align1k(r.o + Cfg::kConsumerWarpgroups * Z::kOStageBytes);
    r.num_barriers = 2 * q_slots + 4 * Cfg::kStages + 2 * Cfg::kVtStages;
    r.sink = (r.barriers + 8 * r.num_barriers + 15u) & ~15u;  // 16 bytes, see SmemLayout::sink()
    r.bytes = r.sink + 16;
    return r;
}

// The dynamic-smem base is only guaranteed 16-byte aligned: 1024 bytes more to round it up.
template <class Cfg>
constexpr bool smem_fits(int q_slots) {
    return smem_offsets<Cfg>(q_slots).bytes + 1024 <= 227 * 1024;
}

template <class Cfg>
struct SmemLayout : SmemSizes<Cfg> {
    using Z = SmemSizes<Cfg>;
    // Two Q slots where they fit: the next tile's Q loads while this one runs, which lets a tile's last
    // P·V and epilogue overlap the next tile's first Q·K^T (consumer.cuh). Head dims 64 and 128, except
    // the 224-key e4m3 kernel.
    static constexpr int kQSlots = Cfg::kTileOverlap && smem_fits<Cfg>(2) ? 2 : 1;
    static constexpr SmemOffsets kOffsets = smem_offsets<Cfg>(kQSlots);

    static constexpr uint32_t kQ = kOffsets.q;
    static constexpr uint32_t kK = kOffsets.k;
    static constexpr uint32_t kV = kOffsets.v;
    static constexpr uint32_t kVt = kOffsets.vt;
    static constexpr uint32_t kO = kOffsets.o;
    static constexpr uint32_t kBarriers = kOffsets.barriers;

    static constexpr uint32_t kBarQFull = 0;
    static constexpr uint32_t kBarQEmpty = kBarQFull + kQSlots;
    static constexpr uint32_t kBarKFull = kBarQEmpty + kQSlots;
    static constexpr uint32_t kBarKEmpty = kBarKFull + Cfg::kStages;
    static constexpr uint32_t kBarVFull = kBarKEmpty + Cfg::kStages;
    static constexpr uint32_t kBarVEmpty = kBarVFull + Cfg::kStages;
    static constexpr uint32_t kBarVtFull = kBarVEmpty + Cfg::kStages;
    static constexpr uint32_t kBarVtEmpty = kBarVtFull + Cfg::kVtStages;
    static_assert(kBarVtEmpty + Cfg::kVtStages == kOffsets.num_barriers, "barrier slots");

    // 16 bytes that nothing reads: the target of wgmma::retain_operands' never-taken store.
    static constexpr uint32_t kSink = kOffsets.sink;

    static constexpr uint32_t kBytes = kOffsets.bytes;
    static constexpr uint32_t kAllocBytes = kBytes + 1024;
    static_assert(smem_fits<Cfg>(kQSlots), "exceeds the 227 KiB of shared memory a Hopper CTA may use");

    uint32_t base;  // 1024-aligned shared-window address

    __device__ __forceinline__ uint32_t q(int slot) const { return base + kQ + slot * Z::kQBytes; }
    __device__ __forceinline__ uint32_t k(int stage) const { return base + kK + stage * Z::kKVStageBytes; }
    __device__ __forceinline__ uint32_t v(int stage) const { return base + kV + stage * Z::kKVStageBytes; }
    __device__ __forceinline__ uint32_t vt(int stage) const { return base + kVt + stage * Z::kVtStageBytes; }
    __device__ __forceinline__ uint32_t o(int wg) const { return base + kO + wg * Z::kOStageBytes; }
    __device__ __forceinline__ uint32_t bar(uint32_t slot) const { return base + kBarriers + 8 * slot; }
    __device__ __forceinline__ uint32_t sink() const { return base + kSink; }

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
