// Host side of one FA3 forward call: TMA descriptors, kernel arguments, grid and tile order, launch.
// Included by the per-(dtype, head_dim) instantiation files only.
#pragma once
#include "api/status.h"
#include "cuda/sm90/config.h"
#include "cuda/sm90/fwd_kernel.cuh"
#include "cuda/sm90/fwd_knobs.h"
#include "cuda/sm90/fwd_launch.h"
#include "cuda/sm90/operand_map.h"
#include "cuda/sm90/tensor_map.h"
#include "cuda/sm90/unit_counter.h"

#include <algorithm>
#include <cuda_runtime_api.h>
#include <cuda_bf16.h>
#include <type_traits>

namespace fa::sm90 {

// out as the TMA store of the epilogue writes it: one box per consumer warpgroup and 64-column chunk.
template <class Cfg, class OutT>
TensorMapDesc out_map(const fa_params& p) {
    TensorMapDesc d = operand_map<Cfg>(p.out, p.seqlen_q, p.num_heads_q, p, p.out_batch_stride, p.out_row_stride,
                                       p.out_head_stride, Cfg::kRowsPerConsumer);
    // out is 16-bit whatever the inputs are: its own element type, chunk width and swizzle.
    d.elem_bytes = 2;
    d.is_bf16 = std::is_same_v<OutT, __nv_bfloat16>;
    d.box_cols = Cfg::kOutChunkCols;
    d.swizzle_bytes = 128;
    return d;
}

// How the units reach the CTAs (fwd_knobs.h).
// - Fixed-length non-causal calls: the static order (tile_scheduler.cuh). Their tiles cost the same, and the
//   dynamic order loses there (-2 to -18%).
// - Causal calls from 2048 keys on draw single tiles longest first (dynamic_order.cuh) instead of walking
//   the static order's m-block pairs, whose rounds of equal units leave CTAs idle at the end, and more so
//   where the units per (batch, head) share factors with the grid (192-row tiles at 8192 keys: 22 units, 132
//   CTAs, six of which only ever get the unpaired middle tile). H100, bf16, interleaved A/B, two runs, 4-16k
//   keys: head_dim 64 +2 to +6%, 128 +1 to +4%, 256 -2 to +5%; 2048 keys: +2 to +4% at 64, +2 to +7% at 128,
//   0% at 256; e4m3, 2-16k keys: +1 to +5% at 64, -3 to +3% at 128, 0 to +5% at 256. At 1024 keys: -3 to
//   +2%, so the static order stays below 2048.
// - Packed sequences of unequal lengths make tiles of unequal cost, which the static order balances badly.
//   One CTA per unit lets the hardware's block scheduler balance them (H100, bf16, 16k tokens of lengths
//   uniform in 128-1024, against the static order: +33% at head_dim 64 and +13% at 128 non-causal, +10% / +23%
//   causal), and the dynamic order does better still at head_dim <= 128, where it keeps loading the next tile
//   while the last one ends: +12 to +22% at 128-1024, +2 to +11% at 512-4096, +19 to +44% at 100-900 (head_dim
//   64); e4m3: +22 to +27% at 128-1024, +6 to +14% at 512-4096. At head_dim 256 it is -4 to +6% (bf16): one
//   CTA per unit stays.
template <class Cfg>
GridMode grid_mode(const fa_params& p) {
    GridMode mode = grid_mode_override();
    if (mode == GridMode::kDefault) {
        if (packed(p)) mode = Cfg::kHeadDim <= 128 ? GridMode::kDynamic : GridMode::kPerUnit;
        else if (p.causal && p.seqlen_q >= 2048 && p.seqlen_k >= 2048) mode = GridMode::kDynamic;
        else mode = GridMode::kPersistent;
    }
    return mode;
}

// (batch, head)s per group of the dynamic order: as many whole KV heads (with their query heads) as 64 MiB of
// K and V hold (32 MiB below 4096 keys, 16 MiB for packed sequences, sized by the longest). Where a tile visits
// few key blocks, each reads its head's whole K and V and the heads of a group are re-read one m-block later,
// so the group must stay in L2 (50 MiB on the H100): H100, causal, 1-2k keys, against the static order: 16-32
// MiB -3 to +7%, 64 MiB -2 to -17%, 128 MiB -11 to -40%; packed, 128-4096 keys, 16 MiB against 32: -2 to +8%,
// against 64: +0.5 to +16%. Long tiles walk their keys in step with their neighbours and need fewer heads
// resident, but want many in a group: from 4096 keys 64 MiB +0 to +13%, 128 MiB -3 to +5%, 32 MiB -9 to +6%,
// 16 MiB -14 to +3%.
template <class Cfg>
int l2_group_bh(const fa_params& p) {
    const int forced_mib = l2_group_mib_override();
    const int64_t mib = forced_mib > 0 ? forced_mib : packed(p) ? 16 : p.seqlen_k >= 4096 ? 64 : 32;
    const int64_t kv_head_bytes = 2LL * p.seqlen_k * Cfg::kHeadDim * Cfg::kElemBytes;
    const int64_t kv_heads = std::max<int64_t>(1, (mib << 20) / std::max<int64_t>(kv_head_bytes, 1));
    const int64_t heads_per_kv = p.num_heads_q / p.num_heads_kv;
    return static_cast<int>(std::min<int64_t>(kv_heads * heads_per_kv, static_cast<int64_t>(p.batch) * p.num_heads_q));
}

template <class Cfg>
const char* config_unsupported(const fa_params& p, char* buf, size_t len) {
    TensorMapDesc maps[3];
    operand_maps<Cfg>(p, maps);
    static const char* const names[3] = {"q", "k", "v"};
    for (int i = 0; i < 3; ++i)
        if (const char* why = tensor_map_unsupported(maps[i], names[i], buf, len)) return why;
    return nullptr;
}

inline int sm_count(int device) {
    int n = 0;
    if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || n <= 0) {
        cudaGetLastError();
        n = 132;
    }
    return n;
}

template <class Cfg, class OutT>
fa_status launch_fwd(const fa_params& p) {
    constexpr int M = Cfg::kBlockM;
    FwdArgs a{};
    TensorMapDesc maps[3];
    operand_maps<Cfg>(p, maps);
    if (fa_status st = encode_tensor_map(&a.tma_q, maps[0], "q"); st != FA_OK) return st;
    if (fa_status st = encode_tensor_map(&a.tma_k, maps[1], "k"); st != FA_OK) return st;
    if (fa_status st = encode_tensor_map(&a.tma_v, maps[2], "v"); st != FA_OK) return st;

    a.out = p.out;
    a.lse = p.softmax_lse;
    a.out_batch_stride = p.out_batch_stride;
    a.out_row_stride = p.out_row_stride;
    a.out_head_stride = p.out_head_stride;
    a.out_vec16 = reinterpret_cast<uintptr_t>(p.out) % 16 == 0 && p.out_row_stride % 8 == 0 &&
                  p.out_head_stride % 8 == 0 && (packed(p) || p.out_batch_stride % 8 == 0);
    a.cu_seqlens_q = p.cu_seqlens_q;
    a.cu_seqlens_k = p.cu_seqlens_k;
    a.total_q = p.total_q;
    a.batch = p.batch;
    a.seqlen_q = p.seqlen_q;
    a.seqlen_k = p.seqlen_k;
    a.head_dim = p.head_dim;
    a.num_heads_q = p.num_heads_q;
    a.num_heads_kv = p.num_heads_kv;
    a.heads_per_kv = p.num_heads_q / p.num_heads_kv;
    a.causal = p.causal;
    a.num_m_blocks = (p.seqlen_q + M - 1) / M;
    GridMode mode = grid_mode<Cfg>(p);
    if (mode == GridMode::kDynamic) {
        a.unit_counter = unit_counter(p.device_index, p.stream);
        if (a.unit_counter == nullptr) mode = packed(p) ? GridMode::kPerUnit : GridMode::kPersistent;
        a.l2_group_bh = l2_group_bh<Cfg>(p);
    }
    a.pair_tiles = p.causal && a.num_m_blocks > 1 && !static_schedule_requested() && mode != GridMode::kDynamic;
    a.units_per_bh = a.pair_tiles ? (a.num_m_blocks + 1) / 2 : a.num_m_blocks;
    const long long units = static_cast<long long>(a.units_per_bh) * p.num_heads_q * p.batch;
    a.num_units = static_cast<int32_t>(units);

    float qk_descale = 1.f;
    a.out_scale = 1.f;
    if constexpr (Cfg::kFp8) {
        qk_descale = (p.q_descale == 0.f ? 1.f : p.q_descale) * (p.k_descale == 0.f ? 1.f : p.k_descale);
        a.out_scale = p.v_descale == 0.f ? 1.f : p.v_descale;
    }
    a.scale = p.softmax_scale * qk_descale;
    a.scale_log2 = a.scale * 1.4426950408889634f;

    if (units == 0) return FA_OK;
    if (Cfg::kTmaStoreO && !packed(p)) {
        // out takes the TMA store where TMA can address it; otherwise the register stores (no error).
        const TensorMapDesc od = out_map<Cfg, OutT>(p);
        char why[160];
        if (tensor_map_unsupported(od, "out", why, sizeof why) == nullptr) {
            if (fa_status st = encode_tensor_map(&a.tma_o, od, "out"); st != FA_OK) return st;
            a.o_tma = 1;
        }
    }

    using Smem = SmemLayout<Cfg>;
    auto kernel = fwd_kernel<Cfg, OutT>;
    cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Smem::kAllocBytes);
    if (err != cudaSuccess) {
        cudaGetLastError();
        return fail(FA_ERR_DEVICE, "sm90: cudaFuncSetAttribute(%u bytes of shared memory): %s", Smem::kAllocBytes,
                    cudaGetErrorString(err));
    }
    const int sms = sm_count(p.device_index);
    const int grid = static_cast<int>(mode != GridMode::kPerUnit && units > sms ? sms : units);
    kernel<<<grid, Cfg::kThreads, Smem::kAllocBytes, static_cast<cudaStream_t>(p.stream)>>>(a);
    err = cudaGetLastError();
    if (err != cudaSuccess)
        return fail(FA_ERR_DEVICE, "sm90: forward kernel launch (head_dim %d, grid %d): %s", Cfg::kHeadDim, grid,
                    cudaGetErrorString(err));
    return FA_OK;
}

}  // namespace fa::sm90

// One explicit instantiation per (kind, head_dim): the file defines both entry points of fwd_launch.h.
#define FA_SM90_INSTANTIATE(KIND, HDIM, OUT_T)                                                  \
    namespace fa::sm90 {                                                                        \
    template <>                                                                                 \
    fa_status run_fwd<wgmma::Kind::KIND, HDIM>(const fa_params& p) {                            \
        return launch_fwd<FwdConfig<wgmma::Kind::KIND, HDIM>, OUT_T>(p);                        \
    }                                                                                           \
    template <>                                                                                 \
    const char* fwd_unsupported<wgmma::Kind::KIND, HDIM>(const fa_params& p, char* buf, size_t len) { \
        return config_unsupported<FwdConfig<wgmma::Kind::KIND, HDIM>>(p, buf, len);             \
    }                                                                                           \
    }

// A tile variant (fwd_launch.h): only run_fwd_tile, the support check is the default kernel's.
#define FA_SM90_INSTANTIATE_TILE(KIND, HDIM, BLOCK_M, BLOCK_N, OUT_T)                            \
    namespace fa::sm90 {                                                                        \
    template <>                                                                                 \
    fa_status run_fwd_tile<wgmma::Kind::KIND, HDIM, BLOCK_M, BLOCK_N>(const fa_params& p) {      \
        return launch_fwd<FwdConfig<wgmma::Kind::KIND, HDIM, BLOCK_N, BLOCK_M>, OUT_T>(p);      \
    }                                                                                           \
    }
