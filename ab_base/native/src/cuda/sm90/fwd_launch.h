// Entry points of the per-(kind, head_dim) instantiations, each defined in its own .cu file so the
// kernels compile in parallel.
#pragma once
#include "flashattn.h"
#include "cuda/primitives/sm90/wgmma.cuh"

#include <cstddef>

namespace fa::sm90 {

template <wgmma::Kind K, int kHeadDim>
fa_status run_fwd(const fa_params& p);

// nullptr when TMA can address q, k and v with this configuration's boxes, else the reason.
template <wgmma::Kind K, int kHeadDim>
const char* fwd_unsupported(const fa_params& p, char* buf, size_t len);

// Kernels with another tile shape than the default (fwd_<kind>_hdim<d>_n<N>.cu, _m<M>.cu), for the calls
// fwd_api.cu gives them: wider key blocks spread the softmax's per-row steps over more keys, narrower ones
// waste less of a short causal diagonal, and 192-row tiles run three consumer warpgroups. kBlockN = 0 is the
// configuration's default width (config.h).
template <wgmma::Kind K, int kHeadDim, int kBlockM, int kBlockN>
fa_status run_fwd_tile(const fa_params& p);
#define FA_SM90_DECLARE_TILE(KIND, HDIM, BLOCK_M, BLOCK_N) \
    template <>                                           \
    fa_status run_fwd_tile<wgmma::Kind::KIND, HDIM, BLOCK_M, BLOCK_N>(const fa_params& p);
FA_SM90_DECLARE_TILE(BF16, 64, 128, 192)
FA_SM90_DECLARE_TILE(F16, 64, 128, 192)
FA_SM90_DECLARE_TILE(E4M3, 64, 128, 192)
FA_SM90_DECLARE_TILE(E4M3, 128, 128, 224)
FA_SM90_DECLARE_TILE(BF16, 256, 128, 64)
FA_SM90_DECLARE_TILE(F16, 256, 128, 64)
FA_SM90_DECLARE_TILE(BF16, 64, 192, 0)
FA_SM90_DECLARE_TILE(F16, 64, 192, 0)
FA_SM90_DECLARE_TILE(E4M3, 64, 192, 0)
#undef FA_SM90_DECLARE_TILE

// The instantiations that exist (each defined by one fwd_<kind>_hdim<d>.cu).
#define FA_SM90_DECLARE(KIND, HDIM)                                                              \
    template <>                                                                                  \
    fa_status run_fwd<wgmma::Kind::KIND, HDIM>(const fa_params& p);                              \
    template <>                                                                                  \
    const char* fwd_unsupported<wgmma::Kind::KIND, HDIM>(const fa_params& p, char* buf, size_t len);

FA_SM90_DECLARE(BF16, 64)
FA_SM90_DECLARE(BF16, 96)
FA_SM90_DECLARE(BF16, 128)
FA_SM90_DECLARE(BF16, 192)
FA_SM90_DECLARE(BF16, 256)
FA_SM90_DECLARE(F16, 64)
FA_SM90_DECLARE(F16, 96)
FA_SM90_DECLARE(F16, 128)
FA_SM90_DECLARE(F16, 192)
FA_SM90_DECLARE(F16, 256)
FA_SM90_DECLARE(E4M3, 64)
FA_SM90_DECLARE(E4M3, 128)
FA_SM90_DECLARE(E4M3, 256)
#undef FA_SM90_DECLARE

}  // namespace fa::sm90
