// Online softmax over key tiles, entirely in registers. Each thread owns 2 rows per 16-row fragment
// (g and g+8) and keeps, per row, the running max m (raw score units) and a partial sum l over its
// own columns; the quad's partial sums are added once, at the end.
#pragma once
#include <cmath>

#include "../primitives/math.cuh"

namespace fa::sm80 {

// Pairwise reduction of N values: log2(N) dependent steps instead of N, which matters with only two
// warps per scheduler to hide latency.
template <int N, typename Op>
__device__ __forceinline__ float tree_reduce(float (&v)[N], Op op) {
#pragma unroll
    for (int stride = 1; stride < N; stride *= 2)
#pragma unroll
        for (int i = 0; i + stride < N; i += 2 * stride) v[i] = op(v[i], v[i + stride]);
    return v[0];
}

struct MaxOp {
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
    __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};

template <int MF>
struct OnlineSoftmax {
    float row_max[MF][2];
    float row_sum[MF][2];

    __device__ __forceinline__ void init() {
#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int h = 0; h < 2; ++h) row_max[mf][h] = -INFINITY, row_sum[mf][h] = 0.f;
    }

    // Folds one tile of raw scores into the state: s becomes P = exp2(s * scale_log2 - max), and the
    // output accumulator o is rescaled by exp2(old max - new max). A row with no visible key so far
    // keeps max = -inf; its P is 0 and the subtracted max is taken as 0 to avoid inf - inf.
    // Each phase runs over all of the thread's rows before the next starts, so the dependent chains
    // of different rows (shuffles, MUFU) overlap instead of running back to back.
    template <int NS, int NO>
    __device__ __forceinline__ void update(float (&s)[MF][NS][4], float (&o)[MF][NO][4], float scale_log2) {
        float mx[MF][2];
#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                float v[2 * NS];
#pragma unroll
                for (int nf = 0; nf < NS; ++nf) v[2 * nf] = s[mf][nf][2 * h], v[2 * nf + 1] = s[mf][nf][2 * h + 1];
                mx[mf][h] = fmaxf(row_max[mf][h], tree_reduce(v, MaxOp{}));
            }
#pragma unroll
        for (int lane_mask = 1; lane_mask <= 2; lane_mask <<= 1)
#pragma unroll
            for (int mf = 0; mf < MF; ++mf)
#pragma unroll
                for (int h = 0; h < 2; ++h)
                    mx[mf][h] = fmaxf(mx[mf][h], __shfl_xor_sync(0xffffffffu, mx[mf][h], lane_mask));

        float max_scaled[MF][2], correction[MF][2];
#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                max_scaled[mf][h] = mx[mf][h] == -INFINITY ? 0.f : mx[mf][h] * scale_log2;
                correction[mf][h] = row_max[mf][h] == -INFINITY
                                        ? 0.f
                                        : cuda::exp2_approx(row_max[mf][h] * scale_log2 - max_scaled[mf][h]);
                row_max[mf][h] = mx[mf][h];
            }

#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int nf = 0; nf < NS; ++nf)
#pragma unroll
                for (int e = 0; e < 4; ++e)
                    s[mf][nf][e] = cuda::exp2_approx(fmaf(s[mf][nf][e], scale_log2, -max_scaled[mf][e >> 1]));

#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int nf = 0; nf < NO; ++nf)
#pragma unroll
                for (int e = 0; e < 4; ++e) o[mf][nf][e] *= correction[mf][e >> 1];

#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                float v[2 * NS];
#pragma unroll
                for (int nf = 0; nf < NS; ++nf) v[2 * nf] = s[mf][nf][2 * h], v[2 * nf + 1] = s[mf][nf][2 * h + 1];
                row_sum[mf][h] = fmaf(row_sum[mf][h], correction[mf][h], tree_reduce(v, SumOp{}));
            }
    }

    // Normalizes o by the row sums and returns, per row, the natural-log LSE (-inf and o = 0 for a
    // row that saw no key).
    template <int NO>
    __device__ __forceinline__ void finalize(float (&o)[MF][NO][4], float scale_log2, float (&lse)[MF][2]) {
        constexpr float kLn2 = 0.69314718055994530942f;
#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const float sum = cuda::quad_sum(row_sum[mf][h]);
                const bool empty = sum == 0.f || row_max[mf][h] == -INFINITY;
                const float inv = empty ? 0.f : 1.f / sum;
                lse[mf][h] = empty ? -INFINITY : (row_max[mf][h] * scale_log2 + __log2f(sum)) * kLn2;
#pragma unroll
                for (int nf = 0; nf < NO; ++nf) o[mf][nf][2 * h] *= inv, o[mf][nf][2 * h + 1] *= inv;
            }
    }
};

}  // namespace fa::sm80
