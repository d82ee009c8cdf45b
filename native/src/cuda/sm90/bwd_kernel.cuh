// The FA3 backward kernel: one CTA per (key block, KV head, batch), 3 warpgroups.
//   warpgroup 0  producer: drops to kProducerRegs registers; one thread issues every TMA load.
//   warpgroups 1, 2  consumers: raise to kConsumerRegs registers; each owns 64 keys of the block.
// Key blocks are the grid's fastest index, so a causal call's longest blocks (the first) start first. Packed
// variable-length batches: z is the sequence, and blocks past its keys exit at once.
#pragma once
#include "cuda/primitives/sm90/mbarrier.cuh"
#include "cuda/primitives/sm90/smem.cuh"
#include "cuda/primitives/sm90/tma.cuh"
#include "cuda/primitives/sm90/warpgroup.cuh"
#include "cuda/sm90/bwd_args.h"
#include "cuda/sm90/bwd_consumer.cuh"
#include "cuda/sm90/bwd_producer.cuh"
#include "cuda/sm90/bwd_smem.cuh"

namespace fa::sm90 {

template <class Cfg, class T>
__global__ void __launch_bounds__(Cfg::kThreads, 1) bwd_kernel(const __grid_constant__ BwdArgs args) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    extern __shared__ __align__(1024) uint8_t smem_raw[];
    BwdSmem<Cfg> smem;
    smem.base = (smem_u32(smem_raw) + 1023u) & ~1023u;

    const int warpgroup = threadIdx.x / kWarpgroupThreads;
    const int tid = threadIdx.x % kWarpgroupThreads;
    const int n_block = blockIdx.x, kv_head = blockIdx.y, batch = blockIdx.z;
    // The grid spans the longest sequence's keys: a shorter one's surplus blocks leave before any barrier.
    const BwdSeq seq = bwd_seq(args, batch);
    if (n_block * Cfg::kBlockN >= seq.seqlen_k) return;

    if (threadIdx.x == 0) {
        tma::prefetch_map(&args.tma_q);
        tma::prefetch_map(&args.tma_k);
        tma::prefetch_map(&args.tma_v);
        tma::prefetch_map(&args.tma_dout);
        mbarrier::init(smem.kv_full(), 1);
#pragma unroll
        for (int s = 0; s < Cfg::kStages; ++s) {
            mbarrier::init(smem.full(s), 1);                     // the producer's arrive.expect_tx
            mbarrier::init(smem.empty(s), Cfg::kConsumerWarpgroups * kWarpgroupThreads);  // every consumer thread
        }
        mbarrier::fence_init();
    }
    __syncthreads();

    if (warpgroup == 0) {
        warpgroup_reg_dealloc<Cfg::kProducerRegs>();
        if (tid == 0) {
            BwdProducer<Cfg> producer{args, smem, {}};
            producer.run(seq, n_block, kv_head, batch);
        }
    } else {
        warpgroup_reg_alloc<Cfg::kConsumerRegs>();
        BwdConsumer<Cfg, T> consumer(args, smem, warpgroup - 1, tid, seq);
        consumer.run(n_block, kv_head, batch);
    }
#endif
}

}  // namespace fa::sm90
