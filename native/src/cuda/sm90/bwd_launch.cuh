// Host side of the FA3 backward's main kernel: TMA descriptors, kernel arguments from the passes' workspace,
// grid, launch. Included by the per-(kind, head_dim) instantiation files only.
#pragma once
#include "api/status.h"
#include "cuda/sm90/bwd_config.h"
#include "cuda/sm90/bwd_kernel.cuh"
#include "cuda/sm90/bwd_launch.h"
#include "cuda/sm90/operand_map.h"
#include "cuda/sm90/tensor_map.h"

#include <cuda_runtime_api.h>

namespace fa::sm90 {

// The forward's q, k, v maps (the same boxes: kBlockM query rows, kBlockN keys) and dout as q.
template <class Cfg>
void bwd_operand_maps(const fa_params& p, TensorMapDesc (&maps)[4]) {
    TensorMapDesc qkv[3];
    operand_maps<Cfg>(p, qkv);
    for (int i = 0; i < 3; ++i) maps[i] = qkv[i];
    maps[3] = operand_map<Cfg>(p.dout, packed(p) ? p.total_q : p.seqlen_q, p.num_heads_q, p, p.dout_batch_stride,
                               p.dout_row_stride, p.dout_head_stride, Cfg::kBlockM);
}

constexpr const char* kBwdOperandNames[4] = {"q", "k", "v", "dout"};

template <class Cfg>
const char* bwd_config_unsupported(const fa_params& p, char* buf, size_t len) {
    TensorMapDesc maps[4];
    bwd_operand_maps<Cfg>(p, maps);
    for (int i = 0; i < 4; ++i)
        if (const char* why = tensor_map_unsupported(maps[i], kBwdOperandNames[i], buf, len)) return why;
    return nullptr;
}

template <class Cfg, class T>
fa_status launch_bwd(const fa_params& p, const sm80::BwdArgs& w, const sm80::LaunchContext& ctx) {
    BwdArgs a{};
    TensorMapDesc maps[4];
    bwd_operand_maps<Cfg>(p, maps);
    TensorMap* const dst[4] = {&a.tma_q, &a.tma_k, &a.tma_v, &a.tma_dout};
    for (int i = 0; i < 4; ++i)
        if (fa_status st = encode_tensor_map(dst[i], maps[i], kBwdOperandNames[i]); st != FA_OK) return st;

    a.dk = const_cast<void*>(p.dk);
    a.dv = const_cast<void*>(p.dv);
    a.dk_batch_stride = p.dk_batch_stride;
    a.dk_row_stride = p.dk_row_stride;
    a.dk_head_stride = p.dk_head_stride;
    a.dv_batch_stride = p.dv_batch_stride;
    a.dv_row_stride = p.dv_row_stride;
    a.dv_head_stride = p.dv_head_stride;
    a.lse_log2 = w.lse_log2;
    a.dsum = w.dsum;
    a.dq_accum = w.dq_accum;
    a.rows_padded = w.rows_padded;
    a.dq_frags = w.dim_padded / 8;
    a.cu_seqlens_q = p.cu_seqlens_q;
    a.cu_seqlens_k = p.cu_seqlens_k;
    a.batch = p.batch;
    a.seqlen_q = p.seqlen_q;
    a.seqlen_k = p.seqlen_k;
    a.num_heads_q = p.num_heads_q;
    a.num_heads_kv = p.num_heads_kv;
    a.heads_per_kv = p.num_heads_q / p.num_heads_kv;
    a.head_dim = p.head_dim;
    a.causal = p.causal;
    a.scale_log2 = w.scale_log2;
    a.scale = w.scale;
    if (w.dq_accum == nullptr || a.dq_frags * 8 > Cfg::kHeadDim || a.dq_frags * 8 < p.head_dim)
        return fail(FA_ERR_INTERNAL, "internal error: sm90 backward without a matching dQ accumulator");

    using Smem = BwdSmem<Cfg>;
    auto kernel = bwd_kernel<Cfg, T>;
    if (fa_status st = sm80::allow_smem(kernel, Smem::kAllocBytes, "sm90 backward kernel"); st != FA_OK) return st;
    const dim3 grid((p.seqlen_k + Cfg::kBlockN - 1) / Cfg::kBlockN, p.num_heads_kv, p.batch);
    kernel<<<grid, Cfg::kThreads, Smem::kAllocBytes, ctx.stream>>>(a);
    return sm80::check_launch("sm90 backward kernel");
}

}  // namespace fa::sm90

// One explicit instantiation per (kind, head_dim): the file defines both entry points of bwd_launch.h.
#define FA_SM90_INSTANTIATE_BWD(KIND, HDIM, T)                                                           \
    namespace fa::sm90 {                                                                                 \
    template <>                                                                                          \
    fa_status run_bwd<wgmma::Kind::KIND, HDIM, true>(const fa_params& p, const sm80::BwdArgs& w,         \
                                                     const sm80::LaunchContext& ctx) {                   \
        return launch_bwd<BwdConfig<wgmma::Kind::KIND, HDIM>, T>(p, w, ctx);                             \
    }                                                                                                    \
    template <>                                                                                          \
    const char* bwd_unsupported<wgmma::Kind::KIND, HDIM>(const fa_params& p, char* buf, size_t len) {    \
        return bwd_config_unsupported<BwdConfig<wgmma::Kind::KIND, HDIM>>(p, buf, len);                  \
    }                                                                                                    \
    }

// The variant without the dQ split (same operands, so no support check of its own).
#define FA_SM90_INSTANTIATE_BWD_OWN_DQ(KIND, HDIM, T)                                                    \
    namespace fa::sm90 {                                                                                 \
    template <>                                                                                          \
    fa_status run_bwd<wgmma::Kind::KIND, HDIM, false>(const fa_params& p, const sm80::BwdArgs& w,        \
                                                      const sm80::LaunchContext& ctx) {                  \
        return launch_bwd<BwdConfig<wgmma::Kind::KIND, HDIM, false>, T>(p, w, ctx);                      \
    }                                                                                                    \
    }
