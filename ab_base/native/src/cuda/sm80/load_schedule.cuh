// Where a tile's cp.async passes go: spread between the steps of a product instead of one burst, so
// their address arithmetic does not wait (long scoreboard) for the cp.async still reading the same
// registers, and the copies interleave with the mma instead of queueing behind the ldmatrix traffic.
#pragma once
#include "smem_tile.cuh"
#include "warp_gemm.cuh"

namespace fa::sm80 {

// Step hook (warp_gemm.cuh) issuing the passes of `loader` between the steps of a product: pass p after
// step min(p * kEvery, steps - 1), so every pass is issued by the last step; none where !issue.
template <int kEvery, typename Loader>
__device__ __forceinline__ auto spread_passes_hook(Loader& loader, bool issue) {
    return [&loader, issue](auto I, auto N) {
        constexpr int step = decltype(I)::value, steps = decltype(N)::value;
        static_for<Loader::Plan::kPasses>([&](auto P) {
            constexpr int p = decltype(P)::value;
            if constexpr ((p * kEvery < steps - 1 ? p * kEvery : steps - 1) == step) loader.pass_if(p, issue);
        });
    };
}

}  // namespace fa::sm80
