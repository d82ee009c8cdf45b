// The backend contract of api/backends.h for the FA3 kernels: which calls they take, and running one
// (the backward's own checks and passes are in bwd_api.cu).
#include "api/backends.h"
#include "api/status.h"
#include "cuda/sm90/fwd_knobs.h"
#include "cuda/sm90/bwd_launch.h"
#include "cuda/sm90/fwd_launch.h"

#include <cuda_runtime_api.h>
#include <atomic>
#include <cstdio>

namespace fa {

namespace {

using sm90::wgmma::Kind;

// Compute capability per device, queried once (the dispatcher asks on every call).
int capability(int device) {
    static std::atomic<int> cache[64];
    if (device < 0) return 0;
    if (device < 64) {
        if (int c = cache[device].load(std::memory_order_relaxed); c != 0) return c;
    }
    int major = 0, minor = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    const int c = major * 10 + minor;
    if (device < 64) cache[device].store(c, std::memory_order_relaxed);
    return c;
}

// The compiled head_dim a call runs on: the smallest one that holds it (64, 96, 128, 192, 256 for 16-bit
// inputs; 64, 128, 256 for e4m3), 0 if none. A smaller head_dim runs padded: TMA fills the columns past
// it with zeros, which add nothing to Q·K^T and make O columns that the epilogue does not store.
int kernel_head_dim(int head_dim, Kind kind) {
    static constexpr int kSizes[] = {64, 96, 128, 192, 256};
    for (int d : kSizes)
        if (head_dim <= d && !(kind == Kind::E4M3 && (d == 96 || d == 192))) return d;
    return 0;
}

template <Kind K>
const char* dispatch_unsupported(const fa_params& p, char* buf, size_t len) {
    switch (kernel_head_dim(p.head_dim, K)) {
    case 64: return sm90::fwd_unsupported<K, 64>(p, buf, len);
    case 96:
        if constexpr (K != Kind::E4M3) return sm90::fwd_unsupported<K, 96>(p, buf, len);
        break;
    case 128: return sm90::fwd_unsupported<K, 128>(p, buf, len);
    case 192:
        if constexpr (K != Kind::E4M3) return sm90::fwd_unsupported<K, 192>(p, buf, len);
        break;
    case 256: return sm90::fwd_unsupported<K, 256>(p, buf, len);
    default: break;
    }
    return "head_dim is over 256";
}

// The sequence lengths the tile choices below go by: a packed batch's mean (its seqlen_q / seqlen_k are the
// longest sequence's, and a tile sized for that one would mostly pad the others).
int64_t typical_seqlen(const fa_params& p, bool keys) {
    if (p.cu_seqlens_q == nullptr) return keys ? p.seqlen_k : p.seqlen_q;
    return ((keys ? p.total_k : p.total_q) + p.batch - 1) / p.batch;
}

// Long calls take wider key blocks (fwd_*_hdim64_n192.cu, fwd_e4m3_hdim128_n224.cu): the softmax's per-row
// steps are spread over more keys, at the cost of padding the last block. At head_dim 64 the 192-row kernel
// (tall_block_m below) comes first, so there this applies only to calls with a short query side.
// 16-bit head_dim 64: 192 beats 128 by 3-8% on non-causal calls from 2048 keys on (H200, 2-16k keys), but
// loses 6-9% at 512-1k keys, where the padding costs 12%. Causal calls, whose diagonal blocks are partly
// masked (wider ones waste more), take it from 8192 keys on: H100, interleaved A/B, two runs: +6 to +8% at
// 8-16k keys, +3% at 4096, -2% at 2048, -12% at 1024.
// e4m3: from 8192 keys on, causal or not. An FP8 Q·K^T with both operands in shared memory reads
// (64 + N) x 32 bytes per 2 x 64 x N x 32 FLOPs, so the wider block also asks less of shared memory per
// FLOP. H100, interleaved A/B against 128 keys: head_dim 64 with 192 keys +1 to +3% at 8-16k keys (+4 to
// +13% with the 232-register split), -0.5 to +0.5% at 4096, -4 to -5% at 2048; head_dim 128 with 224 keys
// +9 to +20% at 8-16k keys (192 keys: +4 to +17%), but -16% at 2048 causal. Measured and not kept: 128
// keys at head_dim 256 (needs 240 consumer registers, spills, -3 to +5%).
template <Kind K>
bool wide_block_n(const fa_params& p) {
    const int forced = sm90::wide_block_n_override();
    if (forced >= 0) return forced == 1;
    if constexpr (K == Kind::E4M3) return typical_seqlen(p, true) >= 8192;
    return typical_seqlen(p, true) >= (p.causal ? 8192 : 2048);
}

// 16-bit head_dim 256 with 64-key blocks (fwd_*_hdim256_n64.cu) for short causal calls: a 128-row tile's
// diagonal spans two or three 80-key blocks but two 64-key ones, so at 512 keys a head's four tiles compute
// 1280 key columns instead of 1440. H100, interleaved A/B against 80 keys, 7 repetitions: causal +11.5% at 512
// keys, +6.5% at 1024, -1% at 2048; non-causal +2.4 / -1.5 / -10%. (The 64-key kernel does not spill.)
template <Kind K>
bool narrow_block_n(const fa_params& p) {
    if constexpr (K == Kind::E4M3) {
        return false;
    } else {
        const int forced = sm90::wide_block_n_override();
        if (forced >= 0) return forced == 0;
        return p.causal && typical_seqlen(p, true) <= 1024;
    }
}

// head_dim 64 with 192-row tiles (fwd_*_hdim64_m192.cu): three consumer warpgroups, 128 keys. H100,
// interleaved A/B against the default choice (128 rows, 192 keys from 2048 keys on), two runs: non-causal
// bf16 +2 to +6% from 2048 keys on (one cell -3%), e4m3 +4 to +10%; at 512 and 1024 keys +0.9 to +2.6%
// (two later runs). Causal calls lose at 0.5-2k keys (-13 to -33%: a 192-row diagonal tile masks more)
// and win from 4096 on (later code, interleaved A/B, 7 repetitions, against 128 rows with 192 keys from
// 8192 on: bf16 +2.9 / +4.6 / +4.3% at 4k / 8k / 16k, e4m3 +2.6 / +5.3 / +3.0%; an earlier build had
// measured -7 to +1% at 8-16k).
bool tall_block_m(const fa_params& p) {
    const int forced = sm90::tall_block_m_override();
    if (forced >= 0) return forced == 1;
    if (sm90::wide_block_n_override() >= 0) return false;  // a forced key-block width names a 128-row kernel
    const int64_t from = p.causal ? 4096 : 512;
    return typical_seqlen(p, false) >= from && typical_seqlen(p, true) >= from;
}

template <Kind K>
fa_status dispatch_run(const fa_params& p) {
    switch (kernel_head_dim(p.head_dim, K)) {
    case 64:
        if (tall_block_m(p)) return sm90::run_fwd_tile<K, 64, 192, 0>(p);
        if (wide_block_n<K>(p)) return sm90::run_fwd_tile<K, 64, 128, 192>(p);
        return sm90::run_fwd<K, 64>(p);
    case 96:
        if constexpr (K != Kind::E4M3) return sm90::run_fwd<K, 96>(p);
        break;
    case 128:
        if constexpr (K == Kind::E4M3)
            if (wide_block_n<K>(p)) return sm90::run_fwd_tile<K, 128, 128, 224>(p);
        return sm90::run_fwd<K, 128>(p);
    case 192:
        if constexpr (K != Kind::E4M3) return sm90::run_fwd<K, 192>(p);
        break;
    case 256:
        if constexpr (K != Kind::E4M3)
            if (narrow_block_n<K>(p)) return sm90::run_fwd_tile<K, 256, 128, 64>(p);
        return sm90::run_fwd<K, 256>(p);
    default: break;
    }
    return fail(FA_ERR_INTERNAL, "internal error: sm90 forward called with head_dim %d", p.head_dim);
}

// nullptr when the Hopper forward runs p, otherwise why not (in buf or a literal).
const char* unsupported(const fa_params& p, bool backward, char* buf, size_t len) {
    if (p.device_type != FA_DEVICE_CUDA) return "it runs on CUDA devices only";
    const int cc = capability(p.device_index);
    if (cc != 90) {
        std::snprintf(buf, len, "it needs a compute capability 9.0 (Hopper) GPU; device %d is %d.%d", p.device_index,
                      cc / 10, cc % 10);
        return buf;
    }
    if (backward) return sm90::backward_unsupported(p, buf, len);
    if (p.cu_seqlens_q != nullptr && (p.total_q < 1 || p.total_k < 1))
        return "variable-length calls need total_q and total_k (>= 1) in fa_params: they bound the TMA descriptors";
    const bool fp8 = p.dtype == FA_DTYPE_FLOAT8_E4M3;
    if (fp8) {
        if (p.out_dtype != FA_DTYPE_BFLOAT16) return "FLOAT8_E4M3 inputs need out_dtype BFLOAT16";
        // The kernel takes the running max of the stored scores: that is the max of the real ones only
        // when the folded scale q_descale * k_descale is positive.
        if (!(p.q_descale * p.k_descale > 0.f)) return "q_descale * k_descale must be positive";
    } else if (p.dtype != FA_DTYPE_FLOAT16 && p.dtype != FA_DTYPE_BFLOAT16) {
        return "it takes FLOAT16, BFLOAT16 or FLOAT8_E4M3 inputs only";
    } else if (p.out_dtype != p.dtype) {
        return "out_dtype must equal dtype for 16-bit inputs";
    }
    if (p.seqlen_k < 1) return "seqlen_k is 0 (nothing for TMA to address)";
    // The epilogue stores whole 8-column blocks of O.
    if (p.head_dim < 8 || p.head_dim % 8 != 0) {
        std::snprintf(buf, len, "head_dim (%d) must be a multiple of 8 between 8 and 256", p.head_dim);
        return buf;
    }
    // The epilogue stores O as aligned pairs of 16-bit values.
    if (reinterpret_cast<uintptr_t>(p.out) % 4 != 0) return "out is not 4-byte aligned";
    const int64_t out_strides[3][2] = {{p.out_row_stride, p.seqlen_q}, {p.out_head_stride, p.num_heads_q},
                                       {p.out_batch_stride, p.batch}};
    for (const auto& s : out_strides)
        if (s[1] > 1 && s[0] % 2 != 0) return "an out stride is odd (the Hopper epilogue stores element pairs)";
    const long long tiles = (static_cast<long long>(p.seqlen_q) + 127) / 128 * p.num_heads_q * p.batch;
    if (tiles >= (1LL << 31)) return "more than 2^31 tiles of 128 query rows";
    switch (p.dtype) {
    case FA_DTYPE_BFLOAT16: return dispatch_unsupported<Kind::BF16>(p, buf, len);
    case FA_DTYPE_FLOAT16: return dispatch_unsupported<Kind::F16>(p, buf, len);
    default: return dispatch_unsupported<Kind::E4M3>(p, buf, len);
    }
}

// Runs the launch on p.device_index and restores the caller's current device.
class DeviceScope {
public:
    explicit DeviceScope(int device) {
        if (cudaGetDevice(&previous_) != cudaSuccess) {
            cudaGetLastError();
            previous_ = -1;
        }
        if (previous_ != device) status_ = cudaSetDevice(device);
    }
    ~DeviceScope() {
        if (previous_ >= 0) cudaSetDevice(previous_);
    }
    cudaError_t status() const { return status_; }

private:
    int previous_ = -1;
    cudaError_t status_ = cudaSuccess;
};

}  // namespace

bool sm90_supports(const fa_params& p, bool backward) {
    char buf[256];
    if (const char* why = unsupported(p, backward, buf, sizeof buf)) {
        fail(FA_ERR_UNSUPPORTED, "%s", why);
        return false;
    }
    return true;
}

fa_status sm90_fwd(const fa_params& p) {
    char buf[256];
    if (const char* why = unsupported(p, false, buf, sizeof buf))
        return fail(FA_ERR_UNSUPPORTED, "backend CUDA_SM90 cannot run this forward: %s", why);
    if (p.batch == 0 || p.seqlen_q == 0 || p.num_heads_q == 0) return FA_OK;
    DeviceScope scope(p.device_index);
    if (scope.status() != cudaSuccess) {
        const cudaError_t err = scope.status();
        cudaGetLastError();
        return fail(FA_ERR_DEVICE, "cudaSetDevice(%d): %s", p.device_index, cudaGetErrorString(err));
    }
    switch (p.dtype) {
    case FA_DTYPE_BFLOAT16: return dispatch_run<Kind::BF16>(p);
    case FA_DTYPE_FLOAT16: return dispatch_run<Kind::F16>(p);
    default: return dispatch_run<Kind::E4M3>(p);
    }
}

fa_status sm90_bwd(const fa_params& p) {
    char buf[256];
    if (const char* why = unsupported(p, true, buf, sizeof buf))
        return fail(FA_ERR_UNSUPPORTED, "backend CUDA_SM90 cannot run this backward: %s", why);
    return sm90::run_backward(p);
}

}  // namespace fa
