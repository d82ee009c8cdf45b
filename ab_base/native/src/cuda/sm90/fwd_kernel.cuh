// The FA3 forward kernel: one persistent CTA per SM, 3 (or 4) warpgroups.
//   warpgroup 0  producer: drops to kProducerRegs registers; one thread issues every TMA load, and for
//                FP8 warps 1-3 transpose V in shared memory. Warps with no role leave early.
//   warpgroups 1..kConsumerWarpgroups  consumers: raise to kConsumerRegs registers; each computes 64 rows
//                of the tile.
// Synchronisation is entirely through mbarriers (TMA <-> consumers, consumers -> producer) and the
// consumers' pingpong named barriers; after the setup __syncthreads no CTA-wide barrier is used.
#pragma once
#include "cuda/primitives/sm90/mbarrier.cuh"
#include "cuda/primitives/sm90/smem.cuh"
#include "cuda/primitives/sm90/tma.cuh"
#include "cuda/primitives/sm90/warpgroup.cuh"
#include "cuda/sm90/consumer.cuh"
#include "cuda/sm90/fwd_args.h"
#include "cuda/sm90/producer.cuh"
#include "cuda/sm90/smem_layout.cuh"
#include "cuda/sm90/transpose_v.cuh"

namespace fa::sm90 {

template <class Cfg>
__device__ __forceinline__ void init_barriers(const SmemLayout<Cfg>& smem) {
#pragma unroll
    for (int q = 0; q < SmemLayout<Cfg>::kQSlots; ++q) {
        mbarrier::init(smem.q_full(q), 1);   // the producer's arrive.expect_tx; TMA pays the bytes
        mbarrier::init(smem.q_empty(q), Cfg::kConsumerWarps);  // one arrival per consumer warp
    }
#pragma unroll
    for (int s = 0; s < Cfg::kStages; ++s) {
        mbarrier::init(smem.k_full(s), 1);
        mbarrier::init(smem.k_empty(s), Cfg::kConsumerWarps);
        mbarrier::init(smem.v_full(s), 1);
        // FP8: V is read by the 3 transposer warps, Vt by the consumers, and each buffer has its own
        // "empty" barrier, so TMA refills V as soon as it is transposed, not after the P·V that reads Vt.
        mbarrier::init(smem.v_empty(s), Cfg::kTransposeV ? 3 : Cfg::kConsumerWarps);
        if constexpr (Cfg::kTransposeV && Cfg::kVtStages == Cfg::kStages) {
            mbarrier::init(smem.vt_full(s), 3);  // one per transposer warp
            mbarrier::init(smem.vt_empty(s), Cfg::kConsumerWarps);
        }
    }
    if constexpr (Cfg::kTransposeV && Cfg::kVtStages != Cfg::kStages) {
#pragma unroll
        for (int s = 0; s < Cfg::kVtStages; ++s) {
            mbarrier::init(smem.vt_full(s), 3);
            mbarrier::init(smem.vt_empty(s), Cfg::kConsumerWarps);
        }
    }
    // Not a barrier, but state the same thread readies before the CTA synchronises: the V stages' end flags.
    if constexpr (Cfg::kTransposeV) {
#pragma unroll
        for (int s = 0; s < Cfg::kStages; ++s) st_shared_u32(smem.v_end_flag(s), 0u);
    }
    mbarrier::fence_init();
}

template <class Cfg, class OutT>
__global__ void __launch_bounds__(Cfg::kThreads, 1) fwd_kernel(const __grid_constant__ FwdArgs args) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    extern __shared__ __align__(1024) uint8_t smem_raw[];
    SmemLayout<Cfg> smem;
    smem.base = (smem_u32(smem_raw) + 1023u) & ~1023u;

    const int warpgroup = threadIdx.x / kWarpgroupThreads;
    const int tid = threadIdx.x % kWarpgroupThreads;

    if (threadIdx.x == 0) {
        tma::prefetch_map(&args.tma_q);
        tma::prefetch_map(&args.tma_k);
        tma::prefetch_map(&args.tma_v);
        if (Cfg::kTmaStoreO && args.o_tma) tma::prefetch_map(&args.tma_o);
        init_barriers<Cfg>(smem);
    }
    __syncthreads();

    if (warpgroup == 0) {
        warpgroup_reg_dealloc<Cfg::kProducerRegs>();
        if (tid == 0) {
            Producer<Cfg> producer{args, smem, {}, {}};
            producer.run();
        } else if constexpr (Cfg::kTransposeV) {
            if (tid >= 32) {
                VTransposer<Cfg> transposer{smem, {}, {}};
                transposer.run(tid / 32 - 1, tid % 32);
            }
        }
    } else {
        warpgroup_reg_alloc<Cfg::kConsumerRegs>();
        Consumer<Cfg, OutT> consumer(args, smem, warpgroup - 1, tid);
        consumer.run();
    }
#endif
}

}  // namespace fa::sm90
