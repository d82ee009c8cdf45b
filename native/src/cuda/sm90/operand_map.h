// TMA descriptors of the attention operands as every Hopper kernel loads them: (head_dim, rows, heads,
// batch) with 64-column (16-bit) or 128-column (e4m3) boxes of Cfg's swizzle.
#pragma once
#include "cuda/primitives/sm90/wgmma.cuh"
#include "cuda/sm90/tensor_map.h"
#include "flashattn.h"

#include <cstdint>

namespace fa::sm90 {

// Packed variable-length tensors are one sequence of total rows (batch 1): tiles address a sequence by its
// row offset, and TMA bounds the reads by the whole tensor only.
inline bool packed(const fa_params& p) { return p.cu_seqlens_q != nullptr; }

template <class Cfg>
TensorMapDesc operand_map(const void* ptr, int64_t seqlen, int64_t heads, const fa_params& p, int64_t batch_stride,
                          int64_t row_stride, int64_t head_stride, int box_rows) {
    TensorMapDesc d{};
    d.ptr = ptr;
    d.elem_bytes = Cfg::kElemBytes;
    d.is_bf16 = Cfg::kKind == wgmma::Kind::BF16;
    d.head_dim = p.head_dim;
    d.seqlen = seqlen;
    d.heads = heads;
    d.batch = packed(p) ? 1 : p.batch;
    d.row_stride = row_stride;
    d.head_stride = head_stride;
    d.batch_stride = batch_stride;
    d.box_cols = Cfg::kChunkCols;
    d.box_rows = box_rows;
    d.swizzle_bytes = Cfg::kSwizzleBytes;
    return d;
}

// q, k, v of a call in Cfg's boxes (kBlockM query rows, kBlockN keys); packed batches span their total rows.
template <class Cfg>
void operand_maps(const fa_params& p, TensorMapDesc (&maps)[3]) {
    const int64_t rows_q = packed(p) ? p.total_q : p.seqlen_q, rows_k = packed(p) ? p.total_k : p.seqlen_k;
    maps[0] = operand_map<Cfg>(p.q, rows_q, p.num_heads_q, p, p.q_batch_stride, p.q_row_stride, p.q_head_stride,
                               Cfg::kBlockM);
    maps[1] = operand_map<Cfg>(p.k, rows_k, p.num_heads_kv, p, p.k_batch_stride, p.k_row_stride, p.k_head_stride,
                               Cfg::kBlockN);
    maps[2] = operand_map<Cfg>(p.v, rows_k, p.num_heads_kv, p, p.v_batch_stride, p.v_row_stride, p.v_head_stride,
                               Cfg::kBlockN);
}

}  // namespace fa::sm90
