// Backward kernels that do not depend on the head dim: the preprocessing pass (D = rowsum(dO * O) and
// the LSE in log2 units, both into the padded workspace) and the final dQ conversion.
#include <cmath>
#include <cstdint>

#include "../primitives/convert.cuh"
#include "../primitives/math.cuh"
#include "launch.h"
#include "traits.h"

namespace fa::sm80 {

namespace {

constexpr int kPreRowsPerBlock = 8;  // one warp per row

// A warp per row: lane c reads the 16-byte chunk c of dO and O (head_dim <= 256 = 32 chunks).
template <typename T>
__global__ void __launch_bounds__(kPreRowsPerBlock * 32) bwd_preprocess_kernel(const BwdArgs a) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * kPreRowsPerBlock + (threadIdx.x >> 5);
    const int h = blockIdx.y, b = blockIdx.z;
    const SeqSpan seq = seq_span(a.cu_seqlens_q, a.cu_seqlens_k, b, a.seqlen_q, a.seqlen_k);
    const int64_t ws = (int64_t(b) * a.heads_q + h) * a.rows_padded + row;
    if (row >= seq.seqlen_q) {  // padding: P = 0 there, and D must be finite
        if (lane == 0) a.dsum[ws] = 0.f, a.lse_log2[ws] = INFINITY;
        return;
    }
    float acc = 0.f;
    if (lane * 8 < a.head_dim) {
        const uint16_t* o = static_cast<const uint16_t*>(a.out.ptr) + seq.q_offset(b, a.out) + h * a.out.head_stride +
                            int64_t(row) * a.out.row_stride + lane * 8;
        const uint16_t* d = static_cast<const uint16_t*>(a.dout.ptr) + seq.q_offset(b, a.dout) +
                            h * a.dout.head_stride + int64_t(row) * a.dout.row_stride + lane * 8;
        const uint4 ov = *reinterpret_cast<const uint4*>(o);
        const uint4 dv = *reinterpret_cast<const uint4*>(d);
        const uint32_t ow[4] = {ov.x, ov.y, ov.z, ov.w}, dw[4] = {dv.x, dv.y, dv.z, dv.w};
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const float2 of = cuda::unpack2<T>(ow[i]), df = cuda::unpack2<T>(dw[i]);
            acc = fmaf(of.x, df.x, fmaf(of.y, df.y, acc));
        }
    }
    acc = cuda::warp_sum(acc);
    if (lane == 0) {
        constexpr float kLog2e = 1.4426950408889634f;
        const float lse = a.lse[lse_index(seq, a.cu_seqlens_q, a.batch, b, h, a.heads_q, a.seqlen_q, row)];
        a.dsum[ws] = acc;
        a.lse_log2[ws] = lse == -INFINITY ? INFINITY : lse * kLog2e;  // a row without keys: P = 0
    }
}

// dq = scale * dq_accum. The accumulator is in fragment order (params.h): the 64 contiguous bytes at
// 16 * g floats into a fragment hold rows g and g + 8 of its 8 columns, so each thread reads those
// and writes a 16-byte chunk to both rows. Fragments of one band are the fastest index, so a warp
// writes whole row segments.
template <typename T>
__global__ void __launch_bounds__(256) bwd_convert_dq_kernel(const BwdArgs a) {
    const int h = blockIdx.y, b = blockIdx.z;
    const int frags_per_band = a.dim_padded / 8;
    const int idx = blockIdx.x * 256 + threadIdx.x;
    const int c = idx % frags_per_band, g = (idx / frags_per_band) % 8, band = idx / (frags_per_band * 8);
    const int row = band * 16 + g;
    const SeqSpan seq = seq_span(a.cu_seqlens_q, a.cu_seqlens_k, b, a.seqlen_q, a.seqlen_k);
    if (row >= seq.seqlen_q || c * 8 >= a.head_dim) return;
    const float4* src = reinterpret_cast<const float4*>(
        a.dq_accum + ((int64_t(b) * a.heads_q + h) * a.rows_padded + band * 16) * a.dim_padded + c * 128 + g * 16);
    float4 v[4];
#pragma unroll
    for (int t = 0; t < 4; ++t) v[t] = src[t];
    const float s = a.scale;
    const uint4 upper = make_uint4(cuda::pack2<T>(v[0].x * s, v[0].y * s), cuda::pack2<T>(v[1].x * s, v[1].y * s),
                                   cuda::pack2<T>(v[2].x * s, v[2].y * s), cuda::pack2<T>(v[3].x * s, v[3].y * s));
    const uint4 lower = make_uint4(cuda::pack2<T>(v[0].z * s, v[0].w * s), cuda::pack2<T>(v[1].z * s, v[1].w * s),
                                   cuda::pack2<T>(v[2].z * s, v[2].w * s), cuda::pack2<T>(v[3].z * s, v[3].w * s));
    uint16_t* dst = static_cast<uint16_t*>(const_cast<void*>(a.dq.ptr)) + seq.q_offset(b, a.dq) + h * a.dq.head_stride +
                    int64_t(row) * a.dq.row_stride + c * 8;
    *reinterpret_cast<uint4*>(dst) = upper;
    if (row + 8 < seq.seqlen_q) *reinterpret_cast<uint4*>(dst + 8 * a.dq.row_stride) = lower;
}

}  // namespace

template <typename T>
fa_status launch_bwd_preprocess(const BwdArgs& args, const LaunchContext& ctx) {
    const dim3 grid(args.rows_padded / kPreRowsPerBlock, args.heads_q, args.batch);
    bwd_preprocess_kernel<T><<<grid, kPreRowsPerBlock * 32, 0, ctx.stream>>>(args);
    return check_launch("sm80 backward preprocess");
}

template <typename T>
fa_status launch_bwd_convert_dq(const BwdArgs& args, const LaunchContext& ctx) {
    // A thread covers two rows of a 16-row band.
    const int chunks = ceil_div(args.seqlen_q, 16) * 8 * (args.dim_padded / 8);
    const dim3 grid(ceil_div(chunks, 256), args.heads_q, args.batch);
    bwd_convert_dq_kernel<T><<<grid, 256, 0, ctx.stream>>>(args);
    return check_launch("sm80 backward dQ conversion");
}

template fa_status launch_bwd_preprocess<__half>(const BwdArgs&, const LaunchContext&);
template fa_status launch_bwd_preprocess<__nv_bfloat16>(const BwdArgs&, const LaunchContext&);
template fa_status launch_bwd_convert_dq<__half>(const BwdArgs&, const LaunchContext&);
template fa_status launch_bwd_convert_dq<__nv_bfloat16>(const BwdArgs&, const LaunchContext&);

}  // namespace fa::sm80
