// The passes every CUDA backward runs around its main kernel: the workspace (dispatch.cu's layout, caller's
// or stream-ordered), the preprocessing (D = rowsum(dO * O), the LSE in log2 units), and the conversion of
// the fp32 dQ accumulator. The main kernel, sm80's or sm90's, computes dK and dV and adds into dQ.
#pragma once
#include "flashattn.h"
#include "launch.h"
#include "params.h"

namespace fa {

// Launches the main kernel on ctx.stream; `args` holds the workspace pointers and the accumulator layout.
using BwdMainKernel = fa_status (*)(const fa_params& p, const sm80::BwdArgs& args, const sm80::LaunchContext& ctx);

// Runs the whole backward of p, which the caller has checked, with `main` as its main kernel.
fa_status run_bwd_passes(const fa_params& p, BwdMainKernel main);

}  // namespace fa
