// Scalar helpers of the softmax: a fast exp2 and reductions over the 4 lanes that share an mma row.
#pragma once
#include <cstdint>

namespace fa::cuda {

// One MUFU instruction; the softmax folds scale * log2(e) into its argument so exp() becomes exp2().
// ex2(-inf) = +0, which is how masked scores drop out.
__device__ __forceinline__ float exp2_approx(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// The 4 lanes of a quad (lane / 4 equal) hold the columns of the same accumulator rows.
__device__ __forceinline__ float quad_max(float v) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
    return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}

__device__ __forceinline__ float quad_sum(float v) {
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

}  // namespace fa::cuda
