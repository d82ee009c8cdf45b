// Writes one consumer warpgroup's 64 rows of O (normalised, converted to out_dtype) and their LSE
// straight from registers. Rows past seqlen_q (TMA padding of the last m-block) are skipped; each
// thread stores 4-byte pairs, a quad covering 16 contiguous bytes of a row.
#pragma once
#include "cuda/primitives/convert.cuh"
#include "cuda/sm90/fragment.cuh"
#include "cuda/sm90/fwd_args.h"

namespace fa::sm90 {

template <class OutT, int kNumO>
__device__ __forceinline__ void store_output(const FwdArgs& a, const float (&o)[kNumO], const float (&o_factor)[2],
                                             const float (&lse)[2], const FragmentCoords& fc, const int (&rows)[2],
                                             int head, int batch) {
    OutT* out_bh = static_cast<OutT*>(a.out) + batch * a.out_batch_stride + head * a.out_head_stride;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        if (rows[r] >= a.seqlen_q) continue;
        uint32_t* row = reinterpret_cast<uint32_t*>(out_bh + rows[r] * a.out_row_stride);
#pragma unroll
        for (int j = 0; j < kNumO / 4; ++j) {
            const int e = 4 * j + 2 * r;
            row[(8 * j + fc.col0) / 2] = cuda::pack2<OutT>(o[e] * o_factor[r], o[e + 1] * o_factor[r]);
        }
        if (a.lse != nullptr && fc.col0 == 0)
            a.lse[(static_cast<int64_t>(batch) * a.num_heads_q + head) * a.seqlen_q + rows[r]] = lse[r];
    }
}

}  // namespace fa::sm90
