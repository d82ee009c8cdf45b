// Online softmax over the key blocks of one tile, in registers. Each thread holds two rows; a row's
// columns are spread over the 4 threads of a quad, so the row max is reduced across the quad every
// block, while the row sum stays a per-thread partial until the end (rescaling commutes with the sum).
#pragma once
#include "cuda/primitives/math.cuh"
#include "cuda/sm90/fragment.cuh"

#include <cmath>

namespace fa::sm90 {

template <int kNumS, int kNumO>
struct OnlineSoftmax {
    float row_max[2];  // running max of the raw scores, -inf while a row has seen no visible key
    float row_sum[2];  // this thread's part of sum exp2((s - max) * scale_log2 + offset)
    float scale_log2;
    float offset_log2;  // P's headroom exponent (fp8), cancels in O / rowsum

    __device__ __forceinline__ OnlineSoftmax(float scale_log2_, float offset_log2_)
        : row_max{-INFINITY, -INFINITY}, row_sum{0.f, 0.f}, scale_log2(scale_log2_), offset_log2(offset_log2_) {}

    // Turns the raw scores s into unnormalised probabilities and returns, per row, the factor by which
    // the O accumulated so far must be multiplied (ignored on the first block, where O is still zero).
    template <bool kFirst>
    __device__ __forceinline__ void update(float (&s)[kNumS], float (&o_scale)[2]) {
        float m[2] = {row_max[0], row_max[1]};
#pragma unroll
        for (int e = 0; e < kNumS; ++e) {
            const int r = FragmentCoords::row_of(e);
            m[r] = fmaxf(m[r], s[e]);
        }
        float bias[2];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            m[r] = cuda::quad_max(m[r]);
            // A row with nothing visible yet keeps max = -inf; use 0 so -inf - max stays -inf, not NaN.
            const float m_safe = m[r] == -INFINITY ? 0.f : m[r];
            o_scale[r] = kFirst ? 1.f : cuda::exp2_approx((row_max[r] - m_safe) * scale_log2);
            row_max[r] = m[r];
            row_sum[r] *= o_scale[r];
            bias[r] = m_safe * scale_log2 - offset_log2;
        }
#pragma unroll
        for (int e = 0; e < kNumS; ++e) {
            const int r = FragmentCoords::row_of(e);
            s[e] = cuda::exp2_approx(fmaf(s[e], scale_log2, -bias[r]));
            row_sum[r] += s[e];
        }
    }

    __device__ __forceinline__ static void rescale(float (&o)[kNumO], const float (&o_scale)[2]) {
#pragma unroll
        for (int e = 0; e < kNumO; ++e) o[e] *= o_scale[FragmentCoords::row_of(e)];
    }

    // Final per-row factor for O (out_scale / rowsum; 0 for rows that saw no key, whose O is 0) and
    // the natural-log LSE (-inf for those rows).
    __device__ __forceinline__ void finalize(float out_scale, float scale, float (&o_factor)[2], float (&lse)[2]) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const float sum = cuda::quad_sum(row_sum[r]);
            const bool empty = !(sum > 0.f);  // also catches NaN
            o_factor[r] = empty ? 0.f : out_scale / sum;
            lse[r] = empty ? -INFINITY
                           : row_max[r] * scale + logf(sum) - offset_log2 * 0.69314718055994530942f;
        }
    }
};

}  // namespace fa::sm90
