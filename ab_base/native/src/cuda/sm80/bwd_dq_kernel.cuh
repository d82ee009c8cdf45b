// Deterministic backward, dQ kernel: one block per (query tile, query head, batch), shaped like the
// forward (warps own query rows). It recomputes S and dP for every key tile and accumulates
// dQ = scale * sum_j dS_j K_j in registers, so dQ is written once, with no atomics and no
// order-dependent sums: the same inputs give bitwise the same dq.
#pragma once
#include <cstdint>

#include "../primitives/math.cuh"
#include "mask.cuh"
#include "params.h"
#include "smem_tile.cuh"
#include "traits.h"
#include "warp_gemm.cuh"

namespace fa::sm80 {

template <typename T, int D>
struct BwdDqShape {
    using Tr = BwdDqTraits<D>;
    static constexpr int kBlockM = Tr::kBlockM, kBlockN = Tr::kBlockN, kWarps = Tr::kWarps;
    static constexpr int kThreads = kWarps * 32;
    static constexpr int kMFrags = kBlockM / (16 * kWarps);
    static constexpr int kSFrags = kBlockN / 8;
    using QTile = SmemTile<kBlockM, D>;   // Q, dO
    using KVTile = SmemTile<kBlockN, D>;  // K, V per stage
    // Shared memory: Q, dO, then one slot per stage with a K and a V tile.
    static constexpr int kSlotBytes = 2 * KVTile::kBytes;
    static constexpr int smem_bytes(int stages) { return 2 * QTile::kBytes + stages * kSlotBytes; }
    static __device__ __forceinline__ uint32_t k_addr(uint32_t base, int slot) {
        return base + uint32_t(2 * QTile::kBytes + slot * kSlotBytes);
    }
    static __device__ __forceinline__ uint32_t v_addr(uint32_t base, int slot) { return k_addr(base, slot) + KVTile::kBytes; }
    static_assert(kBlockM == kMFrags * 16 * kWarps, "BlockM must split evenly over warps");
};

template <typename T, int D>
__global__ void __launch_bounds__(BwdDqShape<T, D>::kThreads, 1) bwd_dq_kernel(const BwdArgs a, const int stages) {
    using S = BwdDqShape<T, D>;
    constexpr int MF = S::kMFrags, NS = S::kSFrags;
    constexpr int QP = S::QTile::kPitch, KP = S::KVTile::kPitch;
    extern __shared__ __align__(128) unsigned char smem[];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int b = blockIdx.z, h = blockIdx.y;
    const int m_block = a.causal ? int(gridDim.x) - 1 - int(blockIdx.x) : int(blockIdx.x);
    const SeqSpan seq = seq_span(a.cu_seqlens_q, a.cu_seqlens_k, b, a.seqlen_q, a.seqlen_k);
    const int m0 = m_block * S::kBlockM;
    if (m0 >= seq.seqlen_q) return;
    const int kvh = h / a.group;
    const Mask mask{seq.seqlen_q, seq.seqlen_k, a.causal != 0};

    const uint16_t* q = static_cast<const uint16_t*>(a.q.ptr) + seq.q_offset(b, a.q) + h * a.q.head_stride +
                        m0 * a.q.row_stride;
    const uint16_t* dout = static_cast<const uint16_t*>(a.dout.ptr) + seq.q_offset(b, a.dout) +
                           h * a.dout.head_stride + m0 * a.dout.row_stride;
    const uint16_t* k = static_cast<const uint16_t*>(a.k.ptr) + seq.k_offset(b, a.k) + kvh * a.k.head_stride;
    const uint16_t* v = static_cast<const uint16_t*>(a.v.ptr) + seq.k_offset(b, a.v) + kvh * a.v.head_stride;
    uint16_t* dq_out = static_cast<uint16_t*>(const_cast<void*>(a.dq.ptr)) + seq.q_offset(b, a.dq) +
                       h * a.dq.head_stride + m0 * a.dq.row_stride;

    int n_end = ceil_div(seq.seqlen_k, S::kBlockN);
    if (mask.causal) n_end = min(n_end, ceil_div(max(0, m0 + S::kBlockM + seq.seqlen_k - seq.seqlen_q), S::kBlockN));
    if (n_end <= 0) {
        zero_tile<S::kBlockM, D, S::kThreads>(dq_out, a.dq.row_stride, seq.seqlen_q - m0, a.head_dim, tid);
        return;
    }

    const uint32_t sQ = cuda::smem_u32(smem);
    const uint32_t sdO = sQ + S::QTile::kBytes;
    auto load_kv = [&](int n_block, int stage) {
        const int n0 = n_block * S::kBlockN;
        load_tile_async<S::kBlockN, D, S::kThreads>(S::k_addr(sQ, stage), k + n0 * a.k.row_stride, a.k.row_stride,
                                                     seq.seqlen_k - n0, a.head_dim, tid);
        load_tile_async<S::kBlockN, D, S::kThreads>(S::v_addr(sQ, stage), v + n0 * a.v.row_stride, a.v.row_stride,
                                                     seq.seqlen_k - n0, a.head_dim, tid);
    };
    load_tile_async<S::kBlockM, D, S::kThreads>(sQ, q, a.q.row_stride, seq.seqlen_q - m0, a.head_dim, tid);
    load_tile_async<S::kBlockM, D, S::kThreads>(sdO, dout, a.dout.row_stride, seq.seqlen_q - m0, a.head_dim, tid);
    load_kv(n_end - 1, 0);
    cuda::cp_async_commit();

    // Per-row LSE (log2 units) and D of this thread's rows, from the padded workspace.
    const int warp_row0 = warp * MF * 16;
    float lse[MF][2], dsum[MF][2];
    {
        const int64_t ws = (int64_t(b) * a.heads_q + h) * a.rows_padded + m0 + warp_row0 + (lane >> 2);
#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int hh = 0; hh < 2; ++hh) {
                lse[mf][hh] = a.lse_log2[ws + mf * 16 + 8 * hh];
                dsum[mf][hh] = a.dsum[ws + mf * 16 + 8 * hh];
            }
    }

    float dq[MF][D / 8][4];
    zero(dq);
    const uint32_t a_lane = uint32_t(warp_row0 * QP * 2) + lane_offset_a<QP>(lane);

    for (int it = 0; it < n_end; ++it) {
        const int n_block = n_end - 1 - it;
        const int stage = stages == 2 ? (it & 1) : 0;
        cuda::cp_async_wait<0>();
        __syncthreads();
        if (stages == 2 && n_block > 0) {
            load_kv(n_block - 1, stage ^ 1);
            cuda::cp_async_commit();
        }
        const uint32_t sK = S::k_addr(sQ, stage), sV = S::v_addr(sQ, stage);

        float s[MF][NS][4];
        zero(s);
        gemm_ss<T, MF, NS, D / 16, QP, false, KP, false>(s, sQ + a_lane, sK + lane_offset_b<KP>(lane));
        const int n0 = n_block * S::kBlockN;
        if (mask.tile_needs_mask(m0, n0 + S::kBlockN)) mask_scores(s, mask, m0 + warp_row0, n0, lane);

        float dp[MF][NS][4];
        zero(dp);
        gemm_ss<T, MF, NS, D / 16, QP, false, KP, false>(dp, sdO + a_lane, sV + lane_offset_b<KP>(lane));

        // dS = P (dP - D), P = exp2(S * scale*log2e - LSE*log2e)
#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int nf = 0; nf < NS; ++nf)
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const float p = cuda::exp2_approx(fmaf(s[mf][nf][e], a.scale_log2, -lse[mf][e >> 1]));
                    s[mf][nf][e] = p * (dp[mf][nf][e] - dsum[mf][e >> 1]);
                }
        uint32_t ds[MF][NS / 2][4];
        acc_to_a<T>(ds, s);
        gemm_rs<T, MF, D / 8, NS / 2, KP, true>(dq, ds, sK + lane_offset_b_trans<KP>(lane));

        if (stages == 1 && n_block > 0) {
            __syncthreads();
            load_kv(n_block - 1, 0);
            cuda::cp_async_commit();
        }
    }

    // This warp's Q rows are read by this warp only: they take dq for the coalesced store.
    store_acc<T, QP>(sQ, dq, warp_row0, 0, lane, a.scale);
    __syncthreads();
    store_tile<S::kBlockM, D, S::kThreads>(dq_out, a.dq.row_stride, sQ, seq.seqlen_q - m0, a.head_dim, tid);
}

}  // namespace fa::sm80
