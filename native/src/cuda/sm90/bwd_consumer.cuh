// A consumer warpgroup of the backward: for its 64 keys, every query block the producer hands over goes
//   S^T, dP^T (wgmma) -> P^T = exp2(S^T * scale_log2 - LSE_log2), masked -> dS^T = P^T * (dP^T - D)
//   -> dV += P^T dO, dK += dS^T Q (wgmma, register A) -> dS^T to smem -> dQ chunks = dS K (wgmma) -> RED into
//   the fp32 dQ accumulator,
// and at the end dK (times the softmax scale) and dV go to global memory. The accumulator layout (fragment.cuh)
// puts a thread on key rows r0 and r0 + 8 and, per 8-column block j, query columns 8j + 2 (lane % 4) + {0, 1}.
#pragma once
#include "cuda/primitives/convert.cuh"
#include "cuda/primitives/math.cuh"
#include "cuda/primitives/red.cuh"
#include "cuda/primitives/sm90/mbarrier.cuh"
#include "cuda/primitives/sm90/smem.cuh"
#include "cuda/primitives/sm90/tma.cuh"
#include "cuda/primitives/sm90/warpgroup.cuh"
#include "cuda/primitives/sm90/wgmma.cuh"
#include "cuda/sm90/bwd_args.h"
#include "cuda/sm90/bwd_gemms.cuh"
#include "cuda/sm90/bwd_smem.cuh"
#include "cuda/sm90/fragment.cuh"
#include "cuda/sm90/p_fragment.cuh"
#include "cuda/sm90/smem_layout.cuh"

namespace fa::sm90 {

template <class Cfg, class T>
struct BwdConsumer {
    using Smem = BwdSmem<Cfg>;
    using Gemms = BwdGemms<Cfg>;
    using Frag = PFragment<Cfg::kKind, Gemms::kNumScores>;
    static constexpr int kNumScores = Gemms::kNumScores;
    static constexpr int kNumGrad = Gemms::kNumGrad;
    static constexpr int kNumFrag = Gemms::kNumFrag;
    // Named barriers: dS^T is in smem, the block's (1, both warpgroups) or the warpgroup's (1 + wg).
    static constexpr uint32_t kDsBarrierBase = 1;

    const BwdArgs& args;
    Smem smem;
    int wg, tid;
    FragmentCoords fc;
    PipeState<Cfg::kStages> pipe;
    BwdSeq seq;
    float dv[kNumGrad], dk[kNumGrad];
    float dq_acc[Gemms::kNumDq];

    __device__ __forceinline__ BwdConsumer(const BwdArgs& a, Smem s, int warpgroup, int thread, const BwdSeq& sq)
        : args(a), smem(s), wg(warpgroup), tid(thread), fc(thread), seq(sq) {}

    // The two values of a per-row vector (LSE or D) that column block j of this thread's columns needs.
    __device__ __forceinline__ float2 row_pair(uint32_t vec, int j) const {
        uint32_t a, b;
        ld_shared_v2_u32(vec + 4 * (8 * j + fc.col0), a, b);
        return make_float2(__uint_as_float(a), __uint_as_float(b));
    }

    // P^T in place of S^T. Masked entries (keys after a row's causal limit, keys past seqlen_k) become 0; rows
    // past seqlen_q or without keys have LSE_log2 = +inf, so their P is 0 without a mask.
    template <bool kMasked>
    __device__ __forceinline__ void probabilities(float (&s)[kNumScores], uint32_t lse_vec, int key_r0, int row0) const {
        const int limit_shift = seq.seqlen_k - seq.seqlen_q;
#pragma unroll
        for (int j = 0; j < kNumScores / 4; ++j) {
            const float2 lse = row_pair(lse_vec, j);
#pragma unroll
            for (int e = 4 * j; e < 4 * j + 4; ++e) {
                float p = cuda::exp2_approx(fmaf(s[e], args.scale_log2, -((e & 1) ? lse.y : lse.x)));
                if constexpr (kMasked) {
                    const int key = key_r0 + 8 * FragmentCoords::row_of(e);
                    const int row = row0 + fc.col_of(e);
                    const bool hidden = key >= seq.seqlen_k || (args.causal && key > row + limit_shift);
                    p = hidden ? 0.f : p;
                }
                s[e] = p;
            }
        }
    }

    // dS^T = P^T * (dP^T - D) in place of dP^T.
    __device__ __forceinline__ void score_grads(float (&dp)[kNumScores], const float (&p)[kNumScores],
                                                uint32_t dsum_vec) const {
#pragma unroll
        for (int j = 0; j < kNumScores / 4; ++j) {
            const float2 d = row_pair(dsum_vec, j);
#pragma unroll
            for (int e = 4 * j; e < 4 * j + 4; ++e) dp[e] = p[e] * (dp[e] - ((e & 1) ? d.y : d.x));
        }
    }

    // dS^T (keys x query rows) into the 128-byte-swizzled tile dQ's wgmma reads: frag[2j] is row r0, frag[2j+1]
    // row r0 + 8, of columns 8j + col0 and + 1.
    __device__ __forceinline__ void store_ds(uint32_t tile, const uint32_t (&frag)[kNumFrag]) const {
#pragma unroll
        for (int j = 0; j < kNumFrag / 2; ++j)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const uint32_t off = (fc.row0 + 8 * h) * Cfg::kSwizzleBytes + (8 * j + fc.col0) * 2;
                st_shared_u32(tile + swizzle_offset<Cfg::kSwizzleBytes>(off), frag[2 * j + h]);
            }
    }

    // One dQ chunk's accumulator into the workspace: a warp's 16 rows are one band of the fragment layout,
    // and its 8-column block j one 512-byte fragment, which the 32 lanes cover with a 16-byte RED each.
    __device__ __forceinline__ void add_dq(const float (&acc)[Gemms::kNumDq], float* band, int chunk) const {
#pragma unroll
        for (int j = 0; j < Gemms::kNumDq / 4; ++j) {
            const int frag = chunk * (Cfg::kChunkCols / 8) + j;
            if (frag < args.dq_frags)
                cuda::red_add_f32x4(band + frag * 128 + (tid % 32) * 4, acc[4 * j], acc[4 * j + 1], acc[4 * j + 2],
                                    acc[4 * j + 3]);
        }
    }

    // One query block: everything between the stage's arrival and its release.
    template <bool kMasked>
    __device__ __forceinline__ void block(int s, int buf, uint32_t k_rows, uint32_t v_rows, int key_r0, int row0,
                                          float* dq_band) {
        float st[kNumScores], dpt[kNumScores];
        wgmma::fence();
        Gemms::scores(st, k_rows, smem.q(s));
        wgmma::commit_group();
        Gemms::scores(dpt, v_rows, smem.dout(s));
        wgmma::commit_group();

        wgmma::wait_group<1>();
        wgmma::fence_operands(st);
        probabilities<kMasked>(st, smem.lse_log2(s), key_r0, row0);
        wgmma::wait_group<0>();
        wgmma::fence_operands(dpt);
        score_grads(dpt, st, smem.dsum(s));

        uint32_t p_frag[kNumFrag], ds_frag[kNumFrag];
        Frag::pack(st, p_frag);
        Frag::pack(dpt, ds_frag);
        store_ds(smem.ds(wg, buf), ds_frag);

        wgmma::fence();
        Gemms::grad(dv, p_frag, smem.dout(s));
        Gemms::grad(dk, ds_frag, smem.q(s));
        wgmma::commit_group();

        // Every thread's dS^T must be visible to the async proxy before a warpgroup's wgmma reads it.
        tma::fence_proxy_async_smem();
        if constexpr (Cfg::kDqSplit)
            named_barrier_sync(kDsBarrierBase, Cfg::kConsumerWarpgroups * kWarpgroupThreads);
        else
            named_barrier_sync(kDsBarrierBase + wg, kWarpgroupThreads);
        // The dQ chunks this warpgroup computes: chunk wg over the block's keys (split), or every chunk over
        // its own keys.
        constexpr int kMyChunks = Cfg::kDqSplit ? 1 : Cfg::kChunks;
        constexpr int kKeys = Cfg::kDqSplit ? Cfg::kBlockN : Cfg::kKeysPerConsumer;
        const uint32_t ds_tile = Cfg::kDqSplit ? smem.ds(0, buf) : smem.ds(wg, buf);
        const uint32_t k_keys = Cfg::kDqSplit ? smem.k() : k_rows;
#pragma unroll
        for (int c = 0; c < kMyChunks; ++c) {
            const int chunk = Cfg::kDqSplit ? wg : c;
            Gemms::template dq<kKeys>(dq_acc, ds_tile, k_keys + chunk * Smem::kKChunkBytes);
            wgmma::commit_group();
            wgmma::wait_group<0>();
            wgmma::fence_operands(dq_acc);
            if (c == 0) release(s);  // dV and dK, committed before, have read Q and dO too
            add_dq(dq_acc, dq_band, chunk);
        }
    }

    // The stage's Q, dO, LSE and D are read: the producer may refill it. Every thread arrives: an arrival
    // releases only its own thread's reads of the LSE and D, which the next bulk copy overwrites.
    __device__ __forceinline__ void release(int s) const { mbarrier::arrive(smem.empty(s)); }

    __device__ void run(int n_block, int kv_head, int batch) {
        // Keys (key_r0) and query rows (row0) count from the sequence's first row.
#pragma unroll
        for (int i = 0; i < kNumGrad; ++i) dv[i] = dk[i] = 0.f;
        const int block_key0 = n_block * Cfg::kBlockN;
        const int key_r0 = block_key0 + wg * Cfg::kKeysPerConsumer + fc.row0;  // this thread's first key row
        const uint32_t k_rows = smem.k() + wg * Cfg::kKeysPerConsumer * Cfg::kSwizzleBytes;
        const uint32_t v_rows = smem.v() + wg * Cfg::kKeysPerConsumer * Cfg::kSwizzleBytes;
        const int limit_shift = seq.seqlen_k - seq.seqlen_q;
        mbarrier::wait_warp(smem.kv_full(), 0u);

        const QueryRange r = query_range<Cfg::kBlockM, Cfg::kBlockN>(args, seq, n_block);
        int buf = 0;
        for (int g = 0; g < args.heads_per_kv; ++g) {
            const int head = kv_head * args.heads_per_kv + g;
            // This warp's 16-row band of the first query block, in the dQ accumulator.
            float* dq_head = args.dq_accum + (static_cast<int64_t>(batch) * args.num_heads_q + head) *
                                                 static_cast<int64_t>(args.rows_padded) * (args.dq_frags * 8);
            for (int m = r.begin; m < r.end; ++m) {
                const int row0 = m * Cfg::kBlockM;
                float* dq_band = dq_head + static_cast<int64_t>(row0 / 16 + tid / 32) * (args.dq_frags * 128);
                // Masks only where some key of the CTA's block is past a row's causal limit or past seqlen_k: the
                // same body in both warpgroups, whose shared named barrier (the dQ split) is then one instruction.
                const bool masked = (args.causal && block_key0 + Cfg::kBlockN - 1 > row0 + limit_shift) ||
                                    block_key0 + Cfg::kBlockN > seq.seqlen_k;
                const int s = pipe.stage;
                mbarrier::wait_warp(smem.full(s), pipe.phase);
                if (masked)
                    block<true>(s, buf, k_rows, v_rows, key_r0, row0, dq_band);
                else
                    block<false>(s, buf, k_rows, v_rows, key_r0, row0, dq_band);
                pipe.advance();
                buf ^= 1;
            }
        }
        wgmma::fence_operands(dv);
        wgmma::fence_operands(dk);
        store_grads(kv_head, key_r0);
    }

    // dV and scale * dK, 16-bit pairs per thread; rows past seqlen_k and columns past head_dim stay unwritten.
    __device__ __forceinline__ void store_grads(int kv_head, int key_r0) const {
        T* dv_base = static_cast<T*>(args.dv) + seq.dv_offset + kv_head * args.dv_head_stride;
        T* dk_base = static_cast<T*>(args.dk) + seq.dk_offset + kv_head * args.dk_head_stride;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int key = key_r0 + 8 * h;
            if (key >= seq.seqlen_k) continue;
#pragma unroll
            for (int j = 0; j < kNumGrad / 4; ++j) {
                const int col = 8 * j + fc.col0;
                if (col >= args.head_dim) continue;
                const int e = 4 * j + 2 * h;
                *reinterpret_cast<uint32_t*>(dv_base + key * args.dv_row_stride + col) = cuda::pack2<T>(dv[e], dv[e + 1]);
                *reinterpret_cast<uint32_t*>(dk_base + key * args.dk_row_stride + col) =
                    cuda::pack2<T>(dk[e] * args.scale, dk[e + 1] * args.scale);
            }
        }
    }
};

}  // namespace fa::sm90
