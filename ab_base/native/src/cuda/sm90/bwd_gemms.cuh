// The five GEMMs of a consumer warpgroup per query block, as batches of wgmma over the smem tiles. The
// warpgroup's 64 keys are the M of the first four, so S and dP come out transposed (rows = keys), ready to be
// the register A operand of the two products that sum over query rows:
//   S^T(64 x 64)  = K_w(64 x D) · Q(64 x D)^T      both K-major (D contiguous)
//   dP^T(64 x 64) = V_w(64 x D) · dO(64 x D)^T     both K-major
//   dV_w(64 x D) += P^T(64 x 64) · dO(64 x D)      P^T from registers; dO read MN-major
//   dK_w(64 x D) += dS^T(64 x 64) · Q(64 x D)      dS^T from registers; Q read MN-major
//   dQ(64 x 64c) = dS(64 x keys) · K(keys x D)[:, chunk c]  dS from the smem copy of dS^T (M-major), K MN-major;
//                  keys: the warpgroup's 64, or all kBlockN (Cfg::kDqSplit)
// Each call only issues; the caller fences, commits and waits.
#pragma once
#include "cuda/primitives/sm90/wgmma.cuh"
#include "cuda/sm90/bwd_smem.cuh"

namespace fa::sm90 {

template <class Cfg>
struct BwdGemms {
    using Smem = BwdSmem<Cfg>;
    static constexpr int D = Cfg::kHeadDim;
    static constexpr int kSW = Cfg::kSwizzleBytes;
    using OpScores = wgmma::Op<Cfg::kKind, Cfg::kBlockM>;  // S^T, dP^T: 64 query columns
    using OpGrad = wgmma::Op<Cfg::kKind, D>;               // dV, dK: head_dim columns
    using OpDq = wgmma::Op<Cfg::kKind, Cfg::kChunkCols>;   // dQ, one 64-column chunk at a time
    static constexpr int kNumScores = Cfg::kBlockM / 2;
    static constexpr int kNumGrad = D / 2;
    static constexpr int kNumDq = Cfg::kChunkCols / 2;
    static constexpr int kNumFrag = Cfg::kBlockM / 4;      // 32-bit registers of P^T or dS^T
    static constexpr uint32_t kRowGroupBytes = 8 * kSW;    // 8 rows of one swizzle atom
    static constexpr uint32_t kStep16Rows = 16 * kSW;      // a 16-row k-step of an MN-major operand

    // K-major: k-step kk covers 32 bytes of every row; 4 steps per 128-byte chunk.
    static __device__ __forceinline__ uint32_t kstep_offset(int kk, uint32_t chunk_bytes) {
        return (kk / Cfg::kKStepsPerChunk) * chunk_bytes + (kk % Cfg::kKStepsPerChunk) * 32;
    }

    using KMajorDesc = wgmma::Desc<kSW, 16, kRowGroupBytes>;

    // a_rows: the warpgroup's first key row of K or V (chunk 0); b_tile: the Q or dO stage.
    static __device__ __forceinline__ void scores(float (&acc)[kNumScores], uint32_t a_rows, uint32_t b_tile) {
        const KMajorDesc a_desc(a_rows), b_desc(b_tile);
#pragma unroll
        for (int kk = 0; kk < D / Cfg::kMmaK; ++kk)
            OpScores::template ss<0, 0>(acc, a_desc.at(kstep_offset(kk, Smem::kKChunkBytes)),
                                        b_desc.at(kstep_offset(kk, Smem::kQChunkBytes)), kk > 0 ? 1u : 0u);
    }

    // acc += frag(64 keys x 64 rows) · tile(64 rows x D); the tile row-major in 64-column chunks is the
    // MN-major B layout (LBO between chunks, SBO between 8-row groups), as V is in the forward's P·V.
    static __device__ __forceinline__ void grad(float (&acc)[kNumGrad], const uint32_t (&frag)[kNumFrag],
                                                uint32_t b_tile) {
        const wgmma::Desc<kSW, Smem::kQChunkBytes, kRowGroupBytes> b_desc(b_tile);
#pragma unroll
        for (int kk = 0; kk < Cfg::kBlockM / Cfg::kMmaK; ++kk)
            OpGrad::template rs<1>(acc, frag[4 * kk], frag[4 * kk + 1], frag[4 * kk + 2], frag[4 * kk + 3],
                                   b_desc.at(kk * kStep16Rows), 1u);
    }

    // dQ chunk over kKeys keys: A = dS from ds_tile (dS^T rows of 128 bytes: one swizzle atom of query rows per
    // key, so the M-major layout's only stride is SBO between 8-key groups; the warpgroups' tiles follow each
    // other); B = the first of those keys' rows of K chunk c.
    template <int kKeys>
    static __device__ __forceinline__ void dq(float (&acc)[kNumDq], uint32_t ds_tile, uint32_t k_rows_chunk) {
        const wgmma::Desc<kSW, Smem::kDsBytes, kRowGroupBytes> a_desc(ds_tile);
        const wgmma::Desc<kSW, Smem::kKChunkBytes, kRowGroupBytes> b_desc(k_rows_chunk);
#pragma unroll
        for (int kk = 0; kk < kKeys / Cfg::kMmaK; ++kk)
            OpDq::template ss<1, 1>(acc, a_desc.at(kk * kStep16Rows), b_desc.at(kk * kStep16Rows), kk > 0 ? 1u : 0u);
    }
};

}  // namespace fa::sm90
