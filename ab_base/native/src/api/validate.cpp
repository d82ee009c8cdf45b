#include "api/validate.h"

#include "api/guard.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace fa {

namespace {

// One tensor as the params describe it, so that pointer, stride and layout checks read the same way
// for all eight of them.
struct TensorView {
    const char* name;
    const void* data;
    int64_t batch_stride, row_stride, head_stride;
    int64_t batch, rows, heads;  // sizes along those strides; head_dim is contiguous
};

fa_status check_enums(const fa_params& p) {
    if (p.device_type != FA_DEVICE_CPU && p.device_type != FA_DEVICE_CUDA)
        return fail(FA_ERR_INVALID_ARGUMENT,
                    "device_type (%d) must be FA_DEVICE_CPU (0) or FA_DEVICE_CUDA (1)", p.device_type);
    if (p.device_type == FA_DEVICE_CUDA && p.device_index < 0)
        return fail(FA_ERR_INVALID_ARGUMENT, "device_index (%d) must be >= 0", p.device_index);
    if (p.backend < FA_BACKEND_AUTO || p.backend > FA_BACKEND_CUDA_SM90)
        return fail(FA_ERR_INVALID_ARGUMENT,
                    "backend (%d) must be AUTO (0), CPU (1), CUDA_SM80 (2) or CUDA_SM90 (3)", p.backend);
    if (p.causal != 0 && p.causal != 1)
        return fail(FA_ERR_INVALID_ARGUMENT, "causal (%d) must be 0 or 1", p.causal);
    if (p.deterministic != 0 && p.deterministic != 1)
        return fail(FA_ERR_INVALID_ARGUMENT, "deterministic (%d) must be 0 or 1", p.deterministic);
    return FA_OK;
}

fa_status check_sizes(const fa_params& p) {
    struct Size { const char* name; int32_t value; };
    const Size sizes[] = {{"batch", p.batch}, {"seqlen_q", p.seqlen_q}, {"seqlen_k", p.seqlen_k},
                          {"num_heads_q", p.num_heads_q}, {"num_heads_kv", p.num_heads_kv}};
    for (const Size& s : sizes)
        if (s.value < 1) return fail(FA_ERR_INVALID_ARGUMENT, "%s (%d) must be >= 1", s.name, s.value);
    if (p.head_dim < 1 || p.head_dim > FA_MAX_HEAD_DIM)
        return fail(FA_ERR_INVALID_ARGUMENT, "head_dim (%d) must be between 1 and %d", p.head_dim,
                    FA_MAX_HEAD_DIM);
    if (p.num_heads_q % p.num_heads_kv != 0)
        return fail(FA_ERR_INVALID_ARGUMENT, "num_heads_q (%d) must be a multiple of num_heads_kv (%d)",
                    p.num_heads_q, p.num_heads_kv);
    return FA_OK;
}

fa_status check_dtypes(const fa_params& p, bool backward) {
    for (const auto& [name, value] : {std::pair<const char*, int32_t>{"dtype", p.dtype}, {"out_dtype", p.out_dtype}})
        if (value < FA_DTYPE_FLOAT32 || value > FA_DTYPE_FLOAT8_E4M3)
            return fail(FA_ERR_INVALID_ARGUMENT,
                        "%s (%d) must be FLOAT32 (0), FLOAT16 (1), BFLOAT16 (2) or FLOAT8_E4M3 (3)", name, value);
    if (p.dtype == FA_DTYPE_FLOAT8_E4M3) {
        if (backward)
            return fail(FA_ERR_INVALID_ARGUMENT,
                        "dtype FLOAT8_E4M3 is forward-only: the backward needs FLOAT32, FLOAT16 or BFLOAT16 inputs");
        if (p.out_dtype != FA_DTYPE_BFLOAT16)
            return fail(FA_ERR_INVALID_ARGUMENT, "out_dtype (%s) must be BFLOAT16 when dtype is FLOAT8_E4M3",
                        dtype_name(p.out_dtype));
    } else if (p.out_dtype != p.dtype) {
        return fail(FA_ERR_INVALID_ARGUMENT,
                    "out_dtype (%s) must equal dtype (%s); only FLOAT8_E4M3 inputs have another output type",
                    dtype_name(p.out_dtype), dtype_name(p.dtype));
    }
    return FA_OK;
}

fa_status check_scalars(const fa_params& p) {
    if (!std::isfinite(p.softmax_scale) || p.softmax_scale < 0.0f)
        return fail(FA_ERR_INVALID_ARGUMENT,
                    "softmax_scale (%g) must be finite and >= 0 (0 selects 1/sqrt(head_dim))",
                    static_cast<double>(p.softmax_scale));
    if (p.dtype == FA_DTYPE_FLOAT8_E4M3) {
        for (const auto& [name, value] : {std::pair<const char*, float>{"q_descale", p.q_descale},
                                          {"k_descale", p.k_descale}, {"v_descale", p.v_descale}})
            if (!std::isfinite(value))
                return fail(FA_ERR_INVALID_ARGUMENT, "%s (%g) must be finite (0 is read as 1)", name,
                            static_cast<double>(value));
    }
    return FA_OK;
}

// Prefix sums are host memory on the CPU, so they can be checked here; on CUDA they live on the device
// and only the kernels read them.
fa_status check_cu_seqlens(const char* name, const int32_t* cu, int32_t batch, int32_t max_len,
                           const char* max_name) {
    if (cu[0] < 0) return fail(FA_ERR_INVALID_ARGUMENT, "%s[0] (%d) must be >= 0", name, cu[0]);
    for (int32_t b = 0; b < batch; ++b) {
        if (cu[b + 1] < cu[b])
            return fail(FA_ERR_INVALID_ARGUMENT,
                        "%s[%d] (%d) is less than %s[%d] (%d): the prefix sums must not decrease", name, b + 1,
                        cu[b + 1], name, b, cu[b]);
        const int64_t len = static_cast<int64_t>(cu[b + 1]) - cu[b];
        if (len > max_len)
            return fail(FA_ERR_INVALID_ARGUMENT,
                        "sequence %d is %lld rows long (%s[%d] - %s[%d]) but %s (%d) must be the maximum length",
                        b, static_cast<long long>(len), name, b + 1, name, b, max_name, max_len);
    }
    return FA_OK;
}

fa_status check_pointers(const fa_params& p, bool backward) {
    const struct { const char* name; const void* ptr; } required[] = {
        {"q", p.q}, {"k", p.k}, {"v", p.v}, {"out", p.out}, {"softmax_lse", p.softmax_lse},
        {"dout", p.dout}, {"dq", p.dq}, {"dk", p.dk}, {"dv", p.dv}};
    const int count = backward ? 9 : 5;  // the gradient pointers are read only by the backward
    for (int i = 0; i < count; ++i)
        if (required[i].ptr == nullptr) return fail(FA_ERR_INVALID_ARGUMENT, "%s is NULL", required[i].name);
    if ((p.cu_seqlens_q == nullptr) != (p.cu_seqlens_k == nullptr))
        return fail(FA_ERR_INVALID_ARGUMENT,
                    "%s is NULL but %s is set: variable-length mode needs both cu_seqlens_q and cu_seqlens_k",
                    p.cu_seqlens_q ? "cu_seqlens_k" : "cu_seqlens_q", p.cu_seqlens_q ? "cu_seqlens_q" : "cu_seqlens_k");
    return FA_OK;
}

fa_status check_strides(const TensorView& t, bool varlen) {
    const struct { const char* suffix; int64_t value; } strides[] = {
        {"batch", t.batch_stride}, {"row", t.row_stride}, {"head", t.head_stride}};
    for (const auto& s : strides) {
        if (varlen && s.suffix[0] == 'b') continue;  // batch strides are ignored in variable-length mode
        if (s.value < 0)
            return fail(FA_ERR_INVALID_ARGUMENT, "%s_%s_stride (%lld) must be >= 0", t.name, s.suffix,
                        static_cast<long long>(s.value));
    }
    // Offsets are computed in int64 elements; refuse layouts whose last element cannot be addressed.
    const double last = static_cast<double>(t.batch - 1) * static_cast<double>(varlen ? 0 : t.batch_stride) +
                        static_cast<double>(t.rows - 1) * static_cast<double>(t.row_stride) +
                        static_cast<double>(t.heads - 1) * static_cast<double>(t.head_stride);
    if (last > 4.0e18)
        return fail(FA_ERR_INVALID_ARGUMENT, "%s strides address elements beyond 2^62: the strides are too large",
                    t.name);
    return FA_OK;
}

// An output whose elements overlap would be written by several threads or blocks at once and end up
// holding an arbitrary one of the values: refuse it. Sorting the dimensions by stride and requiring
// each stride to clear the span of the smaller ones proves every element has its own address.
fa_status check_no_overlap(const TensorView& t, int64_t head_dim, bool varlen) {
    struct Dim { int64_t size, stride; };
    Dim dims[4];
    int n = 0;
    dims[n++] = {head_dim, 1};
    if (!varlen && t.batch > 1) dims[n++] = {t.batch, t.batch_stride};
    if (t.rows > 1) dims[n++] = {t.rows, t.row_stride};
    if (t.heads > 1) dims[n++] = {t.heads, t.head_stride};
    std::sort(dims, dims + n, [](const Dim& a, const Dim& b) { return a.stride < b.stride; });
    int64_t span = 1;  // elements covered by the dimensions with smaller strides
    for (int i = 0; i < n; ++i) {
        if (dims[i].stride < span)
            return fail(FA_ERR_INVALID_ARGUMENT,
                        "%s strides (batch %lld, row %lld, head %lld) make distinct elements of %s overlap; "
                        "an output must give every element its own address",
                        t.name, static_cast<long long>(t.batch_stride), static_cast<long long>(t.row_stride),
                        static_cast<long long>(t.head_stride), t.name);
        span += (dims[i].size - 1) * dims[i].stride;
    }
    return FA_OK;
}

int64_t element_bytes(int dtype) {
    switch (dtype) {
        case FA_DTYPE_FLOAT32: return 4;
        case FA_DTYPE_FLOAT8_E4M3: return 1;
        default: return 2;
    }
}

// Byte range [first, last) that a tensor's elements can touch.
struct ByteRange { uintptr_t first, last; };

ByteRange byte_range(const TensorView& t, int64_t head_dim, int64_t elem_bytes, bool varlen) {
    const int64_t last_elem = (varlen ? 0 : (t.batch - 1) * t.batch_stride) + (t.rows - 1) * t.row_stride +
                              (t.heads - 1) * t.head_stride + head_dim;
    const auto first = reinterpret_cast<uintptr_t>(t.data);
    return {first, first + static_cast<uintptr_t>(last_elem * elem_bytes)};
}

// A kernel that writes an output while other blocks still read an input sharing its memory computes
// from half-overwritten data: in-place calls are refused rather than answered wrongly. Outputs may
// share a buffer with each other (packed gradients), since their elements do not overlap.
fa_status check_no_alias(const char* output, ByteRange o, const char* input, ByteRange i) {
    if (o.first < i.last && i.first < o.last)
        return fail(FA_ERR_INVALID_ARGUMENT,
                    "%s overlaps %s in memory: an output must not share memory with an input", output, input);
    return FA_OK;
}

}  // namespace

fa_status validate(const fa_params* pp, bool backward, fa_params* resolved) {
    if (pp == nullptr) return fail(FA_ERR_INVALID_ARGUMENT, "params is NULL");
    if (pp->struct_size != sizeof(fa_params))
        return fail(FA_ERR_INVALID_ARGUMENT,
                    "struct_size (%u) must equal sizeof(fa_params) (%u): the caller was built against another "
                    "flashattn.h (call fa_params_init to set it)",
                    pp->struct_size, static_cast<unsigned>(sizeof(fa_params)));
    const fa_params& p = *pp;
    FA_TRY(check_enums(p));
    FA_TRY(check_sizes(p));
    FA_TRY(check_dtypes(p, backward));
    FA_TRY(check_scalars(p));
    FA_TRY(check_pointers(p, backward));

    const bool varlen = p.cu_seqlens_q != nullptr;
    if (p.total_q < 0 || p.total_k < 0)
        return fail(FA_ERR_INVALID_ARGUMENT, "total_q (%lld) and total_k (%lld) must be >= 0 (0 = not given)",
                    static_cast<long long>(p.total_q), static_cast<long long>(p.total_k));
    int64_t rows_q = p.seqlen_q, rows_k = p.seqlen_k;
    if (varlen && p.device_type == FA_DEVICE_CPU) {
        FA_TRY(check_cu_seqlens("cu_seqlens_q", p.cu_seqlens_q, p.batch, p.seqlen_q, "seqlen_q"));
        FA_TRY(check_cu_seqlens("cu_seqlens_k", p.cu_seqlens_k, p.batch, p.seqlen_k, "seqlen_k"));
        const struct { const char* total; int64_t given; const char* cu; int32_t last; } totals[] = {
            {"total_q", p.total_q, "cu_seqlens_q", p.cu_seqlens_q[p.batch]},
            {"total_k", p.total_k, "cu_seqlens_k", p.cu_seqlens_k[p.batch]}};
        for (const auto& t : totals)
            if (t.given != 0 && t.given != t.last)
                return fail(FA_ERR_INVALID_ARGUMENT, "%s (%lld) must equal %s[batch] (%d)", t.total,
                            static_cast<long long>(t.given), t.cu, t.last);
        rows_q = std::max<int64_t>(1, p.cu_seqlens_q[p.batch]);
        rows_k = std::max<int64_t>(1, p.cu_seqlens_k[p.batch]);
    } else if (varlen) {
        if (p.total_q > 0) rows_q = p.total_q;
        if (p.total_k > 0) rows_k = p.total_k;
    }
    // In variable-length mode on CUDA without total_q / total_k the totals are unknown here; the
    // per-sequence maximum is a lower bound, so the overlap check below can miss a problem there but never
    // rejects a valid layout.
    const TensorView in_q{"q", p.q, p.q_batch_stride, p.q_row_stride, p.q_head_stride, p.batch, rows_q, p.num_heads_q};
    const TensorView in_k{"k", p.k, p.k_batch_stride, p.k_row_stride, p.k_head_stride, p.batch, rows_k, p.num_heads_kv};
    const TensorView in_v{"v", p.v, p.v_batch_stride, p.v_row_stride, p.v_head_stride, p.batch, rows_k, p.num_heads_kv};
    const TensorView out{"out", p.out, p.out_batch_stride, p.out_row_stride, p.out_head_stride, p.batch, rows_q,
                         p.num_heads_q};
    for (const TensorView* t : {&in_q, &in_k, &in_v, &out}) FA_TRY(check_strides(*t, varlen));
    const int64_t in_bytes = element_bytes(p.dtype), out_bytes = element_bytes(p.out_dtype);
    // The LSE as a (batch, seqlen_q, heads) view with head_dim 1: (batch, heads, seqlen_q) contiguous, or
    // (heads, total_q) in variable-length mode.
    const TensorView lse{"softmax_lse", p.softmax_lse, p.num_heads_q * rows_q, 1, rows_q, varlen ? 1 : p.batch,
                         rows_q, p.num_heads_q};
    auto range = [&](const TensorView& t, int64_t bytes) { return byte_range(t, p.head_dim, bytes, varlen); };
    if (!backward) {
        FA_TRY(check_no_overlap(out, p.head_dim, varlen));
        for (const TensorView* in : {&in_q, &in_k, &in_v})
            FA_TRY(check_no_alias("out", range(out, out_bytes), in->name, range(*in, in_bytes)));
    }
    if (backward) {
        const TensorView dout{"dout", p.dout, p.dout_batch_stride, p.dout_row_stride, p.dout_head_stride, p.batch,
                              rows_q, p.num_heads_q};
        const TensorView dq{"dq", p.dq, p.dq_batch_stride, p.dq_row_stride, p.dq_head_stride, p.batch, rows_q,
                            p.num_heads_q};
        const TensorView dk{"dk", p.dk, p.dk_batch_stride, p.dk_row_stride, p.dk_head_stride, p.batch, rows_k,
                            p.num_heads_kv};
        const TensorView dv{"dv", p.dv, p.dv_batch_stride, p.dv_row_stride, p.dv_head_stride, p.batch, rows_k,
                            p.num_heads_kv};
        for (const TensorView* t : {&dout, &dq, &dk, &dv}) FA_TRY(check_strides(*t, varlen));
        for (const TensorView* t : {&dq, &dk, &dv}) {
            FA_TRY(check_no_overlap(*t, p.head_dim, varlen));
            const ByteRange written = range(*t, out_bytes);
            for (const TensorView* in : {&in_q, &in_k, &in_v})
                FA_TRY(check_no_alias(t->name, written, in->name, range(*in, in_bytes)));
            for (const TensorView* in : {&out, &dout})
                FA_TRY(check_no_alias(t->name, written, in->name, range(*in, out_bytes)));
            FA_TRY(check_no_alias(t->name, written, "softmax_lse", byte_range(lse, 1, 4, false)));
        }
        // Gradients may interleave in one buffer (slices of a packed dqkv), but two that start at the same
        // address write the same elements.
        if (p.dq == p.dk || p.dq == p.dv || p.dk == p.dv)
            return fail(FA_ERR_INVALID_ARGUMENT, "%s and %s point at the same memory: each gradient needs its own",
                        p.dq == p.dk || p.dq == p.dv ? "dq" : "dk", p.dq == p.dk ? "dk" : "dv");
    }

    *resolved = p;
    if (resolved->softmax_scale == 0.0f)
        resolved->softmax_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(p.head_dim)));
    if (p.dtype == FA_DTYPE_FLOAT8_E4M3) {
        if (resolved->q_descale == 0.0f) resolved->q_descale = 1.0f;
        if (resolved->k_descale == 0.0f) resolved->k_descale = 1.0f;
        if (resolved->v_descale == 0.0f) resolved->v_descale = 1.0f;
    } else {
        resolved->q_descale = resolved->k_descale = resolved->v_descale = 1.0f;
    }
    return FA_OK;
}

}  // namespace fa
