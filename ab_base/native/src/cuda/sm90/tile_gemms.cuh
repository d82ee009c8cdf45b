// The two GEMMs of a consumer warpgroup, as batches of wgmma instructions over the smem tiles:
//   S(64 x N)  = Q(64 x D) · K(N x D)^T    both from shared memory, both K-major (D contiguous)
//   O(64 x D) += P(64 x N) · V(N x D)      P from registers; V from shared memory, read MN-major
//                                           (16-bit) or as the K-major transposed Vt (e4m3)
// Each call only issues; the caller fences, commits and waits.
#pragma once
#include "cuda/primitives/sm90/wgmma.cuh"
#include "cuda/sm90/smem_layout.cuh"

namespace fa::sm90 {

template <class Cfg>
struct TileGemms {
    using Smem = SmemLayout<Cfg>;
    static constexpr int D = Cfg::kHeadDim;
    static constexpr int N = Cfg::kBlockN;
    static constexpr int kSW = Cfg::kSwizzleBytes;
    using OpS = wgmma::Op<Cfg::kKind, N>;
    using OpO = wgmma::Op<Cfg::kKind, D>;
    static constexpr int kNumS = N / 2;
    static constexpr int kNumO = D / 2;
    static constexpr int kNumP = Cfg::kFp8 ? N / 8 : N / 4;  // 32-bit registers holding P

    // K-major tiles: k-step kk covers 32 bytes of every row; 4 (or 2) steps per swizzle chunk, and the
    // start address just moves within the atom (the hardware re-applies the swizzle per address).
    static __device__ __forceinline__ uint32_t kstep_offset(int kk, uint32_t chunk_bytes) {
        return (kk / Cfg::kKStepsPerChunk) * chunk_bytes + (kk % Cfg::kKStepsPerChunk) * 32;
    }

    using KMajorDesc = wgmma::Desc<kSW, 16, 8 * kSW>;

    // q_rows: address of this warpgroup's first Q row in chunk 0.
    static __device__ __forceinline__ void qk(float (&s)[kNumS], uint32_t q_rows, uint32_t k_tile) {
        const KMajorDesc q_desc(q_rows), k_desc(k_tile);
#pragma unroll
        for (int kk = 0; kk < D / Cfg::kMmaK; ++kk) {
            const uint64_t da = q_desc.at(kstep_offset(kk, Smem::kQChunkBytes));
            const uint64_t db = k_desc.at(kstep_offset(kk, Smem::kKVChunkBytes));
            if constexpr (Cfg::kFp8)
                OpS::ss(s, da, db, kk > 0 ? 1u : 0u);
            else
                OpS::template ss<0, 0>(s, da, db, kk > 0 ? 1u : 0u);
        }
    }

    // 16-bit: V(N x D) row-major in chunks of 64 columns is exactly the MN-major B layout: LBO steps
    // between the 64-column chunks, SBO between 8-key row groups; a k-step (16 keys) is 16 rows down.
    // e4m3: Vt(D x N) in chunks of 128 keys, rows of 128 bytes, K-major like K itself.
    static __device__ __forceinline__ void pv(float (&o)[kNumO], const uint32_t (&p)[kNumP], uint32_t v_tile) {
        if constexpr (Cfg::kFp8) {
            const wgmma::Desc<128, 16, 8 * Cfg::kVtRowBytes> vt_desc(v_tile);
            constexpr int kStepsPerChunk = Cfg::kVtRowBytes / 32;
#pragma unroll
            for (int kk = 0; kk < N / Cfg::kMmaK; ++kk) {
                const uint64_t db = vt_desc.at((kk / kStepsPerChunk) * Smem::kVtChunkBytes + (kk % kStepsPerChunk) * 32);
                OpO::rs(o, p[4 * kk], p[4 * kk + 1], p[4 * kk + 2], p[4 * kk + 3], db, 1u);
            }
        } else {
            const wgmma::Desc<kSW, Smem::kKVChunkBytes, 8 * kSW> v_desc(v_tile);
#pragma unroll
            for (int kk = 0; kk < N / Cfg::kMmaK; ++kk)
                OpO::template rs<1>(o, p[4 * kk], p[4 * kk + 1], p[4 * kk + 2], p[4 * kk + 3], v_desc.at(kk * 16 * kSW), 1u);
        }
    }
};

}  // namespace fa::sm90
