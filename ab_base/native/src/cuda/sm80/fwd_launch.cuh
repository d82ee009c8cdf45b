// Host launch of the forward kernel for one (dtype, head dim); included by fwd_hdim*.cu only.
#pragma once
#include "fwd_kernel.cuh"
#include "launch.h"

namespace fa::sm80 {

template <typename T, int D>
fa_status launch_fwd(const FwdArgs& args, const LaunchContext& ctx) {
    using S = FwdShape<T, D>;
    // 4-warp tiles are sized for two blocks per SM, 8-warp tiles for one.
    const int stages = choose_stages(S::smem_bytes(1), S::smem_bytes(2), S::kWarps == 4 ? 2 : 1, ctx);
    if (stages == 0)
        return fail(FA_ERR_UNSUPPORTED, "head_dim %d: the sm80 forward needs %d bytes of shared memory per block, "
                    "this device allows %d", args.head_dim, S::smem_bytes(1), ctx.max_smem_per_block);
    const int smem = S::smem_bytes(stages);
    auto kernel = fwd_kernel<T, D>;
    if (fa_status st = allow_smem(kernel, smem, "sm80 forward"); st != FA_OK) return st;
    const dim3 grid(ceil_div(args.seqlen_q, S::kBlockM), args.heads_q, args.batch);
    kernel<<<grid, S::kThreads, smem, ctx.stream>>>(args, stages);
    return check_launch("sm80 forward");
}

}  // namespace fa::sm80
