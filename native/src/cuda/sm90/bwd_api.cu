// Which backward calls the FA3 kernel takes, and running one between the workspace passes it shares with
// the FA2 backward (cuda/sm80/bwd_passes.h).
#include "api/backends.h"
#include "api/status.h"
#include "cuda/sm80/bwd_passes.h"
#include "cuda/sm90/bwd_launch.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fa::sm90 {

namespace {

using wgmma::Kind;

// The kernel head_dim a call runs on: dK and dV of 64 keys live in registers, which holds up to 128 columns.
// Smaller head dims run padded (TMA's zero columns add nothing; their gradients are not stored).
int kernel_head_dim(int head_dim) { return head_dim <= 64 ? 64 : head_dim <= 128 ? 128 : 0; }

template <Kind K>
const char* maps_unsupported(const fa_params& p, char* buf, size_t len) {
    return kernel_head_dim(p.head_dim) == 64 ? bwd_unsupported<K, 64>(p, buf, len) : bwd_unsupported<K, 128>(p, buf, len);
}

// head_dim 128: dQ's columns split between the warpgroups, or each warpgroup's own dQ over all columns.
// H100, bf16, interleaved A/B, four runs of 3-5 repetitions, split against own: +7 to +10% at 1024 keys, +2 to
// +5% at 2048, +6 to +8% at 4096 non-causal (causal -3 to -1%); -1% / -9% at 8192 (non-causal / causal), -2 to
// -7% / -10 to -13% at 16k. A likely reason, not measured: the split's barrier holds the warpgroups in step, so
// that their exponentials coincide, while independent warpgroups drift apart over long walks and overlap them
// with each other's GEMMs. FLASHATTN_SM90_BWD_DQ=split / own forces either.
bool split_dq(const fa_params& p) {
    const char* forced = std::getenv("FLASHATTN_SM90_BWD_DQ");
    if (forced != nullptr && std::strcmp(forced, "split") == 0) return true;
    if (forced != nullptr && std::strcmp(forced, "own") == 0) return false;
    return p.seqlen_q < 8192;
}

template <Kind K>
fa_status main_kernel(const fa_params& p, const sm80::BwdArgs& args, const sm80::LaunchContext& ctx) {
    if (kernel_head_dim(p.head_dim) == 64) return run_bwd<K, 64>(p, args, ctx);
    return split_dq(p) ? run_bwd<K, 128, true>(p, args, ctx) : run_bwd<K, 128, false>(p, args, ctx);
}

}  // namespace

const char* backward_unsupported(const fa_params& p, char* buf, size_t len) {
    if (p.dtype != FA_DTYPE_FLOAT16 && p.dtype != FA_DTYPE_BFLOAT16)
        return "its backward takes FLOAT16 and BFLOAT16 inputs only";
    if (p.out_dtype != p.dtype) return "out_dtype must equal dtype";
    if (p.head_dim < 8 || p.head_dim % 8 != 0 || kernel_head_dim(p.head_dim) == 0) {
        std::snprintf(buf, len, "its backward takes head_dim multiples of 8 up to 128, not %d (CUDA_SM80 runs larger)",
                      p.head_dim);
        return buf;
    }
    if (p.cu_seqlens_q != nullptr && (p.total_q < 1 || p.total_k < 1))
        return "variable-length calls need total_q and total_k (>= 1) in fa_params: they bound the TMA descriptors";
    if (p.deterministic)
        return "its backward adds dQ with atomics, so it is not deterministic (CUDA_SM80 has a deterministic mode)";
    if (p.seqlen_q < 1 || p.seqlen_k < 1 || p.batch < 1 || p.num_heads_kv < 1)
        return "the batch is empty (nothing for TMA to address)";
    // The preprocessing and dQ conversion passes are the FA2 backend's, with its alignment needs.
    if (!sm80_supports(p, true)) {
        std::snprintf(buf, len, "its backward passes share the CUDA_SM80 requirements: %s", last_error());
        clear_error();
        return buf;
    }
    return p.dtype == FA_DTYPE_FLOAT16 ? maps_unsupported<Kind::F16>(p, buf, len) : maps_unsupported<Kind::BF16>(p, buf, len);
}

fa_status run_backward(const fa_params& p) {
    return run_bwd_passes(p, p.dtype == FA_DTYPE_FLOAT16 ? &main_kernel<Kind::F16> : &main_kernel<Kind::BF16>);
}

}  // namespace fa::sm90
