// Tile shapes, pipeline depth and register budgets of the FA3 forward kernel, per element type and
// head dim. One CTA = 1 producer warpgroup + 2 (or 3) consumer warpgroups; each consumer owns 64 query rows.
#pragma once
#include "cuda/primitives/sm90/wgmma.cuh"

#ifndef FA_SM90_TUNE_EXP_POLY
#define FA_SM90_TUNE_EXP_POLY -1
#endif
// Tuning builds: FP8's P headroom exponent and lazy-rescale threshold (log2 units, x10 so that the
// macros stay integers), e.g. -DFA_SM90_TUNE_FP8_OFFSET_X10=50 -DFA_SM90_TUNE_FP8_RESCALE_X10=35.
#ifndef FA_SM90_TUNE_FP8_OFFSET_X10
#define FA_SM90_TUNE_FP8_OFFSET_X10 -1
#endif
#ifndef FA_SM90_TUNE_FP8_RESCALE_X10
#define FA_SM90_TUNE_FP8_RESCALE_X10 -1
#endif
// Tuning builds: -DFA_SM90_TUNE_SPLIT_MASK_LOOP=0 runs every key block through one loop body with a
// run-time mask test instead of two bodies (masked, unmasked).
#ifndef FA_SM90_TUNE_SPLIT_MASK_LOOP
#define FA_SM90_TUNE_SPLIT_MASK_LOOP 1
#endif
// Tuning builds: -DFA_SM90_TUNE_TMA_STORE=0 keeps the register stores of O at every head dim.
#ifndef FA_SM90_TUNE_TMA_STORE
#define FA_SM90_TUNE_TMA_STORE -1
#endif
// Tuning builds: stages of the FP8 kernels' transposed-V ring (default: as many as the K/V rings).
#ifndef FA_SM90_TUNE_VT_STAGES
#define FA_SM90_TUNE_VT_STAGES -1
#endif

// Tuning builds: -DFA_SM90_TUNE_LAZY_RESCALE=0 / 1 rescales O on every block / lazily at every head dim.
#ifndef FA_SM90_TUNE_LAZY_RESCALE
#define FA_SM90_TUNE_LAZY_RESCALE -1
#endif
// Tuning builds: -DFA_SM90_TUNE_RETAIN_P=0 / 1 drops / adds the read that holds P's registers until its
// P·V has retired (kRetainP) at every head dim and element type.
#ifndef FA_SM90_TUNE_RETAIN_P
#define FA_SM90_TUNE_RETAIN_P -1
#endif
// Tuning builds: key-block widths of the e4m3 head_dim-128 and -256 kernels (defaults 128 and 96).
#ifndef FA_SM90_TUNE_FP8_D128_BLOCK_N
#define FA_SM90_TUNE_FP8_D128_BLOCK_N 128
#endif
#ifndef FA_SM90_TUNE_FP8_D256_BLOCK_N
#define FA_SM90_TUNE_FP8_D256_BLOCK_N 96
#endif
// Tuning builds: -DFA_SM90_TUNE_GATED_WAIT=1 makes the wait for the previous P·V depend on the softmax's
// row sums (wgmma::wait_group_after), so that ptxas cannot schedule it before the exponentials. It does
// put every exponential before the wait (pv_wait.py), yet measured -4 to -12% at head_dim 64, -6 to +10%
// at 128 and -5 to +2% at 256 (H100, interleaved A/B, bf16 and e4m3): the warpgroup that waits early
// would wait at its next pingpong turn instead. Off.
#ifndef FA_SM90_TUNE_GATED_WAIT
#define FA_SM90_TUNE_GATED_WAIT 0
#endif
// Tuning builds: consumer registers per thread (224, 232 or 240); the producer gets the rest (56, 40 or 24).
#ifndef FA_SM90_TUNE_CONSUMER_REGS
#define FA_SM90_TUNE_CONSUMER_REGS -1
#endif
// Tuning builds: whose mbarrier waits park the thread (mbarrier::try_wait<true>) instead of polling, a
// bitmask: 1 the producer's, 2 the FP8 V transposer's, 4 the consumers' (default: see kParkMask).
#ifndef FA_SM90_TUNE_PARK_WAITS
#define FA_SM90_TUNE_PARK_WAITS -1
#endif
// Tuning builds: the same for the 192-row kernels (3 consumer warpgroups): 152 or 160 (producer 56 or 32),
// and their key-block width (default 128).
#ifndef FA_SM90_TUNE_M192_CONSUMER_REGS
#define FA_SM90_TUNE_M192_CONSUMER_REGS -1
#endif
#ifndef FA_SM90_TUNE_M192_BLOCK_N
#define FA_SM90_TUNE_M192_BLOCK_N 128
#endif
// Tuning builds: the key-block widths of the 128-row head_dim-64 and the 16-bit head_dim-256 kernels; the
// head_dim-96 kernel's key-block width, K/V ring depth (default 2) and rows (192 = three consumer
// warpgroups, with the 192-row budgets and width above); the row max's partial chains everywhere.
#ifndef FA_SM90_TUNE_D64_BLOCK_N
#define FA_SM90_TUNE_D64_BLOCK_N 128
#endif
#ifndef FA_SM90_TUNE_D256_BLOCK_N
#define FA_SM90_TUNE_D256_BLOCK_N 80
#endif
#ifndef FA_SM90_TUNE_D96_BLOCK_N
#define FA_SM90_TUNE_D96_BLOCK_N 128
#endif
#ifndef FA_SM90_TUNE_D96_STAGES
#define FA_SM90_TUNE_D96_STAGES -1
#endif
#ifndef FA_SM90_TUNE_D96_BLOCK_M
#define FA_SM90_TUNE_D96_BLOCK_M -1
#endif
// Tuning builds: the K/V ring depth of the 16-bit head_dim-64 kernels with 128-key blocks (default 3).
#ifndef FA_SM90_TUNE_D64_STAGES
#define FA_SM90_TUNE_D64_STAGES -1
#endif
// Tuning builds: -DFA_SM90_TUNE_Q_SLOTS=1 / 2 gives every kernel one Q slot / two where they fit (smem_layout.cuh).
#ifndef FA_SM90_TUNE_Q_SLOTS
#define FA_SM90_TUNE_Q_SLOTS -1
#endif
// Tuning builds: -DFA_SM90_TUNE_K_BEFORE_Q=0 / 1 has the producer load a tile's first K block after / before
// its Q at every element type (producer.cuh).
#ifndef FA_SM90_TUNE_K_BEFORE_Q
#define FA_SM90_TUNE_K_BEFORE_Q -1
#endif
// Tuning builds: -DFA_SM90_TUNE_FAST_FINALIZE=0 divides by the row sums and takes their log exactly (softmax.cuh).
#ifndef FA_SM90_TUNE_FAST_FINALIZE
#define FA_SM90_TUNE_FAST_FINALIZE 1
#endif
#ifndef FA_SM90_TUNE_MAX_CHAINS
#define FA_SM90_TUNE_MAX_CHAINS -1
#endif

namespace fa::sm90 {

// kBlockN_ = 0 takes the default key-block width below; the tile variants of fwd_launch.h set it.
// kBlockM_ is 128 (2 consumer warpgroups) or 192 (3).
template <wgmma::Kind K, int kHeadDim_, int kBlockN_ = 0, int kBlockM_ = 128>
struct FwdConfig {
    static constexpr wgmma::Kind kKind = K;
    static constexpr bool kFp8 = K == wgmma::Kind::E4M3;
    static constexpr int kHeadDim = kHeadDim_;
    static constexpr int kElemBytes = kFp8 ? 1 : 2;

    // With 3 consumer warpgroups the tensor cores take their GEMMs in turn, and each softmax has two turns
    // of the others' GEMMs to finish in instead of one: the row max (a dependent chain and two shuffles)
    // of one warpgroup then overlaps the exponentials of another, so the MUFU unit, which bounds head_dim 64,
    // is not left idle while a softmax starts.
    static constexpr int kRowsPerConsumer = 64;  // the M of one wgmma
    static constexpr int kBlockM =
        kHeadDim == 96 && FA_SM90_TUNE_D96_BLOCK_M > 0 ? FA_SM90_TUNE_D96_BLOCK_M : kBlockM_;
    static constexpr int kConsumerWarpgroups = kBlockM / kRowsPerConsumer;
    static constexpr int kConsumerWarps = 4 * kConsumerWarpgroups;  // the arrival count of every "empty" barrier
    static constexpr int kThreads = 128 * (1 + kConsumerWarpgroups);
    static_assert(kBlockM == 128 || kBlockM == 192, "2 or 3 consumer warpgroups");
    // Registers per thread the CTA launches with (__launch_bounds__(kThreads, 1)): 168 or 128.
    static constexpr int kLaunchRegs = 65536 / kThreads / 8 * 8;

    // kBlockN: keys per pipeline stage. Larger N amortises the softmax's per-row work; it is bounded by
    // registers (S and P live next to the O accumulator: N/2 + N/4 (N/8 for fp8) + D/2 floats) and,
    // at D = 256, by shared memory.
    static constexpr int default_block_n() {
        if (kHeadDim <= 64) return FA_SM90_TUNE_D64_BLOCK_N;
        if (kHeadDim <= 96) return FA_SM90_TUNE_D96_BLOCK_N;
        if (kHeadDim <= 128) return kFp8 ? FA_SM90_TUNE_FP8_D128_BLOCK_N : 128;
        if (kFp8) return FA_SM90_TUNE_FP8_D256_BLOCK_N;
        return kHeadDim <= 192 ? 112 : FA_SM90_TUNE_D256_BLOCK_N;
    }
    static constexpr int kBlockN =
        kBlockN_ != 0 ? kBlockN_ : kConsumerWarpgroups == 3 ? FA_SM90_TUNE_M192_BLOCK_N : default_block_n();
    static constexpr int default_stages() {
        if (kHeadDim == 96 && FA_SM90_TUNE_D96_STAGES > 0) return FA_SM90_TUNE_D96_STAGES;
        if (kHeadDim <= 64 && !kFp8 && kBlockN <= 128 && FA_SM90_TUNE_D64_STAGES > 0) return FA_SM90_TUNE_D64_STAGES;
        return kHeadDim <= 64 ? 3 : 2;
    }
    static constexpr int kStages = default_stages();

    // TMA boxes and wgmma operands share one layout: rows of one swizzle span, a tile split into column
    // chunks of that span. 128 bytes where a row is whole 128-byte chunks, else 64 (e4m3 head_dim 64,
    // 16-bit head_dim 96: 3 chunks of 32 columns); V's MN-major P·V operand needs whole chunks too.
    static constexpr int kSwizzleBytes = kHeadDim * kElemBytes % 128 == 0 ? 128 : 64;
    static constexpr int kChunkCols = kSwizzleBytes / kElemBytes;
    static constexpr int kChunks = (kHeadDim + kChunkCols - 1) / kChunkCols;
    static constexpr int kMmaK = wgmma::Op<K, kBlockN>::kK;  // 16 (16-bit) or 32 (e4m3): 32 bytes of K
    static constexpr int kKStepsPerChunk = kSwizzleBytes / 32;

    // FP8 wgmma reads B only K-major, so V (seqlen-major in memory) is transposed in shared memory into
    // Vt: kHeadDim rows of kBlockN keys, in chunks of 128 keys (128-byte swizzled rows).
    static constexpr bool kTransposeV = kFp8;
    static constexpr int kVtRowBytes = 128;
    static constexpr int kVtChunks = (kBlockN + kVtRowBytes - 1) / kVtRowBytes;
    // Vt stages: the transposer fills Vt[s] only once both consumers' P·V have left it, so with more Vt
    // than V stages it can run further ahead of them.
    static constexpr int kVtStages = kTransposeV && FA_SM90_TUNE_VT_STAGES > 0 ? FA_SM90_TUNE_VT_STAGES : kStages;

    // The consumer loop runs the key blocks that may need the mask and those that cannot through two
    // copies of its body, so neither has a branch between "S ready" and "P·V done": ptxas waits for the
    // in-flight P·V at the first branch merge, and with the mask test inside the body that wait came
    // before the softmax (ncu: the exponentials ran after P·V, not beside it). H100, interleaved A/B:
    // bf16 +10 to +13% at hdim 64 (2k-8k, non-causal), +4 to +11% at 128, 0 to +3% at 256; e4m3 +1 to
    // +6% at 64. e4m3 at hdim 128/256 lost with it (-10 to +1%) while the V transposer was the bottleneck;
    // since the transposer rewrite it gains there too (hdim 128: -2 to +10%, hdim 256 with kRetainP:
    // +1 to +8%).
    static constexpr bool kSplitMaskLoop = FA_SM90_TUNE_SPLIT_MASK_LOOP != 0;

    // O leaves through shared memory and a TMA store (epilogue.cuh) where a staging tile per consumer
    // warpgroup (64 rows x head_dim, 16-bit) still fits next to the pipeline: head_dim <= 128. It is
    // staged in 64-column chunks of 128-byte swizzled rows, one TMA box each.
    // At head_dim 96 the second chunk is half used: TMA clips the columns past out's head_dim.
    static constexpr bool kTmaStoreO = FA_SM90_TUNE_TMA_STORE != 0 && kHeadDim <= 128;
    static constexpr int kOutChunkCols = 64;
    static constexpr int kOutChunks = (kHeadDim + kOutChunkCols - 1) / kOutChunkCols;

    // setmaxnreg budgets: 128 * producer + 128 * consumer warpgroups * consumer must fit the kThreads x
    // kLaunchRegs the kernel starts with. Consumers hold S (N/2), P (N/4, or N/8 for fp8) and O (D/2) live
    // at once.
    // Two consumer warpgroups: 384 x 168 registers, at most 204 live values, so 232 leaves room for
    // addresses and softmax state; the producer keeps 40 so its 64-bit tile math never spills. FP8 at
    // head_dim 64 and 256 runs faster with 224 / 56 (H100, interleaved A/B: +3 to +11% at 256, +1 to +10%
    // at 64 from 4096 keys on; no spills either way); at 128 224 measured -9 to +2%.
    // Three (head_dim 64): 512 x 128 registers; S, P and O take 64 + 32 + 32 (16-bit, 128 keys) or
    // 64 + 16 + 32 (e4m3) of the consumer's 160 / 152, and FP8's transposer keeps its 56.
    static constexpr int two_warpgroup_regs() {
        return FA_SM90_TUNE_CONSUMER_REGS > 0 ? FA_SM90_TUNE_CONSUMER_REGS : (kFp8 && kHeadDim != 128 ? 224 : 232);
    }
    static constexpr int three_warpgroup_regs() {
        return FA_SM90_TUNE_M192_CONSUMER_REGS > 0 ? FA_SM90_TUNE_M192_CONSUMER_REGS : kFp8 ? 152 : 160;
    }
    static constexpr int kConsumerRegs = kConsumerWarpgroups == 3 ? three_warpgroup_regs() : two_warpgroup_regs();
    static constexpr int kProducerRegs =
        (kThreads * kLaunchRegs - 128 * kConsumerWarpgroups * kConsumerRegs) / 128;

    // softmax: P is computed as exp2(x - max + offset) so that fp8 P uses the top of e4m3's range
    // (values up to 2^8 instead of 1, fewer flushed to zero); the offset cancels in O / rowsum.
    static constexpr float kPOffsetLog2 =
        !kFp8 ? 0.0f : FA_SM90_TUNE_FP8_OFFSET_X10 >= 0 ? FA_SM90_TUNE_FP8_OFFSET_X10 / 10.0f : 8.0f;

    // Keep P's registers allocated until the P·V that reads them has retired (wgmma::retain_operands), so
    // that ptxas cannot hand them to the softmax. It moves the first such write past the wait
    // (tests/gpu/sm90/pv_wait.py), though not the wait itself at hdim >= 192. H100, interleaved A/B, with
    // two loop bodies: e4m3 hdim 256 +1 to +8% (0.99-1.02 with one body), e4m3 hdim 128 -1 to +2%; at
    // hdim 64 it costs 3-15% (bf16 and e4m3). So only e4m3 at hdim 256.
    static constexpr bool kRetainP =
        FA_SM90_TUNE_RETAIN_P >= 0 ? FA_SM90_TUNE_RETAIN_P != 0 : kFp8 && kHeadDim > 128;

    static constexpr bool kGatedWait = FA_SM90_TUNE_GATED_WAIT != 0;

    // Waits that park the thread until the barrier's phase completes (mbarrier.cuh) instead of polling it.
    // The producer thread polls most (it waits for slots to empty while the consumers compute), and its
    // polls take issue slots from the consumer warps on its scheduler. H100, interleaved A/B against no
    // parking: the 16-bit kernels gain from parking the producer (+2 to +5% in most cells from 8192 keys
    // on, none lose more than 1%), the e4m3 ones lose up to 4.7% (their V reaches the consumers through
    // the transposer, so a late wake-up of the producer costs more). Parking the transposer warps instead:
    // e4m3 head_dim 256 -0.7 to +5.6% in two runs (mean +1.9%), 64 and 128 -3.4 to +4.1% (mean -0.4%).
    // So 16-bit inputs park the producer, e4m3 at head_dim 256 the transposer.
    static constexpr int kParkMask =
        FA_SM90_TUNE_PARK_WAITS >= 0 ? FA_SM90_TUNE_PARK_WAITS : !kFp8 ? 1 : kHeadDim > 128 ? 2 : 0;
    static constexpr bool kParkProducer = (kParkMask & 1) != 0;
    static constexpr bool kParkTransposer = (kParkMask & 2) != 0;
    static constexpr bool kParkConsumers = (kParkMask & 4) != 0;

    // Lazy O rescaling (softmax.cuh): P may reach 2^(kPOffsetLog2 + kRescaleLog2) before the reference
    // max moves. 16-bit P takes 2^8 with no loss of precision; e4m3 P must stay under its 448 maximum,
    // so fp8 only lets the max grow by 2^0.5 (P <= 362). It pays where O is wide (D/2 multiplies per
    // rescale): +4-9% at head_dim 256 (H100); at head_dim 64 the vote and branch cost more (-7%).
    static constexpr bool kLazyRescale =
        FA_SM90_TUNE_LAZY_RESCALE >= 0 ? FA_SM90_TUNE_LAZY_RESCALE != 0 : kHeadDim >= 128;
    static constexpr float kRescaleLog2 =
        !kFp8 ? 8.0f : FA_SM90_TUNE_FP8_RESCALE_X10 >= 0 ? FA_SM90_TUNE_FP8_RESCALE_X10 / 10.0f : 0.5f;

    // Where the GEMMs are short (head_dim 64) the softmax's latency decides: one exponential in 16 on
    // the FMA pipe instead of the MUFU unit, and the row max over 4 interleaved partial maxima. H100,
    // interleaved A/B at seqlen 1-16k, bf16 and e4m3: one in 16 beats one in 8 by +0.7 to +5.6% (every
    // cell, two runs), none by +2.5 to +8%, one in 32 by -2 to +5% (e4m3 -1 to +5%); one in 4 and one in 6
    // lose to one in 8. (One in 8 had measured +0-8% over none before the two loop bodies.) head_dim 96, one
    // in 16 against none: +1.1 to +6.4% (bf16, 1-16k, causal or not), then 4 partial maxima +0 to +7.5%.
    // At head_dim 128 and 256 both cost (polynomials -2 to -6%, partial maxima -1 to -5% at 256).
    // e4m3 at head_dim 64 takes 2 partial maxima: against 4, two runs at 1-16k keys, -4.7 to +9.8% (mean
    // +1.8%, 2 of 16 cells below 1.0); bf16 there: -0.3 to -3%. One exponential in 8 or in 32 lost again to
    // one in 16 (-12 to +2%, 20 of 24 cells below -1%), bf16 and e4m3, 2-16k keys, 192-row tiles included.
    // FA_SM90_TUNE_EXP_POLY overrides the share for tuning builds.
    static constexpr int kExpPolyEvery = FA_SM90_TUNE_EXP_POLY >= 0 ? FA_SM90_TUNE_EXP_POLY : kHeadDim <= 96 ? 16 : 0;
    static constexpr int kMaxChains =
        FA_SM90_TUNE_MAX_CHAINS > 0 ? FA_SM90_TUNE_MAX_CHAINS : kHeadDim > 96 ? 1 : kFp8 ? 2 : 4;

    static_assert(kHeadDim % kMmaK == 0, "head_dim must be a multiple of the wgmma K");
    // 16-bit V is read MN-major straight from the TMA tile: the P·V wgmma's N (= head_dim) must be whole
    // swizzle atoms (64 columns at 128 bytes, 32 at 64).
    static_assert(kFp8 || kHeadDim % kChunkCols == 0, "head_dim must be whole swizzle chunks for 16-bit inputs");
    static_assert(kBlockN % kMmaK == 0 && kBlockN % 16 == 0, "kBlockN must hold whole P·V k-steps");
    static_assert(kProducerRegs >= 24 && kProducerRegs % 8 == 0, "producer register budget");
    static_assert(128 * kProducerRegs + 128 * kConsumerWarpgroups * kConsumerRegs <= kThreads * kLaunchRegs,
                  "register budget");
};

}  // namespace fa::sm90
