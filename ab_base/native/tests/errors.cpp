// Bad arguments: each must fail with the expected status and a message naming the field, never crash.
#include "tensor.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

namespace {

struct Fixture {
    Tensor q = Tensor::make(FA_DTYPE_FLOAT32, 2, 16, 4, 32);
    Tensor k = Tensor::make(FA_DTYPE_FLOAT32, 2, 16, 2, 32);
    Tensor v = Tensor::make(FA_DTYPE_FLOAT32, 2, 16, 2, 32);
    Tensor out = Tensor::make(FA_DTYPE_FLOAT32, 2, 16, 4, 32);
    Tensor dout = Tensor::make(FA_DTYPE_FLOAT32, 2, 16, 4, 32);
    Tensor dq = Tensor::make(FA_DTYPE_FLOAT32, 2, 16, 4, 32);
    Tensor dk = Tensor::make(FA_DTYPE_FLOAT32, 2, 16, 2, 32);
    Tensor dv = Tensor::make(FA_DTYPE_FLOAT32, 2, 16, 2, 32);
    std::vector<float> lse = std::vector<float>(2 * 16 * 4);
    int32_t cu[3] = {0, 10, 16};
    fa_params p;
    Fixture() {
        fa_params_init(&p);
        bind_qkv(p, q, k, v, out);
        bind_grads(p, dout, dq, dk, dv);
        p.softmax_lse = lse.data();
        p.batch = 2, p.seqlen_q = 16, p.seqlen_k = 16, p.num_heads_q = 4, p.num_heads_kv = 2, p.head_dim = 32;
    }
};

enum Call { FWD, BWD, SELECT_FWD, WORKSPACE };

fa_status call(Call c, fa_params* p) {
    int32_t backend = -1;
    uint64_t bytes = 0;
    switch (c) {
    case FWD: return fa_mha_fwd(p);
    case BWD: return fa_mha_bwd(p);
    case SELECT_FWD: return fa_select_backend(p, 0, &backend);
    default: return fa_mha_bwd_workspace_size(p, &bytes);
    }
}

struct Expect {
    const char* what;
    Call call;
    fa_status status;
    const char* message;  // must appear in fa_last_error()
    std::function<void(Fixture&)> mutate;
};

}  // namespace

int run_errors() {
    const float nan = std::nanf("");
    const std::vector<Expect> expects = {
        {"struct_size", FWD, FA_ERR_INVALID_ARGUMENT, "struct_size (3)", [](Fixture& f) { f.p.struct_size = 3; }},
        {"device_type", FWD, FA_ERR_INVALID_ARGUMENT, "device_type (7)", [](Fixture& f) { f.p.device_type = 7; }},
        {"backend", FWD, FA_ERR_INVALID_ARGUMENT, "backend (9)", [](Fixture& f) { f.p.backend = 9; }},
        {"head_dim 0", FWD, FA_ERR_INVALID_ARGUMENT, "head_dim (0)", [](Fixture& f) { f.p.head_dim = 0; }},
        {"head_dim 300", BWD, FA_ERR_INVALID_ARGUMENT, "head_dim (300)", [](Fixture& f) { f.p.head_dim = 300; }},
        {"batch", FWD, FA_ERR_INVALID_ARGUMENT, "batch (0)", [](Fixture& f) { f.p.batch = 0; }},
        {"seqlen_k", FWD, FA_ERR_INVALID_ARGUMENT, "seqlen_k (-1)", [](Fixture& f) { f.p.seqlen_k = -1; }},
        {"gqa ratio", FWD, FA_ERR_INVALID_ARGUMENT, "num_heads_q (12) must be a multiple of num_heads_kv (5)",
         [](Fixture& f) { f.p.num_heads_q = 12, f.p.num_heads_kv = 5; }},
        {"q NULL", FWD, FA_ERR_INVALID_ARGUMENT, "q is NULL", [](Fixture& f) { f.p.q = nullptr; }},
        {"lse NULL", SELECT_FWD, FA_ERR_INVALID_ARGUMENT, "softmax_lse is NULL", [](Fixture& f) { f.p.softmax_lse = nullptr; }},
        {"dq NULL", BWD, FA_ERR_INVALID_ARGUMENT, "dq is NULL", [](Fixture& f) { f.p.dq = nullptr; }},
        {"dtype", FWD, FA_ERR_INVALID_ARGUMENT, "dtype (9)", [](Fixture& f) { f.p.dtype = 9; }},
        {"out_dtype", FWD, FA_ERR_INVALID_ARGUMENT, "out_dtype (FLOAT16) must equal dtype (FLOAT32)",
         [](Fixture& f) { f.p.out_dtype = FA_DTYPE_FLOAT16; }},
        {"fp8 out", FWD, FA_ERR_INVALID_ARGUMENT, "out_dtype (FLOAT32) must be BFLOAT16",
         [](Fixture& f) { f.p.dtype = FA_DTYPE_FLOAT8_E4M3; }},
        {"fp8 backward", BWD, FA_ERR_INVALID_ARGUMENT, "forward-only",
         [](Fixture& f) { f.p.dtype = FA_DTYPE_FLOAT8_E4M3, f.p.out_dtype = FA_DTYPE_BFLOAT16; }},
        {"scale NaN", FWD, FA_ERR_INVALID_ARGUMENT, "softmax_scale (nan)", [nan](Fixture& f) { f.p.softmax_scale = nan; }},
        {"scale < 0", BWD, FA_ERR_INVALID_ARGUMENT, "softmax_scale (-1)", [](Fixture& f) { f.p.softmax_scale = -1; }},
        {"causal", FWD, FA_ERR_INVALID_ARGUMENT, "causal (2)", [](Fixture& f) { f.p.causal = 2; }},
        {"deterministic", BWD, FA_ERR_INVALID_ARGUMENT, "deterministic (-1)", [](Fixture& f) { f.p.deterministic = -1; }},
        {"stride < 0", FWD, FA_ERR_INVALID_ARGUMENT, "q_row_stride (-128)", [](Fixture& f) { f.p.q_row_stride = -128; }},
        {"dv stride < 0", BWD, FA_ERR_INVALID_ARGUMENT, "dv_head_stride (-1)", [](Fixture& f) { f.p.dv_head_stride = -1; }},
        {"out overlap", FWD, FA_ERR_INVALID_ARGUMENT, "overlap", [](Fixture& f) { f.p.out_row_stride = 0; }},
        {"dk overlap", BWD, FA_ERR_INVALID_ARGUMENT, "dk strides", [](Fixture& f) { f.p.dk_head_stride = 16; }},
        {"cu_seqlens_k missing", FWD, FA_ERR_INVALID_ARGUMENT, "cu_seqlens_k is NULL",
         [](Fixture& f) { f.p.cu_seqlens_q = f.cu; }},
        {"cu_seqlens decreasing", FWD, FA_ERR_INVALID_ARGUMENT, "cu_seqlens_q[2] (4) is less than cu_seqlens_q[1] (10)",
         [](Fixture& f) { f.cu[2] = 4, f.p.cu_seqlens_q = f.cu, f.p.cu_seqlens_k = f.cu; }},
        {"cu_seqlens too long", FWD, FA_ERR_INVALID_ARGUMENT, "seqlen_q (8)",
         [](Fixture& f) { f.p.seqlen_q = 8, f.p.cu_seqlens_q = f.cu, f.p.cu_seqlens_k = f.cu; }},
        {"cuda named on cpu", FWD, FA_ERR_INVALID_ARGUMENT, "backend CUDA_SM80 needs device_type CUDA",
         [](Fixture& f) { f.p.backend = FA_BACKEND_CUDA_SM80; }},
        {"device_index", FWD, FA_ERR_INVALID_ARGUMENT, "device_index (-2)",
         [](Fixture& f) { f.p.device_type = FA_DEVICE_CUDA, f.p.device_index = -2; }},
        {"cpu named on cuda", WORKSPACE, FA_ERR_INVALID_ARGUMENT, "backend CPU needs device_type CPU",
         [](Fixture& f) { f.p.device_type = FA_DEVICE_CUDA, f.p.backend = FA_BACKEND_CPU; }},
    };
    int failed = 0;
    for (const Expect& e : expects) {
        Fixture f;
        e.mutate(f);
        const fa_status got = call(e.call, &f.p);
        const char* msg = fa_last_error();
        const bool ok = got == e.status && std::strstr(msg, e.message) != nullptr;
        std::printf("%s %-22s -> %d \"%s\"\n", ok ? "ok  " : "FAIL", e.what, static_cast<int>(got), msg);
        failed += ok ? 0 : 1;
    }

    // Calls without CUDA: a clean status, never a crash.
    int32_t count = -1;
    void* ptr = &count;
    const bool has_cuda = (fa_capabilities() & FA_CAP_CUDA_SM80) != 0;
    {
        Fixture f;
        f.p.device_type = FA_DEVICE_CUDA;
        const fa_status s = fa_mha_fwd(&f.p);
        const bool ok = has_cuda ? s != FA_OK : s == FA_ERR_BACKEND_UNAVAILABLE;
        std::printf("%s cuda device, host ptrs -> %d \"%s\"\n", ok ? "ok  " : "FAIL", static_cast<int>(s), fa_last_error());
        failed += ok ? 0 : 1;
    }
    if (!has_cuda) {
        const bool ok = fa_cuda_device_count(&count) == FA_OK && count == 0 &&
                        fa_cuda_malloc(0, 16, &ptr) == FA_ERR_BACKEND_UNAVAILABLE && ptr == nullptr &&
                        fa_cuda_synchronize(0) == FA_ERR_BACKEND_UNAVAILABLE;
        std::printf("%s cuda helpers without CUDA\n", ok ? "ok  " : "FAIL");
        failed += ok ? 0 : 1;
    }
    {
        const bool ok = fa_mha_fwd(nullptr) == FA_ERR_INVALID_ARGUMENT && std::strstr(fa_last_error(), "params") &&
                        fa_cuda_device_count(nullptr) == FA_ERR_INVALID_ARGUMENT;
        std::printf("%s NULL params / out-pointers\n", ok ? "ok  " : "FAIL");
        failed += ok ? 0 : 1;
    }
    {  // A valid call succeeds, selects the CPU, needs no workspace and clears the previous message.
        Fixture f;
        int32_t backend = -1;
        uint64_t bytes = 1;
        const bool ok = fa_select_backend(&f.p, 1, &backend) == FA_OK && backend == FA_BACKEND_CPU &&
                        fa_mha_bwd_workspace_size(&f.p, &bytes) == FA_OK && bytes == 0 &&
                        fa_mha_fwd(&f.p) == FA_OK && fa_last_error()[0] == '\0' && fa_mha_bwd(&f.p) == FA_OK;
        std::printf("%s valid call: backend %d, workspace %llu, version \"%s\", abi %u, caps 0x%x, threads %d\n",
                    ok ? "ok  " : "FAIL", backend, static_cast<unsigned long long>(bytes), fa_version_string(),
                    fa_abi_version(), fa_capabilities(), fa_cpu_get_num_threads());
        failed += ok ? 0 : 1;
    }
    std::printf("%s: %d failure(s)\n", failed ? "FAILED" : "PASSED", failed);
    return failed ? 1 : 0;
}
