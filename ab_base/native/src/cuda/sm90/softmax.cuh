// Online softmax over the key blocks of one tile, in registers. Each thread holds two rows; a row's
// columns are spread over the 4 threads of a quad, so the row max is reduced across the quad every
// block, while the row sum stays a per-thread partial until the end (rescaling commutes with the sum).
//
// Lazy rescaling: the exponent's reference max only moves when some row of the warp has grown by more
// than rescale_log2 (log2 units) past it. Until then P = exp2((s - ref) * scale) may exceed 1, by at
// most 2^rescale_log2, and O and the row sums stay relative to the old reference, so the O rescale
// (D/2 multiplies per thread, the largest per-block cost at head_dim 256) is skipped. The result is
// exact: O / rowsum and the LSE only need O, the sums and the max to share one reference.
#pragma once
#include "cuda/primitives/math.cuh"
#include "cuda/sm90/fragment.cuh"

#include <cmath>

namespace fa::sm90 {

// Per-head-dim choices (config.h): kLazy rescales lazily (above); kPolyEvery > 0 computes every
// kPolyEvery-th exponential on the FMA pipe (cuda::exp2_poly3) instead of the MUFU unit, whose 16 results
// per clock per SM bound the softmax where the GEMMs are short; kMaxChains splits each row's max into
// that many interleaved partial maxima, shortening the chain of dependent max instructions that sits in
// front of every exponential.
template <int kNumS, int kNumO, bool kLazy, int kPolyEvery, int kMaxChains>
struct OnlineSoftmax {
    float row_max[2];  // running max of the raw scores, -inf while a row has seen no visible key
    float row_sum[2];  // this thread's part of sum exp2((s - max) * scale_log2 + offset)
    float scale_log2;
    float offset_log2;   // P's headroom exponent (fp8), cancels in O / rowsum
    float rescale_log2;  // how far a row max may outgrow the reference before O is rescaled

    __device__ __forceinline__ OnlineSoftmax(float scale_log2_, float offset_log2_, float rescale_log2_)
        : row_max{-INFINITY, -INFINITY}, row_sum{0.f, 0.f}, scale_log2(scale_log2_), offset_log2(offset_log2_),
          rescale_log2(rescale_log2_) {}

    // Turns the raw scores s into unnormalised probabilities. Returns whether the reference max moved
    // (the same answer in the whole warp); then o_scale holds, per row, the factor by which the O
    // accumulated so far must be multiplied. The first block always sets the reference (O is still zero).
    template <bool kFirst>
    __device__ __forceinline__ bool update(float (&s)[kNumS], float (&o_scale)[2]) {
        float part[2][kMaxChains];
#pragma unroll
        for (int r = 0; r < 2; ++r)
#pragma unroll
            for (int c = 0; c < kMaxChains; ++c) part[r][c] = row_max[r];
#pragma unroll
        for (int e = 0; e < kNumS; ++e) {
            const int r = FragmentCoords::row_of(e), c = (e >> 2) % kMaxChains;
            part[r][c] = fmaxf(part[r][c], s[e]);
        }
        float m[2];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            m[r] = part[r][0];
#pragma unroll
            for (int c = 1; c < kMaxChains; ++c) m[r] = fmaxf(m[r], part[r][c]);
        }
        bool grew = false;
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            m[r] = cuda::quad_max(m[r]);
            // -inf reference and a finite max: +inf, grew. Both -inf (nothing visible yet): NaN, not grown.
            grew |= (m[r] - row_max[r]) * scale_log2 > rescale_log2;
        }
        const bool moved = kFirst || !kLazy || __any_sync(0xffffffffu, grew);
        float bias[2];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            if (moved) {
                // A row with nothing visible yet keeps max = -inf; use 0 so -inf - max stays -inf, not NaN.
                const float m_safe = m[r] == -INFINITY ? 0.f : m[r];
                o_scale[r] = kFirst ? 1.f : cuda::exp2_approx((row_max[r] - m_safe) * scale_log2);
                row_max[r] = m[r];
                row_sum[r] *= o_scale[r];
            }
            const float ref = row_max[r] == -INFINITY ? 0.f : row_max[r];
            bias[r] = ref * scale_log2 - offset_log2;
        }
#pragma unroll
        for (int e = 0; e < kNumS; ++e) {
            const int r = FragmentCoords::row_of(e);
            const float x = fmaf(s[e], scale_log2, -bias[r]);
            s[e] = kPolyEvery > 0 && e % kPolyEvery == kPolyEvery - 1 ? cuda::exp2_poly3(x) : cuda::exp2_approx(x);
            row_sum[r] += s[e];
        }
        return moved;
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
#if FA_SM90_TUNE_FAST_FINALIZE
            // MUFU reciprocal and log2 (2 ulp, 2^-22 absolute): the IEEE division and logf are long
            // dependent chains at the end of every tile, which short sequences pay for in full.
            o_factor[r] = empty ? 0.f : __fdividef(out_scale, sum);
            const float log_sum = __logf(sum);
#else
            o_factor[r] = empty ? 0.f : out_scale / sum;
            const float log_sum = logf(sum);
#endif
            lse[r] = empty ? -INFINITY : row_max[r] * scale + log_sum - offset_log2 * 0.69314718055994530942f;
        }
    }
};

}  // namespace fa::sm90
