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

}  // namespace fa::sm90
