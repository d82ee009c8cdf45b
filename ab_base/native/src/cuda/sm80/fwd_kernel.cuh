// FlashAttention-2 forward: one block per (query tile, head, batch). The block's warps split the
// query rows (16 * kMFrags each) and stream the key/value tiles of their sequence through a cp.async
// pipeline; S = Q K^T and P stay in registers, O accumulates in registers, and only O and the LSE are
// written.
#pragma once
#include <cstdint>

#include "load_schedule.cuh"
#include "mask.cuh"
#include "params.h"
#include "smem_tile.cuh"
#include "softmax.cuh"
#include "traits.h"
#include "warp_gemm.cuh"

namespace fa::sm80 {

template <typename T, int D>
struct FwdShape {
    using Tr = FwdTraits<D>;
    static constexpr int kBlockM = Tr::kBlockM, kBlockN = Tr::kBlockN, kWarps = Tr::kWarps;
    static constexpr int kThreads = kWarps * 32;
    static constexpr int kMFrags = kBlockM / (16 * kWarps);  // 16-row fragments per warp
    static constexpr int kSFrags = kBlockN / 8;               // 8-column fragments of S per row block
    static constexpr int kOFrags = D / 8;                     // 8-column fragments of O
    using QTile = SmemTile<kBlockM, D>;
    using KVTile = SmemTile<kBlockN, D>;
    // Shared memory: Q, then one slot per pipeline stage holding a K tile and a V tile. Every address
    // is the base plus a compile-time offset, plus the slot stride for slot 1.
    static constexpr int kSlotBytes = 2 * KVTile::kBytes;
    static constexpr int smem_bytes(int stages) { return QTile::kBytes + stages * kSlotBytes; }
    static __device__ __forceinline__ uint32_t q_addr(uint32_t base) { return base; }
    static __device__ __forceinline__ uint32_t k_addr(uint32_t base, int slot) {
        return base + uint32_t(QTile::kBytes + slot * kSlotBytes);
    }
    static __device__ __forceinline__ uint32_t v_addr(uint32_t base, int slot) {
        return base + uint32_t(QTile::kBytes + slot * kSlotBytes + KVTile::kBytes);
    }
    static_assert(kMFrags >= 1 && kBlockM == kMFrags * 16 * kWarps, "BlockM must split evenly over warps");
};

// Where the tiles of one block live, and the global pointers of its (batch, head).
template <typename T, int D>
struct FwdBlock {
    using S = FwdShape<T, D>;
    const uint16_t* q;  // first row of this query tile
    const uint16_t* k;  // row 0 of this sequence's kv head
    const uint16_t* v;
    uint16_t* out;      // first row of this query tile
    uint32_t smem;      // shared-window address of the block's shared memory (FwdShape layout)
};

// Ring slot of the tile issued at iteration `it`: tiles alternate between 2 slots, or share 1.
__device__ __forceinline__ int fwd_slot(int it, int stages) { return stages == 2 ? (it & 1) : 0; }

// Key and value tiles are issued separately (V while S = Q K^T is computed, K while P V is), each
// into a ring of `stages` slots: with 2 stages a tile is requested about one iteration before use,
// with 1 (devices short of smem) about half an iteration.
template <typename T, int D, bool kV>
__device__ __forceinline__ void fwd_load_tile(uint32_t smem, const uint16_t* base, int64_t row_stride, int it,
                                              int n_end, int stages, int seqlen_k, int head_dim, int tid) {
    using S = FwdShape<T, D>;
    if (it < n_end) {
        const int n0 = (n_end - 1 - it) * S::kBlockN;
        const int slot = fwd_slot(it, stages);
        load_tile_async<S::kBlockN, D, S::kThreads>(kV ? S::v_addr(smem, slot) : S::k_addr(smem, slot),
                                                     base + n0 * row_stride, row_stride, seqlen_k - n0, head_dim, tid);
    }
    cuda::cp_async_commit();  // also when empty: the wait counts below assume one group per call
}

// The loader of the tile fwd_load_tile would issue at iteration `it`, for issuing pass by pass inside
// a GEMM (Schedule::kLoadEvery); past the last tile its passes issue nothing.
template <typename T, int D>
__device__ __forceinline__ TileLoader<FwdShape<T, D>::kBlockN, D, FwdShape<T, D>::kThreads> fwd_tile_loader(
    uint32_t slot_addr, const uint16_t* base, int64_t row_stride, int it, int n_end, int seqlen_k, int head_dim,
    int tid) {
    using S = FwdShape<T, D>;
    const int n0 = it < n_end ? (n_end - 1 - it) * S::kBlockN : 0;
    return {slot_addr, base + n0 * row_stride, row_stride, seqlen_k - n0, head_dim, tid};
}

// Waits for the oldest group the pipeline needs now: with 2 stages the two newest may stay in flight.
__device__ __forceinline__ void fwd_wait(int stages) {
    if (stages == 2) cuda::cp_async_wait<2>();
    else             cuda::cp_async_wait<0>();
    __syncthreads();
}

// S = Q K^T for one key tile; masked when the tile straddles the causal diagonal or the key tail.
template <typename T, int D, typename Hook = NoHook>
__device__ __forceinline__ void fwd_scores(float (&s)[FwdShape<T, D>::kMFrags][FwdShape<T, D>::kSFrags][4],
                                           const FwdBlock<T, D>& blk, const Mask& mask, int n_block, int slot, int m0,
                                           int warp_row0, int lane, Hook hook = {}) {
    using S = FwdShape<T, D>;
    constexpr int QP = S::QTile::kPitch, KP = S::KVTile::kPitch;
    zero(s);
    gemm_ss<T, S::kMFrags, S::kSFrags, D / 16, QP, false, KP, false, Schedule<D>::kLaQK>(
        s, S::q_addr(blk.smem) + uint32_t(warp_row0 * QP * 2) + lane_offset_a<QP>(lane),
        S::k_addr(blk.smem, slot) + lane_offset_b<KP>(lane), hook);
    const int n0 = n_block * S::kBlockN;
    if (mask.tile_needs_mask(m0, n0 + S::kBlockN)) mask_scores(s, mask, m0 + warp_row0, n0, lane);
}

// O += P V, with P (the softmax'd S) turned into A fragments in registers.
template <typename T, int D, typename Hook = NoHook>
__device__ __forceinline__ void fwd_accumulate_pv(float (&o)[FwdShape<T, D>::kMFrags][D / 8][4],
                                                  const float (&s)[FwdShape<T, D>::kMFrags][FwdShape<T, D>::kSFrags][4],
                                                  const FwdBlock<T, D>& blk, int slot, int lane, Hook hook = {}) {
    using S = FwdShape<T, D>;
    constexpr int KP = S::KVTile::kPitch;
    uint32_t p[S::kMFrags][S::kSFrags / 2][4];
    acc_to_a<T>(p, s);
    gemm_rs<T, S::kMFrags, D / 8, S::kSFrags / 2, KP, true, Schedule<D>::kLaPV>(
        o, p, S::v_addr(blk.smem, slot) + lane_offset_b_trans<KP>(lane), hook);
}

// O (normalized) goes through the warp's own Q rows in smem, then out with 16-byte coalesced stores;
// the LSE is written by the lane of each quad that holds column 0.
template <typename T, int D>
__device__ __forceinline__ void fwd_epilogue(float (&o)[FwdShape<T, D>::kMFrags][D / 8][4],
                                             OnlineSoftmax<FwdShape<T, D>::kMFrags>& softmax,
                                             const FwdBlock<T, D>& blk, const FwdArgs& a, const SeqSpan& seq,
                                             int b, int h, int m0, int warp_row0, int tid) {
    using S = FwdShape<T, D>;
    constexpr int MF = S::kMFrags;
    const int lane = tid & 31;
    float lse[MF][2];
    softmax.finalize(o, a.scale_log2, lse);

    // Only this warp ever read these Q rows: no barrier needed before overwriting them.
    store_acc<T, S::QTile::kPitch>(S::q_addr(blk.smem), o, warp_row0, 0, lane, 1.f);
    __syncthreads();
    store_tile<S::kBlockM, D, S::kThreads>(blk.out, a.out.row_stride, S::q_addr(blk.smem), seq.seqlen_q - m0,
                                           a.head_dim, tid);

    if ((lane & 3) == 0) {
#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int hh = 0; hh < 2; ++hh) {
                const int row = m0 + warp_row0 + mf * 16 + (lane >> 2) + 8 * hh;
                if (row < seq.seqlen_q)
                    a.lse[lse_index(seq, a.cu_seqlens_q, a.batch, b, h, a.heads_q, a.seqlen_q, row)] = lse[mf][hh];
            }
    }
}

template <typename T, int D>
__global__ void __launch_bounds__(FwdShape<T, D>::kThreads, 1) fwd_kernel(const FwdArgs a, const int stages) {
    using S = FwdShape<T, D>;
    constexpr int MF = S::kMFrags;
    extern __shared__ __align__(128) unsigned char smem[];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int b = blockIdx.z, h = blockIdx.y;
    // Causal blocks near the end of the sequence do the most work: start them first.
    const int m_block = a.causal ? int(gridDim.x) - 1 - int(blockIdx.x) : int(blockIdx.x);
    const SeqSpan seq = seq_span(a.cu_seqlens_q, a.cu_seqlens_k, b, a.seqlen_q, a.seqlen_k);
    const int m0 = m_block * S::kBlockM;
    if (m0 >= seq.seqlen_q) return;
    const int kvh = h / a.group;
    const Mask mask{seq.seqlen_q, seq.seqlen_k, a.causal != 0};

    FwdBlock<T, D> blk;
    blk.q = static_cast<const uint16_t*>(a.q.ptr) + seq.q_offset(b, a.q) + h * a.q.head_stride + m0 * a.q.row_stride;
    blk.k = static_cast<const uint16_t*>(a.k.ptr) + seq.k_offset(b, a.k) + kvh * a.k.head_stride;
    blk.v = static_cast<const uint16_t*>(a.v.ptr) + seq.k_offset(b, a.v) + kvh * a.v.head_stride;
    blk.out = static_cast<uint16_t*>(const_cast<void*>(a.out.ptr)) + seq.q_offset(b, a.out) +
              h * a.out.head_stride + m0 * a.out.row_stride;

    // Key tiles [0, n_end): causal rows of this tile see keys up to m0 + BlockM - 1 + seqlen_k - seqlen_q.
    int n_end = ceil_div(seq.seqlen_k, S::kBlockN);
    if (mask.causal) n_end = min(n_end, ceil_div(max(0, m0 + S::kBlockM + seq.seqlen_k - seq.seqlen_q), S::kBlockN));
    if (n_end <= 0) {  // no row of this tile sees a key: out = 0, lse = -inf
        zero_tile<S::kBlockM, D, S::kThreads>(blk.out, a.out.row_stride, seq.seqlen_q - m0, a.head_dim, tid);
        for (int r = tid; r < S::kBlockM && m0 + r < seq.seqlen_q; r += S::kThreads)
            a.lse[lse_index(seq, a.cu_seqlens_q, a.batch, b, h, a.heads_q, a.seqlen_q, m0 + r)] = -INFINITY;
        return;
    }

    blk.smem = cuda::smem_u32(smem);

    // Key tiles run from high to low so that the boundary tiles, the only ones that need masking,
    // come first. Prologue: Q with the first key tile; with 2 stages also the first V and second K.
    load_tile_async<S::kBlockM, D, S::kThreads>(S::q_addr(blk.smem), blk.q, a.q.row_stride, seq.seqlen_q - m0,
                                                 a.head_dim, tid);
    fwd_load_tile<T, D, false>(blk.smem, blk.k, a.k.row_stride, 0, n_end, stages, seq.seqlen_k, a.head_dim, tid);
    if (stages == 2) {
        fwd_load_tile<T, D, true>(blk.smem, blk.v, a.v.row_stride, 0, n_end, stages, seq.seqlen_k, a.head_dim, tid);
        fwd_load_tile<T, D, false>(blk.smem, blk.k, a.k.row_stride, 1, n_end, stages, seq.seqlen_k, a.head_dim, tid);
    }

    float o[MF][D / 8][4];
    zero(o);
    OnlineSoftmax<MF> softmax;
    softmax.init();
    const int warp_row0 = warp * MF * 16;

    constexpr int kEvery = Schedule<D>::kLoadEvery;
    for (int it = 0; it < n_end; ++it) {
        const int n_block = n_end - 1 - it;
        const int slot = fwd_slot(it, stages);
        float s[MF][S::kSFrags][4];
        // K(it) landed; every warp is past P V of the previous tile, so its V slot is free.
        fwd_wait(stages);
        if constexpr (kEvery > 0) {  // V's passes between the Q K^T steps
            const int v_it = it + stages - 1, v_slot = fwd_slot(v_it, stages);
            auto v_load = fwd_tile_loader<T, D>(S::v_addr(blk.smem, v_slot), blk.v, a.v.row_stride, v_it, n_end,
                                                seq.seqlen_k, a.head_dim, tid);
            fwd_scores<T, D>(s, blk, mask, n_block, slot, m0, warp_row0, lane,
                             spread_passes_hook<kEvery>(v_load, v_it < n_end));
            cuda::cp_async_commit();
        } else {
            fwd_load_tile<T, D, true>(blk.smem, blk.v, a.v.row_stride, it + stages - 1, n_end, stages, seq.seqlen_k,
                                      a.head_dim, tid);
            fwd_scores<T, D>(s, blk, mask, n_block, slot, m0, warp_row0, lane);
        }
        // V(it) landed; every warp is past Q K^T of this tile, so its K slot is free.
        fwd_wait(stages);
        if constexpr (kEvery > 0) {  // K's passes between the P V steps
            const int k_it = it + stages, k_slot = fwd_slot(k_it, stages);
            auto k_load = fwd_tile_loader<T, D>(S::k_addr(blk.smem, k_slot), blk.k, a.k.row_stride, k_it, n_end,
                                                seq.seqlen_k, a.head_dim, tid);
            softmax.update(s, o, a.scale_log2);
            fwd_accumulate_pv<T, D>(o, s, blk, slot, lane, spread_passes_hook<kEvery>(k_load, k_it < n_end));
            cuda::cp_async_commit();
        } else {
            fwd_load_tile<T, D, false>(blk.smem, blk.k, a.k.row_stride, it + stages, n_end, stages, seq.seqlen_k,
                                       a.head_dim, tid);
            softmax.update(s, o, a.scale_log2);
            fwd_accumulate_pv<T, D>(o, s, blk, slot, lane);
        }
    }
    cuda::cp_async_wait<0>();  // only empty groups remain, but leave none behind

    fwd_epilogue<T, D>(o, softmax, blk, a, seq, b, h, m0, warp_row0, tid);
}

}  // namespace fa::sm80
