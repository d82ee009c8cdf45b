// Host launch of the head-dim specific backward kernels; included by bwd_hdim*.cu only.
#pragma once
#include "bwd_dq_kernel.cuh"
#include "bwd_kernel.cuh"
#include "launch.h"

namespace fa::sm80 {

template <typename T, int D>
fa_status launch_bwd(const BwdArgs& args, const LaunchContext& ctx) {
    if (args.seqlen_k > 0) {
        using S = BwdShape<T, D>;
        const int stages = choose_stages(S::smem_bytes(1), S::smem_bytes(2), 1, ctx);
        if (stages == 0)
            return fail(FA_ERR_UNSUPPORTED, "head_dim %d: the sm80 backward needs %d bytes of shared memory per "
                        "block, this device allows %d", args.head_dim, S::smem_bytes(1), ctx.max_smem_per_block);
        const int smem = S::smem_bytes(stages);
        auto kernel = bwd_dkdv_kernel<T, D>;
        if (fa_status st = allow_smem(kernel, smem, "sm80 backward dK/dV"); st != FA_OK) return st;
        const dim3 grid(ceil_div(args.seqlen_k, S::kBlockN), args.heads_kv, args.batch);
        kernel<<<grid, S::kThreads, smem, ctx.stream>>>(args, stages);
        if (fa_status st = check_launch("sm80 backward dK/dV"); st != FA_OK) return st;
    }
    if (!args.accumulate_dq) {
        using S = BwdDqShape<T, D>;
        const int stages = choose_stages(S::smem_bytes(1), S::smem_bytes(2), 2, ctx);
        if (stages == 0)
            return fail(FA_ERR_UNSUPPORTED, "head_dim %d: the deterministic sm80 dQ kernel needs %d bytes of shared "
                        "memory per block, this device allows %d", args.head_dim, S::smem_bytes(1),
                        ctx.max_smem_per_block);
        const int smem = S::smem_bytes(stages);
        auto kernel = bwd_dq_kernel<T, D>;
        if (fa_status st = allow_smem(kernel, smem, "sm80 backward dQ"); st != FA_OK) return st;
        const dim3 grid(ceil_div(args.seqlen_q, S::kBlockM), args.heads_q, args.batch);
        kernel<<<grid, S::kThreads, smem, ctx.stream>>>(args, stages);
        if (fa_status st = check_launch("sm80 backward dQ"); st != FA_OK) return st;
    }
    return FA_OK;
}

}  // namespace fa::sm80
