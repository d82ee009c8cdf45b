// What the FA3 forward kernel receives: TMA descriptors of q, k, v (built per call on the host) and the
// plain fields the consumers need. Passed by value as one __grid_constant__ parameter so the tensor
// maps keep a parameter-space address that TMA instructions can name.
#pragma once
#include "cuda/sm90/tensor_map.h"

#include <cstdint>

namespace fa::sm90 {

struct FwdArgs {
    TensorMap tma_q;
    TensorMap tma_k;
    TensorMap tma_v;
    TensorMap tma_o;           // out, when o_tma: 64-column x 64-row boxes, 128-byte swizzle

    void* out;                 // out_dtype (bf16/fp16), (batch, seqlen_q, heads_q, head_dim) strided
    float* lse;                // (batch, heads_q, seqlen_q) contiguous, or null
    int64_t out_batch_stride, out_row_stride, out_head_stride;
    int32_t out_vec16;         // out 16-byte aligned and every stride a multiple of 8 elements (epilogue.cuh)
    int32_t o_tma;             // O leaves through tma_o (Cfg::kTmaStoreO and TMA can address out)

    // Packed variable-length batches: prefix sums (batch + 1) of the sequence lengths, else null; then
    // seqlen_q / seqlen_k are the longest sequence's, and the LSE is (heads_q, total_q).
    const int32_t* cu_seqlens_q;
    const int32_t* cu_seqlens_k;
    int64_t total_q;

    int32_t batch, seqlen_q, seqlen_k, num_heads_q, num_heads_kv;
    int32_t head_dim;          // the caller's: up to Cfg::kHeadDim, columns past it are TMA's zeros
    int32_t heads_per_kv;      // num_heads_q / num_heads_kv
    int32_t causal;
    int32_t num_m_blocks;      // ceil(seqlen_q / kBlockM)
    int32_t units_per_bh;      // scheduler units per (batch, head): num_m_blocks, or ceil(num_m_blocks / 2) paired
    int32_t num_units;         // units_per_bh * num_heads_q * batch
    int32_t pair_tiles;        // a unit is the m-block pair (num_m_blocks - 1 - j, j); see tile_scheduler.cuh
    // The dynamic order (dynamic_order.cuh): {next unit, CTAs done} in device memory, or null for the static
    // order; and how many consecutive (batch, head)s its groups hold.
    int32_t* unit_counter;
    int32_t l2_group_bh;

    float scale_log2;          // softmax_scale (* q_descale * k_descale) * log2(e): exp(x) = exp2(x * log2 e)
    float scale;               // the same in natural units, for the LSE
    float out_scale;           // v_descale for fp8, 1 otherwise: applied with 1/rowsum
};

}  // namespace fa::sm90
