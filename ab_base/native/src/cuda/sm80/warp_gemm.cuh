// Warp-level matrix products on tensor cores, the building block of every stage.
//
// A warp computes an (MF*16) x (NF*8) fp32 tile: acc[mf][nf] is the 16x8 C fragment at rows 16*mf,
// columns 8*nf. Operands come from padded smem tiles (SmemTile) through ldmatrix, or, for A, from
// registers (a previous product's accumulators turned into A fragments, so P and dS never touch smem).
//
// Operand storage, named by what is row-major in shared memory:
//   A [m][k]: plain ldmatrix          A stored [k][m] (A_TRANS): ldmatrix.trans
//   B [n][k] (i.e. the product uses the tile transposed, like K in Q*K^T): plain ldmatrix
//   B [k][n] (B_TRANS, like V in P*V): ldmatrix.trans
// An operand "base" is the smem byte address of the warp tile's origin plus this lane's row offset
// (lane_offset_*); the loops then add compile-time offsets only, which fold into the instructions.
#pragma once
#include <cstdint>
#include <type_traits>
#include <utility>

#include "../primitives/convert.cuh"
#include "../primitives/ldmatrix.cuh"
#include "../primitives/mma.cuh"
#include "../primitives/shared.cuh"

namespace fa::sm80 {

// Byte offset of this lane's ldmatrix row address for an x4 load of a 16x16 block.
template <int PITCH>
__device__ __forceinline__ uint32_t lane_offset_a(int lane) {  // A stored [m][k]
    return uint32_t(((lane & 15) * PITCH + (lane >> 4) * 8) * 2);
}
// A stored [k][m], or B stored [n][k]: the same pattern (tiles 0,1 share the first 8 rows).
template <int PITCH>
__device__ __forceinline__ uint32_t lane_offset_a_trans(int lane) {
    return uint32_t((((lane & 7) + ((lane >> 4) << 3)) * PITCH + ((lane >> 3) & 1) * 8) * 2);
}
template <int PITCH>
__device__ __forceinline__ uint32_t lane_offset_b(int lane) {
    return lane_offset_a_trans<PITCH>(lane);
}
template <int PITCH>
__device__ __forceinline__ uint32_t lane_offset_b_trans(int lane) {  // B stored [k][n]
    return uint32_t((((lane & 7) + (((lane >> 3) & 1) << 3)) * PITCH + (lane >> 4) * 8) * 2);
}
template <int PITCH, bool TRANS>
__device__ __forceinline__ uint32_t lane_offset_A(int lane) {
    return TRANS ? lane_offset_a_trans<PITCH>(lane) : lane_offset_a<PITCH>(lane);
}
template <int PITCH, bool TRANS>
__device__ __forceinline__ uint32_t lane_offset_B(int lane) {
    return TRANS ? lane_offset_b_trans<PITCH>(lane) : lane_offset_b<PITCH>(lane);
}

// A fragment (16x16) number mf along m, k-step ks.
template <bool TRANS, int PITCH>
__device__ __forceinline__ void load_a(uint32_t (&a)[4], uint32_t base, int mf, int ks) {
    if constexpr (!TRANS) cuda::ldmatrix_x4(a, base + uint32_t((mf * 16 * PITCH + ks * 16) * 2));
    else                  cuda::ldmatrix_x4_trans(a, base + uint32_t((ks * 16 * PITCH + mf * 16) * 2));
}

// B fragments of the two 8-column blocks 2*np and 2*np+1: {b[0], b[1]} and {b[2], b[3]}.
template <bool TRANS, int PITCH>
__device__ __forceinline__ void load_b_pair(uint32_t (&b)[4], uint32_t base, int np, int ks) {
    if constexpr (!TRANS) cuda::ldmatrix_x4(b, base + uint32_t((np * 16 * PITCH + ks * 16) * 2));
    else                  cuda::ldmatrix_x4_trans(b, base + uint32_t((ks * 16 * PITCH + np * 16) * 2));
}

// B fragment of the single 8-column block nf (an odd last block).
template <bool TRANS, int PITCH>
__device__ __forceinline__ void load_b_single(uint32_t (&b)[2], uint32_t base, int nf, int ks) {
    if constexpr (!TRANS) cuda::ldmatrix_x2(b, base + uint32_t((nf * 8 * PITCH + ks * 16) * 2));
    else                  cuda::ldmatrix_x2_trans(b, base + uint32_t((ks * 16 * PITCH + nf * 8) * 2));
}

template <int MF, int NF>
__device__ __forceinline__ void zero(float (&acc)[MF][NF][4]) {
#pragma unroll
    for (int i = 0; i < MF; ++i)
#pragma unroll
        for (int j = 0; j < NF; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.f;
}

// Compile-time loop: f(std::integral_constant<int, I>{}) for I = 0..N-1, so that fragment indices
// derived from I are constants by construction (register arrays, never local memory).
template <typename F, int... I>
__device__ __forceinline__ void static_for_impl(F&& f, std::integer_sequence<int, I...>) {
    (f(std::integral_constant<int, I>{}), ...);
}
template <int N, typename F>
__device__ __forceinline__ void static_for(F&& f) {
    static_for_impl(f, std::make_integer_sequence<int, N>{});
}

// Called after each step of a product (below) with (step, steps) as integral constants: lets a caller
// slot independent work (global REDs, cp.async) between the mma of a product instead of issuing it in
// one burst.
struct NoHook {
    template <typename I, typename N>
    __device__ __forceinline__ void operator()(I, N) const {}
};

// Load-then-use versions (LA = 0, no hook): the loop shape the kernels were tuned with, kept as is
// because ptxas's register allocation at the 255 limit reacts to small changes of the PTX.
template <typename T, int MF, int NF, int KSTEPS, int PA, bool A_TRANS, int PB, bool B_TRANS>
__device__ __forceinline__ void gemm_ss_in_order(float (&acc)[MF][NF][4], uint32_t a_base, uint32_t b_base) {
#pragma unroll
    for (int ks = 0; ks < KSTEPS; ++ks) {
        uint32_t a[MF][4];
#pragma unroll
        for (int mf = 0; mf < MF; ++mf) load_a<A_TRANS, PA>(a[mf], a_base, mf, ks);
#pragma unroll
        for (int np = 0; np < NF / 2; ++np) {
            uint32_t b[4];
            load_b_pair<B_TRANS, PB>(b, b_base, np, ks);
            const uint32_t b0[2] = {b[0], b[1]}, b1[2] = {b[2], b[3]};
#pragma unroll
            for (int mf = 0; mf < MF; ++mf) {
                cuda::mma_m16n8k16<T>(acc[mf][2 * np], a[mf], b0);
                cuda::mma_m16n8k16<T>(acc[mf][2 * np + 1], a[mf], b1);
            }
        }
        if constexpr (NF % 2 == 1) {
            uint32_t b[2];
            load_b_single<B_TRANS, PB>(b, b_base, NF - 1, ks);
#pragma unroll
            for (int mf = 0; mf < MF; ++mf) cuda::mma_m16n8k16<T>(acc[mf][NF - 1], a[mf], b);
        }
    }
}

template <typename T, int MF, int NF, int KSTEPS, int PB, bool B_TRANS>
__device__ __forceinline__ void gemm_rs_in_order(float (&acc)[MF][NF][4], const uint32_t (&a)[MF][KSTEPS][4],
                                                 uint32_t b_base) {
#pragma unroll
    for (int ks = 0; ks < KSTEPS; ++ks) {
#pragma unroll
        for (int np = 0; np < NF / 2; ++np) {
            uint32_t b[4];
            load_b_pair<B_TRANS, PB>(b, b_base, np, ks);
            const uint32_t b0[2] = {b[0], b[1]}, b1[2] = {b[2], b[3]};
#pragma unroll
            for (int mf = 0; mf < MF; ++mf) {
                cuda::mma_m16n8k16<T>(acc[mf][2 * np], a[mf][ks], b0);
                cuda::mma_m16n8k16<T>(acc[mf][2 * np + 1], a[mf][ks], b1);
            }
        }
        if constexpr (NF % 2 == 1) {
            uint32_t b[2];
            load_b_single<B_TRANS, PB>(b, b_base, NF - 1, ks);
#pragma unroll
            for (int mf = 0; mf < MF; ++mf) cuda::mma_m16n8k16<T>(acc[mf][NF - 1], a[mf][ks], b);
        }
    }
}

// A product runs as a sequence of steps, one per B load (a pair of 8-column blocks, or the odd last
// block) in k-major order; the A fragments of a k-step load with its first B load. The loads of step
// s + LA are issued before the mma of step s, so the ldmatrix latency is covered by LA steps of mma
// instead of stalling the next mma (short-scoreboard). LA = 0 is load-then-use. Every accumulator still
// sums its k-steps in the same order: results are bitwise independent of LA.

// B fragments of step (KS, J): the pair of 8-column blocks 2J, 2J+1, or the odd last block in b[0..1].
template <bool B_TRANS, int PB, int NF, int KS, int J>
__device__ __forceinline__ void load_b_step(uint32_t (&b)[4], uint32_t b_base) {
    if constexpr (J < NF / 2) {
        load_b_pair<B_TRANS, PB>(b, b_base, J, KS);
    } else {
        uint32_t b2[2];
        load_b_single<B_TRANS, PB>(b2, b_base, NF - 1, KS);
        b[0] = b2[0], b[1] = b2[1];
    }
}

// The mma of step (KS, J) against all MF A fragments; a_frag(mf) is the A fragment of row block mf.
template <typename T, int MF, int NF, int J, typename AFrag>
__device__ __forceinline__ void mma_step(float (&acc)[MF][NF][4], const uint32_t (&b)[4], AFrag a_frag) {
    const uint32_t b0[2] = {b[0], b[1]};
    if constexpr (J < NF / 2) {
        const uint32_t b1[2] = {b[2], b[3]};
#pragma unroll
        for (int mf = 0; mf < MF; ++mf) {
            cuda::mma_m16n8k16<T>(acc[mf][2 * J], a_frag(mf), b0);
            cuda::mma_m16n8k16<T>(acc[mf][2 * J + 1], a_frag(mf), b1);
        }
    } else {
#pragma unroll
        for (int mf = 0; mf < MF; ++mf) cuda::mma_m16n8k16<T>(acc[mf][NF - 1], a_frag(mf), b0);
    }
}

// Runs STEPS steps with the loads of step s + LA issued before the mma of step s (load(I) / step(I)
// take the step as an integral constant), and the hook after each step.
template <int STEPS, int LA, typename Load, typename Step, typename Hook>
__device__ __forceinline__ void pipelined_steps(Load load, Step step, Hook hook) {
    static_for<(LA < STEPS ? LA : STEPS)>(load);
    static_for<STEPS>([&](auto I) {
        constexpr int s = decltype(I)::value;
        if constexpr (s + LA < STEPS) load(std::integral_constant<int, s + LA>{});
        step(I);
        hook(I, std::integral_constant<int, STEPS>{});
    });
}

// acc += B-columns of (A * B) over KSTEPS*16 of k, with the B fragments for one k-step and all n
// applied against all MF A fragments: each B load feeds MF mma, each A load NF.
template <typename T, int MF, int NF, int KSTEPS, int PA, bool A_TRANS, int PB, bool B_TRANS, int LA = 0,
          typename Hook = NoHook>
__device__ __forceinline__ void gemm_ss(float (&acc)[MF][NF][4], uint32_t a_base, uint32_t b_base, Hook hook = {}) {
    if constexpr (LA == 0 && std::is_same_v<Hook, NoHook>) {
        gemm_ss_in_order<T, MF, NF, KSTEPS, PA, A_TRANS, PB, B_TRANS>(acc, a_base, b_base);
        return;
    }
    constexpr int NB = NF / 2 + NF % 2, STEPS = KSTEPS * NB;
    uint32_t a[KSTEPS][MF][4];
    uint32_t b[STEPS][4];
    pipelined_steps<STEPS, LA>(
        [&](auto I) {
            constexpr int s = decltype(I)::value, ks = s / NB, j = s % NB;
            if constexpr (j == 0) {
#pragma unroll
                for (int mf = 0; mf < MF; ++mf) load_a<A_TRANS, PA>(a[ks][mf], a_base, mf, ks);
            }
            load_b_step<B_TRANS, PB, NF, ks, j>(b[s], b_base);
        },
        [&](auto I) {
            constexpr int s = decltype(I)::value, ks = s / NB, j = s % NB;
            mma_step<T, MF, NF, j>(acc, b[s], [&](int mf) -> const uint32_t(&)[4] { return a[ks][mf]; });
        },
        hook);
}

// Same with A already in registers: a[mf][ks] is the 16x16 A fragment of rows 16*mf, k-step ks.
template <typename T, int MF, int NF, int KSTEPS, int PB, bool B_TRANS, int LA = 0, typename Hook = NoHook>
__device__ __forceinline__ void gemm_rs(float (&acc)[MF][NF][4], const uint32_t (&a)[MF][KSTEPS][4],
                                        uint32_t b_base, Hook hook = {}) {
    if constexpr (LA == 0 && std::is_same_v<Hook, NoHook>) {
        gemm_rs_in_order<T, MF, NF, KSTEPS, PB, B_TRANS>(acc, a, b_base);
        return;
    }
    constexpr int NB = NF / 2 + NF % 2, STEPS = KSTEPS * NB;
    uint32_t b[STEPS][4];
    pipelined_steps<STEPS, LA>(
        [&](auto I) {
            constexpr int s = decltype(I)::value;
            load_b_step<B_TRANS, PB, NF, s / NB, s % NB>(b[s], b_base);
        },
        [&](auto I) {
            constexpr int s = decltype(I)::value, ks = s / NB, j = s % NB;
            mma_step<T, MF, NF, j>(acc, b[s], [&](int mf) -> const uint32_t(&)[4] { return a[mf][ks]; });
        },
        hook);
}

// The C fragments of two adjacent 8-column blocks are, element for element, the A fragment of one
// 16-wide k-step: this is how P (or dS) feeds the next product straight from registers.
template <typename T, int MF, int NF>
__device__ __forceinline__ void acc_to_a(uint32_t (&a)[MF][NF / 2][4], const float (&c)[MF][NF][4]) {
    static_assert(NF % 2 == 0, "A fragments need pairs of 8-column blocks");
#pragma unroll
    for (int mf = 0; mf < MF; ++mf)
#pragma unroll
        for (int kb = 0; kb < NF / 2; ++kb) {
            a[mf][kb][0] = cuda::pack2<T>(c[mf][2 * kb][0], c[mf][2 * kb][1]);
            a[mf][kb][1] = cuda::pack2<T>(c[mf][2 * kb][2], c[mf][2 * kb][3]);
            a[mf][kb][2] = cuda::pack2<T>(c[mf][2 * kb + 1][0], c[mf][2 * kb + 1][1]);
            a[mf][kb][3] = cuda::pack2<T>(c[mf][2 * kb + 1][2], c[mf][2 * kb + 1][3]);
        }
}

// Writes a warp's accumulator tile, times `scale`, as 16-bit pairs into a padded smem tile at
// (row0, col0) of the tile at shared address `smem`. Lanes of a quad write adjacent words of one row;
// the padding keeps the 8 rows of a store on distinct banks.
template <typename T, int PITCH, int MF, int NF>
__device__ __forceinline__ void store_acc(uint32_t smem, const float (&acc)[MF][NF][4], int row0, int col0, int lane,
                                          float scale) {
    const int g = lane >> 2, t = lane & 3;
    const uint32_t base = smem + uint32_t(((row0 + g) * PITCH + col0 + 2 * t) * 2);
#pragma unroll
    for (int mf = 0; mf < MF; ++mf)
#pragma unroll
        for (int nf = 0; nf < NF; ++nf) {
            const uint32_t p = base + uint32_t((mf * 16 * PITCH + nf * 8) * 2);
            cuda::st_shared_b32(p, cuda::pack2<T>(acc[mf][nf][0] * scale, acc[mf][nf][1] * scale));
            cuda::st_shared_b32(p + 8 * PITCH * 2, cuda::pack2<T>(acc[mf][nf][2] * scale, acc[mf][nf][3] * scale));
        }
}

}  // namespace fa::sm80
