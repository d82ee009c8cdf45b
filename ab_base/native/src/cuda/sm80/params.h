// Kernel arguments: fa_params reduced to what the device code reads, with the softmax scale already
// folded into log2 units. Passed by value as the __grid_constant__-style kernel parameter.
#pragma once
#include <cstdint>

namespace fa::sm80 {

struct TensorRef {
    const void* ptr;
    int64_t batch_stride, row_stride, head_stride;  // elements
};

struct FwdArgs {
    TensorRef q, k, v, out;
    float* lse;
    const int32_t* cu_seqlens_q;
    const int32_t* cu_seqlens_k;
    int batch, seqlen_q, seqlen_k, heads_q, heads_kv, group, head_dim;
    float scale_log2;  // softmax_scale * log2(e)
    int causal;
};

struct BwdArgs {
    TensorRef q, k, v, out, dout, dq, dk, dv;
    const float* lse;
    const int32_t* cu_seqlens_q;
    const int32_t* cu_seqlens_k;
    // Workspace, in the padded layout [batch][heads_q][rows_padded](x dim_padded): the same for varlen
    // and fixed-length calls, so the kernels index it without predicates.
    // dq_accum (NULL in deterministic mode) is [..][rows_padded / 16][dim_padded / 8][128]: bands of 16
    // rows, each a run of 16x8 mma C fragments in lane order (lane 4g+t holds rows g, g+8 and columns
    // 2t, 2t+1 as 4 consecutive floats), so the atomics of a warp cover contiguous 512-byte spans.
    float* dq_accum;
    float* dsum;       // rowsum(dO * O)
    float* lse_log2;   // lse * log2(e); +inf where a row has no key (so P = 0 there) and on padding rows
    int rows_padded;
    int dim_padded;    // the compiled head dim
    int batch, seqlen_q, seqlen_k, heads_q, heads_kv, group, head_dim;
    float scale;
    float scale_log2;
    int causal;
    int accumulate_dq;  // 0: the dK/dV kernel skips dQ (the deterministic dQ kernel computes it)
};

// Where one sequence of the batch lives: start rows for the varlen layout and the actual lengths.
struct SeqSpan {
    int q_start, k_start;  // first row in the packed tensors (0 without varlen)
    int seqlen_q, seqlen_k;
    bool varlen;

    __device__ __forceinline__ int64_t q_offset(int b, const TensorRef& t) const {
        return varlen ? int64_t(q_start) * t.row_stride : int64_t(b) * t.batch_stride;
    }
    __device__ __forceinline__ int64_t k_offset(int b, const TensorRef& t) const {
        return varlen ? int64_t(k_start) * t.row_stride : int64_t(b) * t.batch_stride;
    }
};

__device__ __forceinline__ SeqSpan seq_span(const int32_t* cu_q, const int32_t* cu_k, int b, int seqlen_q,
                                            int seqlen_k) {
    SeqSpan s;
    s.varlen = cu_q != nullptr;
    if (s.varlen) {
        s.q_start = cu_q[b];
        s.seqlen_q = cu_q[b + 1] - s.q_start;
        s.k_start = cu_k[b];
        s.seqlen_k = cu_k[b + 1] - s.k_start;
    } else {
        s.q_start = s.k_start = 0;
        s.seqlen_q = seqlen_q;
        s.seqlen_k = seqlen_k;
    }
    return s;
}

// Index of (batch b, head h, row) in softmax_lse: (batch, heads, seqlen_q), or (heads, total_q) for varlen.
__device__ __forceinline__ int64_t lse_index(const SeqSpan& s, const int32_t* cu_q, int batch, int b, int h,
                                             int heads_q, int seqlen_q, int row) {
    if (s.varlen) return int64_t(h) * cu_q[batch] + s.q_start + row;
    return (int64_t(b) * heads_q + h) * seqlen_q + row;
}

}  // namespace fa::sm80
