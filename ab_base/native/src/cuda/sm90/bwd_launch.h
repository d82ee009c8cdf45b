// The FA3 backward's main kernel, one instantiation per (kind, head_dim) in bwd_<kind>_hdim<d>.cu: it runs
// between the passes of cuda/sm80/bwd_passes.h, which own the workspace.
#pragma once
#include "cuda/primitives/sm90/wgmma.cuh"
#include "cuda/sm80/launch.h"
#include "flashattn.h"

#include <cstddef>

namespace fa::sm90 {

template <wgmma::Kind K, int kHeadDim>
fa_status run_bwd(const fa_params& p, const sm80::BwdArgs& args, const sm80::LaunchContext& ctx);

// Why TMA cannot address p's q, k, v or dout for this kernel (in buf), or nullptr.
template <wgmma::Kind K, int kHeadDim>
const char* bwd_unsupported(const fa_params& p, char* buf, size_t len);

#define FA_SM90_DECLARE_BWD(KIND, HDIM)                                                                  \
    template <>                                                                                          \
    fa_status run_bwd<wgmma::Kind::KIND, HDIM>(const fa_params&, const sm80::BwdArgs&, const sm80::LaunchContext&); \
    template <>                                                                                          \
    const char* bwd_unsupported<wgmma::Kind::KIND, HDIM>(const fa_params&, char*, size_t);
FA_SM90_DECLARE_BWD(BF16, 64)
FA_SM90_DECLARE_BWD(BF16, 128)
FA_SM90_DECLARE_BWD(F16, 64)
FA_SM90_DECLARE_BWD(F16, 128)
#undef FA_SM90_DECLARE_BWD

// bwd_api.cu: why the Hopper backward cannot run p (on a Hopper device), or nullptr; and running it.
const char* backward_unsupported(const fa_params& p, char* buf, size_t len);
fa_status run_backward(const fa_params& p);

}  // namespace fa::sm90
