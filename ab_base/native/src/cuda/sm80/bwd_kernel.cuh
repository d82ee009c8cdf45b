// FlashAttention-2 backward, dK/dV kernel: one block per (key tile, kv head, batch). K and V of the
// tile stay in smem; the block walks every query tile of every query head of its GQA group (causal:
// only tiles that see a key of this tile), recomputes P from the forward's LSE, and accumulates dV and
// dK in registers, so they are summed over the group on chip and written once. dQ contributions go to
// the fp32 workspace with atomics, unless the deterministic dQ kernel computes dQ on its own.
//
// Per query tile, three products, each with its own warp grid (traits.h):
//   A: S^T = K Q^T and dP^T = V dO^T (key rows), P^T = exp(S^T*scale - LSE), dS^T = P^T (dP^T - D)
//   B: dV += P^T dO and dK += dS^T Q, with P^T and dS^T exchanged through smem
//   C: dQ += dS K (atomics), issued between dV and dK so the REDs overlap the dK product
#pragma once
#include <cstdint>

#include "../primitives/math.cuh"
#include "../primitives/red.cuh"
#include "load_schedule.cuh"
#include "mask.cuh"
#include "params.h"
#include "smem_tile.cuh"
#include "traits.h"
#include "warp_gemm.cuh"

namespace fa::sm80 {

template <typename T, int D>
struct BwdShape {
    using Tr = BwdTraits<D>;
    static constexpr int kBlockM = Tr::kBlockM, kBlockN = Tr::kBlockN, kWarps = Tr::kWarps;
    static constexpr int kThreads = kWarps * 32;
    // Warp tiles: (fragments of 16 rows) x (fragments of 8 columns) per product.
    static constexpr int kAMF = kBlockN / Tr::kARows / 16, kANF = kBlockM / Tr::kACols / 8;
    static constexpr int kBMF = kBlockN / Tr::kBRows / 16, kBNF = D / Tr::kBCols / 8;
    static constexpr int kCMF = kBlockM / Tr::kCRows / 16, kCNF = D / Tr::kCCols / 8;
    static constexpr int kAPasses = bwd_passes(kTuneBwdAPasses, BwdPassesDefault<D>::kA, kANF);
    static constexpr int kCPasses = bwd_passes(kTuneBwdCPasses, BwdPassesDefault<D>::kC, kCNF);
    using KVTile = SmemTile<kBlockN, D>;     // K, V; reused for dK, dV at the end
    using QTile = SmemTile<kBlockM, D>;      // Q, dO, per stage
    using PTile = SmemTile<kBlockN, kBlockM>;  // P^T, dS^T
    static constexpr int kVecBytes = kBlockM * 4;  // LSE or D of one query tile
    // Shared memory: the fixed tiles K, V, P^T, dS^T, then one slot per pipeline stage with that
    // step's Q, dO, LSE and D. Addresses are the base plus compile-time offsets (plus the slot stride).
    static constexpr int kFixedBytes = 2 * KVTile::kBytes + 2 * PTile::kBytes;
    static constexpr int kSlotBytes = 2 * QTile::kBytes + 2 * kVecBytes;
    static constexpr int smem_bytes(int stages) { return kFixedBytes + stages * kSlotBytes; }
    static __device__ __forceinline__ uint32_t k(uint32_t base) { return base; }
    static __device__ __forceinline__ uint32_t v(uint32_t base) { return base + KVTile::kBytes; }
    static __device__ __forceinline__ uint32_t p(uint32_t base) { return base + 2 * KVTile::kBytes; }
    static __device__ __forceinline__ uint32_t ds(uint32_t base) { return base + 2 * KVTile::kBytes + PTile::kBytes; }
    static __device__ __forceinline__ uint32_t slot(uint32_t base, int stage) {
        return base + uint32_t(kFixedBytes + stage * kSlotBytes);
    }
    static __device__ __forceinline__ uint32_t q(uint32_t slot) { return slot; }
    static __device__ __forceinline__ uint32_t dout(uint32_t slot) { return slot + QTile::kBytes; }
    static __device__ __forceinline__ uint32_t lse(uint32_t slot) { return slot + 2 * QTile::kBytes; }
    static __device__ __forceinline__ uint32_t dsum(uint32_t slot) { return slot + 2 * QTile::kBytes + kVecBytes; }
    static_assert(kAMF * 16 * Tr::kARows == kBlockN && kANF * 8 * Tr::kACols == kBlockM, "warp grid A");
    static_assert(kBMF * 16 * Tr::kBRows == kBlockN && kBNF * 8 * Tr::kBCols == D, "warp grid B");
    static_assert(kCMF * 16 * Tr::kCRows == kBlockM && kCNF * 8 * Tr::kCCols == D, "warp grid C");
    static_assert(kANF % (2 * kAPasses) == 0, "P^T stores pair 8-column fragments in every pass");
    static_assert(kCNF % (2 * kCPasses) == 0 || kCPasses == 1, "dQ passes split the warp's columns evenly");
};

// One step of the walk: which query head and which query tile.
struct BwdStep {
    int head, m_block;
};

// The loader of one step's Q (kDout = false) or dO tile, for issuing whole or pass by pass.
template <typename T, int D, bool kDout>
__device__ __forceinline__ TileLoader<BwdShape<T, D>::kBlockM, D, BwdShape<T, D>::kThreads> bwd_tile_loader(
    const BwdArgs& a, uint32_t smem, const SeqSpan& seq, int b, BwdStep step, int stage, int tid) {
    using S = BwdShape<T, D>;
    const int m0 = step.m_block * S::kBlockM;
    const uint32_t slot = S::slot(smem, stage);
    const TensorRef& t = kDout ? a.dout : a.q;
    const uint16_t* base = static_cast<const uint16_t*>(t.ptr) + seq.q_offset(b, t) + step.head * t.head_stride +
                           m0 * t.row_stride;
    return {kDout ? S::dout(slot) : S::q(slot), base, t.row_stride, seq.seqlen_q - m0, a.head_dim, tid};
}

// The step's LSE and D rows from the workspace (padded past every tile: no predicate).
template <typename T, int D>
__device__ __forceinline__ void bwd_load_lse_dsum(const BwdArgs& a, uint32_t smem, int b, BwdStep step, int stage,
                                                  int tid) {
    using S = BwdShape<T, D>;
    constexpr int kVecChunks = S::kBlockM / 4;
    const uint32_t slot = S::slot(smem, stage);
    const int64_t ws = (int64_t(b) * a.heads_q + step.head) * a.rows_padded + step.m_block * S::kBlockM;
    if (tid < kVecChunks) cuda::cp_async_16(S::lse(slot) + tid * 16, a.lse_log2 + ws + tid * 4, true);
    else if (tid < 2 * kVecChunks)
        cuda::cp_async_16(S::dsum(slot) + (tid - kVecChunks) * 16, a.dsum + ws + (tid - kVecChunks) * 4, true);
}

// Issues the loads of one step: Q and dO tiles, and the tile's LSE and D from the workspace. The Q half
// (with LSE and D) and the dO half can be issued at different points of the previous step
// (Schedule<D>::kSplitLoad), so that one burst of cp.async does not stall every warp at once.
template <typename T, int D, bool kQ, bool kDout>
__device__ __forceinline__ void bwd_load_step_part(const BwdArgs& a, uint32_t smem, const SeqSpan& seq, int b,
                                                   BwdStep step, int stage, int tid) {
    if constexpr (kQ) bwd_tile_loader<T, D, false>(a, smem, seq, b, step, stage, tid).all_passes();
    if constexpr (kDout) bwd_tile_loader<T, D, true>(a, smem, seq, b, step, stage, tid).all_passes();
    if constexpr (kQ) bwd_load_lse_dsum<T, D>(a, smem, b, step, stage, tid);
}

template <typename T, int D>
__device__ __forceinline__ void bwd_load_step(const BwdArgs& a, uint32_t smem, const SeqSpan& seq, int b,
                                              BwdStep step, int stage, int tid) {
    bwd_load_step_part<T, D, true, true>(a, smem, seq, b, step, stage, tid);
}

// Product A: P^T and dS^T of one (key tile, query tile), written to smem for products B and C; in
// kAPasses passes over the warp's query columns.
// `hook` runs between the steps of the S^T product (one pass only).
template <typename T, int D, typename Hook = NoHook>
__device__ __forceinline__ void bwd_probs_and_grads(const BwdArgs& a, uint32_t smem, const Mask& mask, int n0,
                                                    int m0, int stage, int warp, int lane, Hook hook = {}) {
    using S = BwdShape<T, D>;
    static_assert(std::is_same_v<Hook, NoHook> || S::kAPasses == 1, "a hook would run once per pass");
    constexpr int MF = S::kAMF, NF = S::kANF / S::kAPasses;
    constexpr int KP = S::KVTile::kPitch, QP = S::QTile::kPitch, PP = S::PTile::kPitch;
    const int row0 = (warp % S::Tr::kARows) * MF * 16;  // key rows
    const uint32_t slot = S::slot(smem, stage);
    const bool needs_mask = mask.tile_needs_mask(m0, n0 + S::kBlockN);
#pragma unroll
    for (int pass = 0; pass < S::kAPasses; ++pass) {
        const int col0 = (warp / S::Tr::kARows) * S::kANF * 8 + pass * NF * 8;  // query columns
        float s[MF][NF][4];
        zero(s);
        gemm_ss<T, MF, NF, D / 16, KP, false, QP, false, Schedule<D>::kLaA>(
            s, S::k(smem) + uint32_t(row0 * KP * 2) + lane_offset_a<KP>(lane),
            S::q(slot) + uint32_t(col0 * QP * 2) + lane_offset_b<QP>(lane), hook);
        if (needs_mask) mask_scores_transposed(s, mask, n0 + row0, m0 + col0, lane);

        // P = exp2(S * scale*log2e - LSE*log2e); padding rows and rows without keys carry LSE = +inf: P = 0.
        const uint32_t lse = S::lse(slot) + uint32_t((col0 + 2 * (lane & 3)) * 4);
        const uint32_t dsum = S::dsum(slot) + uint32_t((col0 + 2 * (lane & 3)) * 4);
#pragma unroll
        for (int nf = 0; nf < NF; ++nf) {
            const float2 l = cuda::ld_shared_f32x2(lse + nf * 32);
#pragma unroll
            for (int mf = 0; mf < MF; ++mf) {
                s[mf][nf][0] = cuda::exp2_approx(fmaf(s[mf][nf][0], a.scale_log2, -l.x));
                s[mf][nf][1] = cuda::exp2_approx(fmaf(s[mf][nf][1], a.scale_log2, -l.y));
                s[mf][nf][2] = cuda::exp2_approx(fmaf(s[mf][nf][2], a.scale_log2, -l.x));
                s[mf][nf][3] = cuda::exp2_approx(fmaf(s[mf][nf][3], a.scale_log2, -l.y));
            }
        }
        store_acc<T, PP>(S::p(smem), s, row0, col0, lane, 1.f);

        float dp[MF][NF][4];
        zero(dp);
        gemm_ss<T, MF, NF, D / 16, KP, false, QP, false, Schedule<D>::kLaA>(
            dp, S::v(smem) + uint32_t(row0 * KP * 2) + lane_offset_a<KP>(lane),
            S::dout(slot) + uint32_t(col0 * QP * 2) + lane_offset_b<QP>(lane));
#pragma unroll
        for (int nf = 0; nf < NF; ++nf) {
            const float2 d = cuda::ld_shared_f32x2(dsum + nf * 32);
#pragma unroll
            for (int mf = 0; mf < MF; ++mf) {
                dp[mf][nf][0] = s[mf][nf][0] * (dp[mf][nf][0] - d.x);
                dp[mf][nf][1] = s[mf][nf][1] * (dp[mf][nf][1] - d.y);
                dp[mf][nf][2] = s[mf][nf][2] * (dp[mf][nf][2] - d.x);
                dp[mf][nf][3] = s[mf][nf][3] * (dp[mf][nf][3] - d.y);
            }
        }
        store_acc<T, PP>(S::ds(smem), dp, row0, col0, lane, 1.f);
    }
}

// Product B: dV += P^T dO, or (kDK) dK += dS^T Q, over the query tile; `hook` runs between its steps.
template <typename T, int D, bool kDK, typename Hook = NoHook>
__device__ __forceinline__ void bwd_accumulate_dkdv(float (&acc)[BwdShape<T, D>::kBMF][BwdShape<T, D>::kBNF][4],
                                                    uint32_t smem, int stage, int warp, int lane, Hook hook = {}) {
    using S = BwdShape<T, D>;
    constexpr int MF = S::kBMF, NF = S::kBNF;
    constexpr int QP = S::QTile::kPitch, PP = S::PTile::kPitch;
    const int row0 = (warp % S::Tr::kBRows) * MF * 16;  // key rows
    const int col0 = (warp / S::Tr::kBRows) * NF * 8;   // head-dim columns
    const uint32_t slot = S::slot(smem, stage);
    const uint32_t a_off = uint32_t(row0 * PP * 2) + lane_offset_a<PP>(lane);
    const uint32_t b_off = uint32_t(col0 * 2) + lane_offset_b_trans<QP>(lane);
    gemm_ss<T, MF, NF, S::kBlockM / 16, PP, false, QP, true, Schedule<D>::kLaB>(
        acc, (kDK ? S::ds(smem) : S::p(smem)) + a_off, (kDK ? S::q(slot) : S::dout(slot)) + b_off, hook);
}

// Adds a warp's dQ tile (query rows from row0, head-dim columns from col0) to the fp32 workspace.
template <int D, int MF, int NF>
__device__ __forceinline__ void bwd_red_dq(const BwdArgs& a, const float (&dq)[MF][NF][4], int b, int head, int row0,
                                           int col0, int lane) {
    // The workspace is in fragment order (params.h): a C fragment is 512 contiguous bytes with lane l's
    // four values at 16 * l, so each warp RED fills four whole L2 lines instead of touching eight rows.
    // Offsets past this lane's base are compile-time (dim_padded == D). Rows past seqlen_q carry dS = 0
    // and land in the padding rows: no predicate, the REDs issue back to back.
    float* frag = a.dq_accum + ((int64_t(b) * a.heads_q + head) * a.rows_padded + row0) * D + col0 * 16 + lane * 4;
#pragma unroll
    for (int mf = 0; mf < MF; ++mf)
#pragma unroll
        for (int nf = 0; nf < NF; ++nf)
            cuda::red_add_f32x4(frag + mf * 16 * D + nf * 128, dq[mf][nf][0], dq[mf][nf][1], dq[mf][nf][2],
                                dq[mf][nf][3]);
}

// Step hook that issues the MF * NF REDs of a warp's dQ pass between the steps of another product:
// RED r after step r * steps / (MF * NF). `frag` is this lane's address of the pass's first fragment.
template <int D, int MF, int NF>
__device__ __forceinline__ auto bwd_red_dq_hook(const float (&dq)[MF][NF][4], float* frag) {
    return [&dq, frag](auto I, auto N) {
        constexpr int step = decltype(I)::value, steps = decltype(N)::value, R = MF * NF;
        static_for<R>([&](auto J) {
            constexpr int r = decltype(J)::value, mf = r / NF, nf = r % NF;
            if constexpr (r * steps / R == step)
                cuda::red_add_f32x4(frag + mf * 16 * D + nf * 128, dq[mf][nf][0], dq[mf][nf][1], dq[mf][nf][2],
                                    dq[mf][nf][3]);
        });
    };
}

// Product C: dQ(tile) += dS K, added to the fp32 workspace; in kCPasses passes over the warp's
// head-dim columns. Then `tail(hook)` runs the next product (dK), so that dK is in the same basic
// block as the REDs and ptxas can interleave its loads and mma with them (+3-6 % on the whole backward
// against dK after a branch merge). Schedule<D>::kRedSpread places each pass's REDs in the source:
// 0 = right after the pass's product; 1 = the last pass's between the steps of dK; 2 = also every
// earlier pass's between the steps of the next pass. (ptxas still moves REDs, since nothing orders
// them against the shared-memory loads; see sass_stats.py.)
template <typename T, int D, typename Tail>
__device__ __forceinline__ void bwd_accumulate_dq(const BwdArgs& a, uint32_t smem, int b, int head, int m0,
                                                  int warp, int lane, Tail tail) {
    using S = BwdShape<T, D>;
    constexpr int MF = S::kCMF, NF = S::kCNF / S::kCPasses, P = S::kCPasses, kSpread = Schedule<D>::kRedSpread;
    constexpr int KP = S::KVTile::kPitch, PP = S::PTile::kPitch;
    const int row0 = (warp % S::Tr::kCRows) * MF * 16;  // query rows
    auto col0 = [&](int pass) { return (warp / S::Tr::kCRows) * S::kCNF * 8 + pass * NF * 8; };  // head-dim columns
    // This lane's first fragment of pass p in the fragment-order workspace (params.h), as in bwd_red_dq.
    auto frag = [&](int pass) {
        return a.dq_accum + ((int64_t(b) * a.heads_q + head) * a.rows_padded + m0 + row0) * D + col0(pass) * 16 +
               lane * 4;
    };
    float dq[P][MF][NF][4];
    static_for<P>([&](auto PI) {
        constexpr int p = decltype(PI)::value;
        zero(dq[p]);
        const uint32_t a_base = S::ds(smem) + uint32_t(row0 * 2) + lane_offset_a_trans<PP>(lane);
        const uint32_t b_base = S::k(smem) + uint32_t(col0(p) * 2) + lane_offset_b_trans<KP>(lane);
        if constexpr (kSpread >= 2 && p > 0)
            gemm_ss<T, MF, NF, S::kBlockN / 16, PP, true, KP, true, Schedule<D>::kLaC>(
                dq[p], a_base, b_base, bwd_red_dq_hook<D>(dq[p - 1], frag(p - 1)));
        else
            gemm_ss<T, MF, NF, S::kBlockN / 16, PP, true, KP, true, Schedule<D>::kLaC>(dq[p], a_base, b_base);
        if constexpr (kSpread == 0 || (kSpread == 1 && p < P - 1))
            bwd_red_dq<D>(a, dq[p], b, head, m0 + row0, col0(p), lane);
    });
    if constexpr (kSpread == 0) tail(NoHook{});
    else tail(bwd_red_dq_hook<D>(dq[P - 1], frag(P - 1)));
}

template <typename T, int D>
__global__ void __launch_bounds__(BwdShape<T, D>::kThreads, 1) bwd_dkdv_kernel(const BwdArgs a, const int stages) {
    using S = BwdShape<T, D>;
    extern __shared__ __align__(128) unsigned char smem[];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int n_block = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
    const SeqSpan seq = seq_span(a.cu_seqlens_q, a.cu_seqlens_k, b, a.seqlen_q, a.seqlen_k);
    const int n0 = n_block * S::kBlockN;
    if (n0 >= seq.seqlen_k) return;
    const Mask mask{seq.seqlen_q, seq.seqlen_k, a.causal != 0};

    // Query tiles that see a key of this tile: causal row i sees key n0 iff i >= n0 - (seqlen_k - seqlen_q).
    const int m_begin = mask.causal ? max(0, n0 - seq.seqlen_k + seq.seqlen_q) / S::kBlockM : 0;
    const int m_end = ceil_div(seq.seqlen_q, S::kBlockM);
    const int steps = a.group * max(0, m_end - m_begin);
    // dK and dV are addressed only where they are written, so no pointer stays live across the loop.
    auto out_ptr = [&](const TensorRef& t) {
        return static_cast<uint16_t*>(const_cast<void*>(t.ptr)) + seq.k_offset(b, t) + kvh * t.head_stride +
               n0 * t.row_stride;
    };
    if (steps == 0) {
        zero_tile<S::kBlockN, D, S::kThreads>(out_ptr(a.dk), a.dk.row_stride, seq.seqlen_k - n0, a.head_dim, tid);
        zero_tile<S::kBlockN, D, S::kThreads>(out_ptr(a.dv), a.dv.row_stride, seq.seqlen_k - n0, a.head_dim, tid);
        return;
    }
    // The walk: query tiles m_begin..m_end-1 of each head of the group in turn (counters, no division).
    auto next_step = [&](BwdStep s) { return ++s.m_block == m_end ? BwdStep{s.head + 1, m_begin} : s; };
    BwdStep step{kvh * a.group, m_begin};

    const uint32_t sm = cuda::smem_u32(smem);
    const int64_t k_base = seq.k_offset(b, a.k) + kvh * a.k.head_stride + n0 * a.k.row_stride;
    const int64_t v_base = seq.k_offset(b, a.v) + kvh * a.v.head_stride + n0 * a.v.row_stride;
    load_tile_async<S::kBlockN, D, S::kThreads>(S::k(sm), static_cast<const uint16_t*>(a.k.ptr) + k_base, a.k.row_stride,
                                                 seq.seqlen_k - n0, a.head_dim, tid);
    load_tile_async<S::kBlockN, D, S::kThreads>(S::v(sm), static_cast<const uint16_t*>(a.v.ptr) + v_base, a.v.row_stride,
                                                 seq.seqlen_k - n0, a.head_dim, tid);
    bwd_load_step<T, D>(a, sm, seq, b, step, 0, tid);
    cuda::cp_async_commit();

    float dk[S::kBMF][S::kBNF][4], dv[S::kBMF][S::kBNF][4];
    zero(dk);
    zero(dv);

    constexpr int kEvery = Schedule<D>::kBwdLoadEvery;
    for (int i = 0; i < steps; ++i) {
        const BwdStep next = next_step(step);
        const int m0 = step.m_block * S::kBlockM;
        const int stage = stages == 2 ? (i & 1) : 0;
        cuda::cp_async_wait<0>();
        __syncthreads();  // step i landed; every warp left step i-1 (its stage, P^T and dS^T are free)
        const bool prefetch = stages == 2 && i + 1 < steps;
        if constexpr (kEvery > 0) {  // next Q's passes inside S^T, next dO's inside dV
            if (prefetch) bwd_load_lse_dsum<T, D>(a, sm, b, next, stage ^ 1, tid);
            auto q_load = bwd_tile_loader<T, D, false>(a, sm, seq, b, next, stage ^ 1, tid);
            bwd_probs_and_grads<T, D>(a, sm, mask, n0, m0, stage, warp, lane,
                                      spread_passes_hook<kEvery>(q_load, prefetch));
            cuda::cp_async_commit();
            __syncthreads();  // P^T and dS^T complete
            auto dout_load = bwd_tile_loader<T, D, true>(a, sm, seq, b, next, stage ^ 1, tid);
            bwd_accumulate_dkdv<T, D, false>(dv, sm, stage, warp, lane, spread_passes_hook<kEvery>(dout_load, prefetch));
            cuda::cp_async_commit();
        } else {
            if (prefetch) {
                bwd_load_step_part<T, D, true, Schedule<D>::kSplitLoad == 0>(a, sm, seq, b, next, stage ^ 1, tid);
                cuda::cp_async_commit();
            }
            bwd_probs_and_grads<T, D>(a, sm, mask, n0, m0, stage, warp, lane);
            __syncthreads();  // P^T and dS^T complete
            if (Schedule<D>::kSplitLoad == 1 && prefetch) {
                bwd_load_step_part<T, D, false, true>(a, sm, seq, b, next, stage ^ 1, tid);
                cuda::cp_async_commit();
            }
            bwd_accumulate_dkdv<T, D, false>(dv, sm, stage, warp, lane);
        }
        if (kEvery == 0 && Schedule<D>::kSplitLoad == 2 && prefetch) {
            bwd_load_step_part<T, D, false, true>(a, sm, seq, b, next, stage ^ 1, tid);
            cuda::cp_async_commit();
        }
        // dQ before dK: its REDs drain while the tensor cores work on dK.
        if (a.accumulate_dq)
            bwd_accumulate_dq<T, D>(a, sm, b, step.head, m0, warp, lane, [&](auto hook) {
                bwd_accumulate_dkdv<T, D, true>(dk, sm, stage, warp, lane, hook);
            });
        else
            bwd_accumulate_dkdv<T, D, true>(dk, sm, stage, warp, lane);
        if (stages == 1 && i + 1 < steps) {
            __syncthreads();
            bwd_load_step<T, D>(a, sm, seq, b, next, 0, tid);
            cuda::cp_async_commit();
        }
        step = next;
    }

    // dK = scale * dS^T Q (S was unscaled); written through the K/V tiles once every warp is past them.
    __syncthreads();
    const int row0 = (warp % S::Tr::kBRows) * S::kBMF * 16, col0 = (warp / S::Tr::kBRows) * S::kBNF * 8;
    store_acc<T, S::KVTile::kPitch>(S::k(sm), dk, row0, col0, lane, a.scale);
    store_acc<T, S::KVTile::kPitch>(S::v(sm), dv, row0, col0, lane, 1.f);
    __syncthreads();
    store_tile<S::kBlockN, D, S::kThreads>(out_ptr(a.dk), a.dk.row_stride, S::k(sm), seq.seqlen_k - n0, a.head_dim,
                                           tid);
    store_tile<S::kBlockN, D, S::kThreads>(out_ptr(a.dv), a.dv.row_stride, S::v(sm), seq.seqlen_k - n0, a.head_dim,
                                           tid);
}

}  // namespace fa::sm80
