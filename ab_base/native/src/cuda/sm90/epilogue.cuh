// The FA3 forward's epilogue: O and the LSE from the consumer registers to global memory, through a
// shared-memory tile and a TMA store where the kernel has room for one (Cfg::kTmaStoreO), else straight
// from registers.
#pragma once
#include "cuda/primitives/convert.cuh"
#include "cuda/primitives/st_global.cuh"
#include "cuda/primitives/sm90/smem.cuh"
#include "cuda/primitives/sm90/tma.cuh"
#include "cuda/primitives/sm90/warpgroup.cuh"
#include "cuda/sm90/fragment.cuh"
#include "cuda/sm90/fwd_args.h"
#include "cuda/sm90/tile_scheduler.cuh"

// Tuning builds: -DFA_SM90_TUNE_VEC16_EPILOGUE=0 / 1 turns the 16-byte stores off / on at every head dim.
#ifndef FA_SM90_TUNE_VEC16_EPILOGUE
#define FA_SM90_TUNE_VEC16_EPILOGUE -1
#endif

namespace fa::sm90 {

// 16-byte stores where a row has at least 16 8-column blocks (head_dim >= 128). H100, bf16, against the
// pair stores (interleaved A/B, 2026-11-22): head_dim 128 +4 to +9 % at seqlen 512-1024, head_dim 256
// +9 to +18 %, both within noise to +4 % at 8k; head_dim 64 -0.2 to -4 % (the shuffles cost more than
// the 8 stores they save per row pair). A build that skips the stores measured +21-47 % at seqlen 512:
// the epilogue is what short sequences pay for.
template <int kWords>
__host__ __device__ constexpr bool vec16_epilogue() {
    return FA_SM90_TUNE_VEC16_EPILOGUE >= 0 ? FA_SM90_TUNE_VEC16_EPILOGUE != 0 : kWords >= 16;
}

// A quad's four lanes hold, for one row, words W_lane[k] (k = 0..3: 8-column blocks 4jb + k, each lane
// the column pair 2 * lane of the block). Two butterfly exchanges transpose the 4x4 words so that lane
// q holds all 8 columns of block 4jb + q, 16 contiguous bytes.
__device__ __forceinline__ void quad_transpose(uint32_t (&w)[4], int q) {
    const bool hi = q & 2, odd = q & 1;
#pragma unroll
    for (int s = 0; s < 2; ++s) {  // lanes q and q ^ 2 swap the halves k = 2..3 / 0..1
        const uint32_t got = __shfl_xor_sync(0xffffffffu, hi ? w[s] : w[2 + s], 2);
        if (hi) w[s] = got;
        else    w[2 + s] = got;
    }
#pragma unroll
    for (int t = 0; t < 2; ++t) {  // lanes q and q ^ 1 swap the odd / even words
        const uint32_t got = __shfl_xor_sync(0xffffffffu, odd ? w[2 * t] : w[2 * t + 1], 1);
        if (odd) w[2 * t] = got;
        else     w[2 * t + 1] = got;
    }
}

// The LSE of a thread's row (of the tile's sequence), written by the lane of the quad that holds column 0.
// Layout (batch, heads_q, seqlen_q), or (heads_q, total_q) for packed sequences.
__device__ __forceinline__ void store_lse(const FwdArgs& a, float lse, const FragmentCoords& fc, int row,
                                          const Tile& t) {
#if defined(FA_SM90_TRACE)  // the LSE buffer holds the trace (trace.cuh)
    return;
#endif
    if (a.lse == nullptr || fc.col0 != 0) return;
    const int64_t row0 = a.cu_seqlens_q != nullptr
                             ? static_cast<int64_t>(t.head) * a.total_q + t.q_row0
                             : (static_cast<int64_t>(t.batch) * a.num_heads_q + t.head) * a.seqlen_q;
    a.lse[row0 + row] = lse;
}

// store_output with 16-byte stores: the quad transposes its words so that every thread writes 8 whole
// columns, a quarter of the store instructions of the pair stores, each filling whole 32-byte sectors
// (the pair stores leave every sector half written until the neighbouring store lands).
template <class OutT, int kNumO>
__device__ __forceinline__ void store_output_vec16(const FwdArgs& a, const float (&o)[kNumO],
                                                   const float (&o_factor)[2], const float (&lse)[2],
                                                   const FragmentCoords& fc, const int (&rows)[2], OutT* out_bh,
                                                   const Tile& t) {
    const int q = fc.col0 / 2;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const bool valid = rows[r] < t.seqlen_q;
        OutT* row = out_bh + (valid ? rows[r] : 0) * a.out_row_stride;
#pragma unroll
        for (int jb = 0; jb < kNumO / 16; ++jb) {
            uint32_t w[4];
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                const int e = 4 * (4 * jb + k) + 2 * r;
                w[k] = cuda::pack2<OutT>(o[e] * o_factor[r], o[e + 1] * o_factor[r]);
            }
            quad_transpose(w, q);  // every lane takes part, also for rows past seqlen_q
            const int col = 8 * (4 * jb + q);
            if (valid && col < a.head_dim) cuda::st_global_v4(row + col, w[0], w[1], w[2], w[3]);
        }
        if (valid) store_lse(a, lse[r], fc, rows[r], t);
    }
}

// Writes one consumer warpgroup's 64 rows of O (normalised, converted to out_dtype) and their LSE
// straight from registers. Rows past the sequence's end (TMA padding of the last m-block, or the next packed
// sequence's rows) and columns past head_dim (a head_dim padded up to the kernel's, whose extra columns are
// 0) are skipped. Where vec16_epilogue() and a.out_vec16 (out 16-byte aligned, strides multiples of 8
// elements) hold, with 16-byte stores; otherwise each thread stores 4-byte pairs, a quad covering 16
// contiguous bytes of a row.
template <class OutT, int kNumO>
__device__ __forceinline__ void store_output(const FwdArgs& a, const float (&o)[kNumO], const float (&o_factor)[2],
                                             const float (&lse)[2], const FragmentCoords& fc, const int (&rows)[2],
                                             const Tile& t) {
    OutT* out_bh = static_cast<OutT*>(a.out) + t.tma_batch * a.out_batch_stride + t.q_row0 * a.out_row_stride +
                   t.head * a.out_head_stride;
    if constexpr (vec16_epilogue<kNumO / 4>() && kNumO % 16 == 0) {
        if (a.out_vec16) return store_output_vec16<OutT>(a, o, o_factor, lse, fc, rows, out_bh, t);
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        if (rows[r] >= t.seqlen_q) continue;
        uint32_t* row = reinterpret_cast<uint32_t*>(out_bh + rows[r] * a.out_row_stride);
#pragma unroll
        for (int j = 0; j < kNumO / 4; ++j) {
            const int e = 4 * j + 2 * r;
            if (8 * j < a.head_dim)
                row[(8 * j + fc.col0) / 2] = cuda::pack2<OutT>(o[e] * o_factor[r], o[e + 1] * o_factor[r]);
        }
        store_lse(a, lse[r], fc, rows[r], t);
    }
}

// The TMA-store epilogue of one consumer warpgroup: its 64 rows of O go into its staging tile `o_smem`
// (64-column chunks of 128-byte rows, swizzled as TMA expects), then one thread stores the chunks with
// TMA, which skips the rows past seqlen_q and the columns past head_dim (the unwritten half of the last
// chunk at head_dim 96), and the warpgroup moves on while the copy engine writes.
// Before overwriting the tile the same thread waits until the previous tile's stores have read it. The
// LSE still goes from registers. `barrier` is a named barrier of this warpgroup's 128 threads. Not for packed
// sequences: TMA would write the next sequence's rows.
// H100, against the 16-byte stores at head_dim 128 and the pair stores at 64: +2.5 to +4.8 % at seqlen
// 512-1024, within noise (-4.8 to +3.6 %) from 2k on.
template <class Cfg, class OutT, int kNumO>
__device__ __forceinline__ void store_output_tma(const FwdArgs& a, uint32_t o_smem, uint32_t barrier,
                                                 const float (&o)[kNumO], const float (&o_factor)[2],
                                                 const float (&lse)[2], const FragmentCoords& fc, const int (&rows)[2],
                                                 int row_base, const Tile& t, int tid) {
    static_assert(kNumO / 4 <= Cfg::kOutChunks * 8, "8-column blocks of O");
    if (tid == 0) tma::wait_group_read<0>();
    named_barrier_sync(barrier, kWarpgroupThreads);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const int row = fc.row0 + 8 * r;  // within the warpgroup's 64 rows
#pragma unroll
        for (int j = 0; j < kNumO / 4; ++j) {
            const int e = 4 * j + 2 * r;
            // 16-byte unit j % 8 of the row, XOR-swizzled by the row within its 8-row atom; this lane's pair
            // is the (col0 / 2)-th word of the unit. The 8 rows of a warp instruction hit 8 different units:
            // 32 banks, no conflict.
            const uint32_t addr = o_smem + (j / 8) * (Cfg::kRowsPerConsumer * 128) + row * 128 +
                                  (((j % 8) ^ (row % 8)) * 16) + fc.col0 * 2;
            st_shared_u32(addr, cuda::pack2<OutT>(o[e] * o_factor[r], o[e + 1] * o_factor[r]));
        }
    }
    tma::fence_proxy_async_smem();  // the generic-proxy writes above, before the async-proxy reads of TMA
    named_barrier_sync(barrier, kWarpgroupThreads);
    if (tid == 0) {
#pragma unroll
        for (int c = 0; c < Cfg::kOutChunks; ++c)
            tma::store_4d(&a.tma_o, o_smem + c * (Cfg::kRowsPerConsumer * 128), c * Cfg::kOutChunkCols, row_base,
                          t.head, t.tma_batch);
        tma::commit_group();
    }
#pragma unroll
    for (int r = 0; r < 2; ++r)
        if (rows[r] < t.seqlen_q) store_lse(a, lse[r], fc, rows[r], t);
}

}  // namespace fa::sm90
