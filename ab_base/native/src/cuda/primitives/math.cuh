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

// 2^x on the FMA pipe, for the share of the softmax's exponentials that the MUFU unit (16 results per
// clock per SM) would otherwise serialise: x = j + f with j = floor(x), 2^f by a degree-3 polynomial
// (relative error 1.0e-4 on [0, 1), below the rounding of P to bf16/fp16), j added into the exponent
// bits. 2^f matches at f = 0 and f = 1, so the pieces join continuously. x < -127 (masked keys, -inf)
// clamps to -127, where f = 0 and the result is exactly +0.
__device__ __forceinline__ float exp2_poly3(float x) {
    x = fmaxf(x, -127.f);
    const float t = __fadd_rd(x, 12582912.f);  // 1.5 * 2^23: floor(x) lands in the low mantissa bits of t
    const float f = x - (t - 12582912.f);      // [0, 1)
    float p = fmaf(0.0782679648f, f, 0.226307677f);
    p = fmaf(p, f, 0.695424358f);
    p = fmaf(p, f, 1.f);
    // The bits of t are 0x4B400000 + floor(x); shifted by 23 only floor(x) << 23 survives.
    return __int_as_float(__float_as_int(p) + (__float_as_int(t) << 23));
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
