// Timing of the CPU backend: batch 1, 8 heads, non-causal unless asked, best of a few runs.
// FLOPs: forward 4 * b * h * sq * sk * d, backward 2.5x that (causal: half of each).
#include "tensor.h"

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int run_bench(int argc, char** argv) {
    std::vector<int> seqlens = {1024, 4096};
    std::vector<int> dims = {64, 128};
    std::vector<int> dtypes = {FA_DTYPE_FLOAT32, FA_DTYPE_BFLOAT16};
    bool causal = false, backward = true;
    int reps = 3;
    for (int i = 0; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "causal") causal = true;
        else if (a == "fwd") backward = false;
        else if (a.rfind("s=", 0) == 0) seqlens = {std::atoi(a.c_str() + 2)};
        else if (a.rfind("d=", 0) == 0) dims = {std::atoi(a.c_str() + 2)};
        else if (a.rfind("t=", 0) == 0) fa_cpu_set_num_threads(std::atoi(a.c_str() + 2));
        else if (a.rfind("r=", 0) == 0) reps = std::atoi(a.c_str() + 2);
        else if (a == "fp32") dtypes = {FA_DTYPE_FLOAT32};
        else if (a == "bf16") dtypes = {FA_DTYPE_BFLOAT16};
        else if (a == "fp16") dtypes = {FA_DTYPE_FLOAT16};
    }
    const int b = 1, h = 8;
    std::printf("threads %d, %s\n", fa_cpu_get_num_threads(), causal ? "causal" : "non-causal");
    for (int dtype : dtypes)
        for (int s : seqlens)
            for (int d : dims) {
                Tensor q = Tensor::make(dtype, b, s, h, d), k = Tensor::make(dtype, b, s, h, d);
                Tensor v = Tensor::make(dtype, b, s, h, d), out = Tensor::make(dtype, b, s, h, d);
                Tensor dout = Tensor::make(dtype, b, s, h, d), dq = Tensor::make(dtype, b, s, h, d);
                Tensor dk = Tensor::make(dtype, b, s, h, d), dv = Tensor::make(dtype, b, s, h, d);
                std::mt19937 rng(5);
                q.fill_random(rng, -1, 1), k.fill_random(rng, -1, 1), v.fill_random(rng, -1, 1);
                dout.fill_random(rng, -1, 1);
                std::vector<float> lse(static_cast<size_t>(b * h * s));
                fa_params p;
                fa_params_init(&p);
                bind_qkv(p, q, k, v, out);
                bind_grads(p, dout, dq, dk, dv);
                p.softmax_lse = lse.data();
                p.batch = b, p.seqlen_q = s, p.seqlen_k = s, p.num_heads_q = h, p.num_heads_kv = h, p.head_dim = d;
                p.dtype = p.out_dtype = dtype;
                p.causal = causal;
                // Wall time, and process CPU time (all threads): on a shared machine the second shows
                // what one core achieves while it actually runs.
                double best_f = 1e30, best_b = 1e30, cpu_f = 1e30, cpu_b = 1e30;
                for (int r = 0; r < reps; ++r) {
                    const std::clock_t c0 = std::clock();
                    auto t0 = std::chrono::steady_clock::now();
                    if (fa_mha_fwd(&p) != FA_OK) { std::printf("fwd failed: %s\n", fa_last_error()); return 1; }
                    auto t1 = std::chrono::steady_clock::now();
                    const std::clock_t c1 = std::clock();
                    if (backward && fa_mha_bwd(&p) != FA_OK) { std::printf("bwd failed: %s\n", fa_last_error()); return 1; }
                    auto t2 = std::chrono::steady_clock::now();
                    const std::clock_t c2 = std::clock();
                    best_f = std::min(best_f, std::chrono::duration<double>(t1 - t0).count());
                    best_b = std::min(best_b, std::chrono::duration<double>(t2 - t1).count());
                    cpu_f = std::min(cpu_f, static_cast<double>(c1 - c0) / CLOCKS_PER_SEC);
                    cpu_b = std::min(cpu_b, static_cast<double>(c2 - c1) / CLOCKS_PER_SEC);
                }
                const double flops = 4.0 * b * h * s * static_cast<double>(s) * d * (causal ? 0.5 : 1.0);
                std::printf("%-5s s=%-5d d=%-3d  fwd %8.2f ms %6.1f GFLOP/s (%6.1f per core)   "
                            "bwd %8.2f ms %6.1f GFLOP/s (%6.1f per core)\n",
                            dtype == FA_DTYPE_FLOAT32 ? "fp32" : dtype == FA_DTYPE_BFLOAT16 ? "bf16" : "fp16", s, d,
                            best_f * 1e3, flops / best_f * 1e-9, flops / cpu_f * 1e-9, best_b * 1e3,
                            2.5 * flops / best_b * 1e-9, 2.5 * flops / cpu_b * 1e-9);
            }
    return 0;
}
