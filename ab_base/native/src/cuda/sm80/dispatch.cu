// The sm80 backend's entry points: what it supports, and the route from fa_params to the kernels of
// one (dtype, compiled head dim). Head dims between the compiled sizes run on the next larger one:
// loads zero-fill the extra columns and stores skip them.
#include <cstdint>
#include <cstdlib>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "api/backends.h"
#include "cuda/cuda_util.h"
#include "bwd_passes.h"
#include "launch.h"
#include "traits.h"

namespace fa {

namespace {

using sm80::BwdArgs;
using sm80::FwdArgs;
using sm80::LaunchContext;
using sm80::TensorRef;

constexpr int kCompiledDims[] = {32, 64, 96, 128, 160, 192, 224, 256};
constexpr float kLog2e = 1.4426950408889634f;

int compiled_dim(int head_dim) {
    for (int d : kCompiledDims)
        if (head_dim <= d) return d;
    return 0;
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

struct TensorCheck {
    const char* name;
    const void* ptr;
    int64_t batch_stride, row_stride, head_stride;
    int heads;
};

// cp.async and the epilogue move 16 bytes (8 elements) at a time: every row start must be 16-byte
// aligned. A stride only matters when its dimension has more than one entry.
fa_status check_alignment(const fa_params& p, const TensorCheck& t) {
    if (reinterpret_cast<uintptr_t>(t.ptr) % 16 != 0)
        return fail(FA_ERR_UNSUPPORTED, "%s (%p) must be 16-byte aligned for the CUDA_SM80 backend", t.name, t.ptr);
    const bool varlen = p.cu_seqlens_q != nullptr;
    const struct { const char* suffix; int64_t stride; bool used; } strides[] = {
        {"batch", t.batch_stride, !varlen && p.batch > 1},
        {"row", t.row_stride, true},
        {"head", t.head_stride, t.heads > 1},
    };
    for (const auto& s : strides)
        if (s.used && s.stride % 8 != 0)
            return fail(FA_ERR_UNSUPPORTED,
                        "%s_%s_stride (%lld) must be a multiple of 8 elements (16 bytes) for the CUDA_SM80 backend",
                        t.name, s.suffix, static_cast<long long>(s.stride));
    return FA_OK;
}

// Everything the sm80 kernels need beyond what the API layer validated, with a message naming the
// offending argument.
fa_status check_supported(const fa_params& p, bool backward) {
    if (p.dtype != FA_DTYPE_FLOAT16 && p.dtype != FA_DTYPE_BFLOAT16)
        return fail(FA_ERR_UNSUPPORTED, "dtype %d: the CUDA_SM80 backend runs FLOAT16 and BFLOAT16 only", p.dtype);
    if (p.out_dtype != p.dtype)
        return fail(FA_ERR_UNSUPPORTED, "out_dtype (%d) must equal dtype (%d) for the CUDA_SM80 backend", p.out_dtype,
                    p.dtype);
    if (p.head_dim % 8 != 0 || p.head_dim > 256 || p.head_dim < 8)
        return fail(FA_ERR_UNSUPPORTED,
                    "head_dim (%d) must be a multiple of 8 between 8 and 256 for the CUDA_SM80 backend (pad it)",
                    p.head_dim);
    if (p.num_heads_q > 65535 || p.batch > 65535)
        return fail(FA_ERR_UNSUPPORTED, "num_heads_q (%d) and batch (%d) must be at most 65535 for the CUDA_SM80 backend",
                    p.num_heads_q, p.batch);
    int cc = 0;
    if (fa_status st = cuda_compute_capability(p.device_index, &cc); st != FA_OK) return st;
    if (cc < 80)
        return fail(FA_ERR_UNSUPPORTED, "device %d has compute capability %d.%d; the CUDA_SM80 backend needs 8.0 or newer",
                    p.device_index, cc / 10, cc % 10);

    const int hq = p.num_heads_q, hkv = p.num_heads_kv;
    const TensorCheck tensors[] = {
        {"q", p.q, p.q_batch_stride, p.q_row_stride, p.q_head_stride, hq},
        {"k", p.k, p.k_batch_stride, p.k_row_stride, p.k_head_stride, hkv},
        {"v", p.v, p.v_batch_stride, p.v_row_stride, p.v_head_stride, hkv},
        {"out", p.out, p.out_batch_stride, p.out_row_stride, p.out_head_stride, hq},
        {"dout", p.dout, p.dout_batch_stride, p.dout_row_stride, p.dout_head_stride, hq},
        {"dq", p.dq, p.dq_batch_stride, p.dq_row_stride, p.dq_head_stride, hq},
        {"dk", p.dk, p.dk_batch_stride, p.dk_row_stride, p.dk_head_stride, hkv},
        {"dv", p.dv, p.dv_batch_stride, p.dv_row_stride, p.dv_head_stride, hkv},
    };
    const int n = backward ? 8 : 4;
    for (int i = 0; i < n; ++i)
        if (fa_status st = check_alignment(p, tensors[i]); st != FA_OK) return st;
    if (backward && p.workspace != nullptr && reinterpret_cast<uintptr_t>(p.workspace) % 16 != 0)
        return fail(FA_ERR_INVALID_ARGUMENT, "workspace (%p) must be 16-byte aligned", p.workspace);
    return FA_OK;
}

fa_status make_context(const fa_params& p, LaunchContext* ctx) {
    ctx->stream = static_cast<cudaStream_t>(p.stream);
    cudaError_t err = cudaDeviceGetAttribute(&ctx->max_smem_per_block, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                             p.device_index);
    if (err == cudaSuccess)
        err = cudaDeviceGetAttribute(&ctx->max_smem_per_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, p.device_index);
    if (err != cudaSuccess) return cuda::cuda_fail(err, "cudaDeviceGetAttribute(shared memory)");
    const char* force = std::getenv("FLASHATTN_SM80_STAGES");
    ctx->force_stages = force ? std::atoi(force) : 0;
    return FA_OK;
}

TensorRef ref(const void* ptr, int64_t bs, int64_t rs, int64_t hs) { return TensorRef{ptr, bs, rs, hs}; }

template <typename T>
fa_status fwd_dispatch(int dim, const FwdArgs& a, const LaunchContext& ctx) {
    switch (dim) {
    case 32: return sm80::launch_fwd<T, 32>(a, ctx);
    case 64: return sm80::launch_fwd<T, 64>(a, ctx);
    case 96: return sm80::launch_fwd<T, 96>(a, ctx);
    case 128: return sm80::launch_fwd<T, 128>(a, ctx);
    case 160: return sm80::launch_fwd<T, 160>(a, ctx);
    case 192: return sm80::launch_fwd<T, 192>(a, ctx);
    case 224: return sm80::launch_fwd<T, 224>(a, ctx);
    case 256: return sm80::launch_fwd<T, 256>(a, ctx);
    default: return fail(FA_ERR_INTERNAL, "internal error: no sm80 forward for head dim %d", dim);
    }
}

template <typename T>
fa_status bwd_dispatch(int dim, const BwdArgs& a, const LaunchContext& ctx) {
    switch (dim) {
    case 32: return sm80::launch_bwd<T, 32>(a, ctx);
    case 64: return sm80::launch_bwd<T, 64>(a, ctx);
    case 96: return sm80::launch_bwd<T, 96>(a, ctx);
    case 128: return sm80::launch_bwd<T, 128>(a, ctx);
    case 160: return sm80::launch_bwd<T, 160>(a, ctx);
    case 192: return sm80::launch_bwd<T, 192>(a, ctx);
    case 224: return sm80::launch_bwd<T, 224>(a, ctx);
    case 256: return sm80::launch_bwd<T, 256>(a, ctx);
    default: return fail(FA_ERR_INTERNAL, "internal error: no sm80 backward for head dim %d", dim);
    }
}

// The backward workspace: D and LSE*log2(e) per (batch, head, padded row), then, unless
// deterministic, the fp32 dQ accumulator per (batch, head, padded row, compiled dim), in the mma
// fragment order of params.h. Each region starts 256-byte aligned (whole 512-byte fragments).
struct WorkspaceLayout {
    uint64_t dsum, lse_log2, dq_accum, total;
    int rows_padded;
};

WorkspaceLayout workspace_layout(const fa_params& p) {
    WorkspaceLayout w{};
    w.rows_padded = sm80::ceil_div(p.seqlen_q, sm80::kBwdRowPad) * sm80::kBwdRowPad;
    const uint64_t rows = uint64_t(p.batch) * uint64_t(p.num_heads_q) * uint64_t(w.rows_padded);
    w.dsum = 0;
    w.lse_log2 = align_up(rows * 4, 256);
    w.dq_accum = w.lse_log2 + align_up(rows * 4, 256);
    w.total = w.dq_accum + (p.deterministic ? 0 : align_up(rows * uint64_t(compiled_dim(p.head_dim)) * 4, 256));
    return w;
}

}  // namespace

bool sm80_supports(const fa_params& p, bool backward) { return check_supported(p, backward) == FA_OK; }

uint64_t sm80_bwd_workspace_size(const fa_params& p) {
    if (compiled_dim(p.head_dim) == 0) return 0;
    return workspace_layout(p).total;
}

fa_status sm80_fwd(const fa_params& p) {
    if (fa_status st = check_supported(p, false); st != FA_OK) return st;
    cuda::DeviceGuard guard;
    if (fa_status st = guard.enter(p.device_index); st != FA_OK) return st;
    LaunchContext ctx;
    if (fa_status st = make_context(p, &ctx); st != FA_OK) return st;

    FwdArgs a{};
    a.q = ref(p.q, p.q_batch_stride, p.q_row_stride, p.q_head_stride);
    a.k = ref(p.k, p.k_batch_stride, p.k_row_stride, p.k_head_stride);
    a.v = ref(p.v, p.v_batch_stride, p.v_row_stride, p.v_head_stride);
    a.out = ref(p.out, p.out_batch_stride, p.out_row_stride, p.out_head_stride);
    a.lse = p.softmax_lse;
    a.cu_seqlens_q = p.cu_seqlens_q;
    a.cu_seqlens_k = p.cu_seqlens_k;
    a.batch = p.batch;
    a.seqlen_q = p.seqlen_q;
    a.seqlen_k = p.seqlen_k;
    a.heads_q = p.num_heads_q;
    a.heads_kv = p.num_heads_kv;
    a.group = p.num_heads_q / p.num_heads_kv;
    a.head_dim = p.head_dim;
    a.scale_log2 = p.softmax_scale * kLog2e;
    a.causal = p.causal;
    const int dim = compiled_dim(p.head_dim);
    return p.dtype == FA_DTYPE_FLOAT16 ? fwd_dispatch<__half>(dim, a, ctx) : fwd_dispatch<__nv_bfloat16>(dim, a, ctx);
}

fa_status run_bwd_passes(const fa_params& p, BwdMainKernel main) {
    cuda::DeviceGuard guard;
    if (fa_status st = guard.enter(p.device_index); st != FA_OK) return st;
    LaunchContext ctx;
    if (fa_status st = make_context(p, &ctx); st != FA_OK) return st;

    const WorkspaceLayout w = workspace_layout(p);
    void* ws = p.workspace;
    const bool own_workspace = ws == nullptr;
    if (!own_workspace && p.workspace_bytes < w.total)
        return fail(FA_ERR_INVALID_ARGUMENT,
                    "workspace_bytes (%llu) is less than the %llu bytes this backward needs (fa_mha_bwd_workspace_size)",
                    static_cast<unsigned long long>(p.workspace_bytes), static_cast<unsigned long long>(w.total));
    if (own_workspace) {
        // Stream-ordered, so the scratch lives exactly as long as the queued kernels need it.
        const cudaError_t err = cudaMallocAsync(&ws, w.total, ctx.stream);
        if (err != cudaSuccess) return cuda::cuda_fail(err, "cudaMallocAsync of the backward workspace");
    }
    unsigned char* base = static_cast<unsigned char*>(ws);

    BwdArgs a{};
    a.q = ref(p.q, p.q_batch_stride, p.q_row_stride, p.q_head_stride);
    a.k = ref(p.k, p.k_batch_stride, p.k_row_stride, p.k_head_stride);
    a.v = ref(p.v, p.v_batch_stride, p.v_row_stride, p.v_head_stride);
    a.out = ref(p.out, p.out_batch_stride, p.out_row_stride, p.out_head_stride);
    a.dout = ref(p.dout, p.dout_batch_stride, p.dout_row_stride, p.dout_head_stride);
    a.dq = ref(p.dq, p.dq_batch_stride, p.dq_row_stride, p.dq_head_stride);
    a.dk = ref(p.dk, p.dk_batch_stride, p.dk_row_stride, p.dk_head_stride);
    a.dv = ref(p.dv, p.dv_batch_stride, p.dv_row_stride, p.dv_head_stride);
    a.lse = p.softmax_lse;
    a.cu_seqlens_q = p.cu_seqlens_q;
    a.cu_seqlens_k = p.cu_seqlens_k;
    a.dsum = reinterpret_cast<float*>(base + w.dsum);
    a.lse_log2 = reinterpret_cast<float*>(base + w.lse_log2);
    a.dq_accum = p.deterministic ? nullptr : reinterpret_cast<float*>(base + w.dq_accum);
    a.rows_padded = w.rows_padded;
    a.dim_padded = compiled_dim(p.head_dim);
    a.batch = p.batch;
    a.seqlen_q = p.seqlen_q;
    a.seqlen_k = p.seqlen_k;
    a.heads_q = p.num_heads_q;
    a.heads_kv = p.num_heads_kv;
    a.group = p.num_heads_q / p.num_heads_kv;
    a.head_dim = p.head_dim;
    a.scale = p.softmax_scale;
    a.scale_log2 = p.softmax_scale * kLog2e;
    a.causal = p.causal;
    a.accumulate_dq = p.deterministic ? 0 : 1;

    const bool fp16 = p.dtype == FA_DTYPE_FLOAT16;
    fa_status st = FA_OK;
    if (!p.deterministic) {
        const cudaError_t err = cudaMemsetAsync(a.dq_accum, 0, w.total - w.dq_accum, ctx.stream);
        if (err != cudaSuccess) st = cuda::cuda_fail(err, "cudaMemsetAsync of the dQ accumulator");
    }
    if (st == FA_OK)
        st = fp16 ? sm80::launch_bwd_preprocess<__half>(a, ctx) : sm80::launch_bwd_preprocess<__nv_bfloat16>(a, ctx);
    if (st == FA_OK) st = main(p, a, ctx);
    if (st == FA_OK && !p.deterministic)
        st = fp16 ? sm80::launch_bwd_convert_dq<__half>(a, ctx) : sm80::launch_bwd_convert_dq<__nv_bfloat16>(a, ctx);
    if (own_workspace) {
        const cudaError_t err = cudaFreeAsync(ws, ctx.stream);
        if (err != cudaSuccess && st == FA_OK) st = cuda::cuda_fail(err, "cudaFreeAsync of the backward workspace");
    }
    return st;
}

fa_status sm80_bwd(const fa_params& p) {
    if (fa_status st = check_supported(p, true); st != FA_OK) return st;
    return run_bwd_passes(p, [](const fa_params& q, const BwdArgs& a, const LaunchContext& ctx) {
        return q.dtype == FA_DTYPE_FLOAT16 ? bwd_dispatch<__half>(a.dim_padded, a, ctx)
                                           : bwd_dispatch<__nv_bfloat16>(a.dim_padded, a, ctx);
    });
}

}  // namespace fa
