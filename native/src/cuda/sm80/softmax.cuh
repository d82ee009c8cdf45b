// Online softmax over key tiles, entirely in registers. Each thread owns 2 rows per 16-row fragment
// (g and g+8) and keeps, per row, the running max m (raw score units) and a partial sum l over its
// own columns; the quad's partial sums are added once, at the end.
#pragma once
#include <cmath>

#include "../primitives/math.cuh"

namespace fa::sm80 {

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
    template <int NS, int NO>
    __device__ __forceinline__ void update(float (&s)[MF][NS][4], float (&o)[MF][NO][4], float scale_log2) {
#pragma unroll
        for (int mf = 0; mf < MF; ++mf)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                float mx = row_max[mf][h];
#pragma unroll
                for (int nf = 0; nf < NS; ++nf) mx = fmaxf(mx, fmaxf(s[mf][nf][2 * h], s[mf][nf][2 * h + 1]));
                mx = cuda::quad_max(mx);
                const float max_scaled = mx == -INFINITY ? 0.f : mx * scale_log2;
                const float correction =
                    row_max[mf][h] == -INFINITY ? 0.f : cuda::exp2_approx(row_max[mf][h] * scale_log2 - max_scaled);
                row_max[mf][h] = mx;
                float sum = row_sum[mf][h] * correction;
#pragma unroll
                for (int nf = 0; nf < NO; ++nf) o[mf][nf][2 * h] *= correction, o[mf][nf][2 * h + 1] *= correction;
#pragma unroll
                for (int nf = 0; nf < NS; ++nf)
#pragma unroll
                    for (int j = 0; j < 2; ++j) {
                        const float p = cuda::exp2_approx(fmaf(s[mf][nf][2 * h + j], scale_log2, -max_scaled));
                        s[mf][nf][2 * h + j] = p;
                        sum += p;
                    }
                row_sum[mf][h] = sum;
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
