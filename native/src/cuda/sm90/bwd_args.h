// What the FA3 backward kernel receives: TMA descriptors of q, k, v and dout, the dK / dV outputs, and the
// workspace the passes around it share (cuda/sm80/bwd_passes.h): per padded query row the LSE in log2 units
// and D = rowsum(dO * O), and the fp32 dQ accumulator in mma-fragment order (sm80/params.h).
#pragma once
#include "cuda/sm90/tensor_map.h"

#include <cstdint>

namespace fa::sm90 {

struct BwdArgs {
    TensorMap tma_q;
    TensorMap tma_k;
    TensorMap tma_v;
    TensorMap tma_dout;

    void* dk;                  // dtype, (batch, seqlen_k, heads_kv, head_dim) strided
    void* dv;
    int64_t dk_batch_stride, dk_row_stride, dk_head_stride;
    int64_t dv_batch_stride, dv_row_stride, dv_head_stride;

    const float* lse_log2;     // [batch][heads_q][rows_padded]: +inf on padding rows and rows without keys
    const float* dsum;         // [batch][heads_q][rows_padded]: 0 on padding rows
    float* dq_accum;           // [batch][heads_q][rows_padded / 16][dq_frags][128 floats]
    int32_t rows_padded;
    int32_t dq_frags;          // 8-column fragments per 16-row band: the FA2 compiled head dim / 8

    // Packed variable-length batches: prefix sums (batch + 1) of the sequence lengths, else null; then
    // seqlen_q / seqlen_k are the longest sequence's and the tensor maps span the packed rows (batch 1).
    const int32_t* cu_seqlens_q;
    const int32_t* cu_seqlens_k;

    int32_t batch, seqlen_q, seqlen_k, num_heads_q, num_heads_kv;
    int32_t heads_per_kv;      // num_heads_q / num_heads_kv
    int32_t head_dim;          // the caller's: up to Cfg::kHeadDim, columns past it are TMA's zeros
    int32_t causal;

    float scale_log2;          // softmax_scale * log2(e)
    float scale;               // softmax_scale, applied to dK here (and to dQ by the conversion pass)
};

// Batch b's sequence: its lengths, and where its rows start in the tensors: the TMA row and batch coordinates
// of its first row, and the element offset of its first key row in dk / dv.
struct BwdSeq {
    int seqlen_q, seqlen_k;
    int q_row0, k_row0, tma_batch;
    int64_t dk_offset, dv_offset;
};

__device__ __forceinline__ BwdSeq bwd_seq(const BwdArgs& a, int b) {
    BwdSeq s;
    if (a.cu_seqlens_q != nullptr) {
        s.q_row0 = a.cu_seqlens_q[b];
        s.k_row0 = a.cu_seqlens_k[b];
        s.seqlen_q = a.cu_seqlens_q[b + 1] - s.q_row0;
        s.seqlen_k = a.cu_seqlens_k[b + 1] - s.k_row0;
        s.tma_batch = 0;
        s.dk_offset = static_cast<int64_t>(s.k_row0) * a.dk_row_stride;
        s.dv_offset = static_cast<int64_t>(s.k_row0) * a.dv_row_stride;
    } else {
        s.q_row0 = s.k_row0 = 0;
        s.seqlen_q = a.seqlen_q;
        s.seqlen_k = a.seqlen_k;
        s.tma_batch = b;
        s.dk_offset = b * a.dk_batch_stride;
        s.dv_offset = b * a.dv_batch_stride;
    }
    return s;
}

// The query blocks whose rows see any key of the CTA's block: causal calls (bottom-right aligned) skip the
// blocks wholly above the diagonal.
struct QueryRange {
    int begin, end;
};

template <int kBlockM, int kBlockN>
__device__ __forceinline__ QueryRange query_range(const BwdArgs& a, const BwdSeq& s, int n_block) {
    QueryRange r{0, (s.seqlen_q + kBlockM - 1) / kBlockM};
    if (a.causal) {
        // Row i sees key j when j <= i + seqlen_k - seqlen_q: the block's first key is seen from this row on.
        const int first_row = n_block * kBlockN - (s.seqlen_k - s.seqlen_q);
        if (first_row > 0) r.begin = first_row / kBlockM;
    }
    return r;
}

}  // namespace fa::sm90
