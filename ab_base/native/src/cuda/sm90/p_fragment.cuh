// Probabilities P, held as the S accumulator (f32), repacked as the register-A operand of P·V.
//   16-bit: the accumulator's layout already matches the m64k16 A fragment (rows r0 / r0+8, columns
//           2q, 2q+1 and 8+2q, 9+2q of each 16-key step), so elements pack pairwise in order.
//   e4m3:   an m64k32 A register holds 4 consecutive k positions; pairs of 8-column accumulator
//           blocks are interleaved into one register, and Vt's keys are permuted to match
//           (see transpose_v.cuh).
#pragma once
#include "cuda/primitives/convert.cuh"
#include "cuda/primitives/sm90/convert_fp8.cuh"
#include "cuda/primitives/sm90/wgmma.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace fa::sm90 {

template <wgmma::Kind K, int kNumS>
struct PFragment;

template <int kNumS>
struct PFragment<wgmma::Kind::BF16, kNumS> {
    static constexpr int kRegs = kNumS / 2;
    static __device__ __forceinline__ void pack(const float (&s)[kNumS], uint32_t (&p)[kRegs]) {
#pragma unroll
        for (int i = 0; i < kRegs; ++i) p[i] = cuda::pack2<__nv_bfloat16>(s[2 * i], s[2 * i + 1]);
    }
};

template <int kNumS>
struct PFragment<wgmma::Kind::F16, kNumS> {
    static constexpr int kRegs = kNumS / 2;
    static __device__ __forceinline__ void pack(const float (&s)[kNumS], uint32_t (&p)[kRegs]) {
#pragma unroll
        for (int i = 0; i < kRegs; ++i) p[i] = cuda::pack2<__half>(s[2 * i], s[2 * i + 1]);
    }
};

template <int kNumS>
struct PFragment<wgmma::Kind::E4M3, kNumS> {
    static constexpr int kRegs = kNumS / 4;
    static_assert(kNumS % 16 == 0, "e4m3 P·V steps over 32 keys = 16 accumulator values");
    static __device__ __forceinline__ void pack(const float (&s)[kNumS], uint32_t (&p)[kRegs]) {
#pragma unroll
        for (int kk = 0; kk < kNumS / 16; ++kk) {
            const float* b = s + 16 * kk;  // accumulator blocks 4kk .. 4kk+3
            p[4 * kk + 0] = pack_e4m3x4(b[0], b[1], b[4], b[5]);      // row r0,   k 4q..4q+3
            p[4 * kk + 1] = pack_e4m3x4(b[2], b[3], b[6], b[7]);      // row r0+8
            p[4 * kk + 2] = pack_e4m3x4(b[8], b[9], b[12], b[13]);    // row r0,   k 16+4q..
            p[4 * kk + 3] = pack_e4m3x4(b[10], b[11], b[14], b[15]);  // row r0+8
        }
    }
};

}  // namespace fa::sm90
