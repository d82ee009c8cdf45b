// Forward and backward against the float64 reference over shapes that exercise every path: GQA/MQA,
// causal with seqlen_q != seqlen_k (including fully masked rows), odd lengths, head_dim 1..256, strided
// layouts, variable length, each dtype, FP8 forward, and the chunked (dq partial) backward.
#include "reference.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace {

struct Case {
    const char* name;
    int dtype;
    int batch, sq, sk, hq, hkv, d;
    bool causal;
    bool backward = true;
    int64_t pad = 0;
    bool heads_major = false;
    std::vector<std::pair<int, int>> varlen = {};  // per-sequence (sq, sk); sq/sk are then the maxima
    bool deterministic = false;
    float scale = 0.0f;
};

double tolerance(int dtype) {
    switch (dtype) {
    case FA_DTYPE_FLOAT32: return 5e-5;
    case FA_DTYPE_FLOAT16: return 4e-3;
    default: return 3e-2;  // bfloat16 (and FP8 inputs, whose output is bfloat16)
    }
}

struct Err {
    double max_abs = 0, max_ref = 0;
    bool bad = false;  // NaN, or -inf where a finite value is expected (or the reverse)
    // Relative to the largest reference value, but never to one below `floor`: with one or two keys the
    // exact dq and dk nearly cancel (dS = P (dP - delta), 0 for a single key) and only rounding at the
    // scale of the other gradients remains.
    double floor = 0.05;
    double rel() const { return max_abs / std::max(max_ref, floor); }
};

void accumulate(Err& e, double got, double want) {
    if (std::isnan(got) || std::isinf(got) != std::isinf(want)) {
        e.bad = true;
        return;
    }
    if (std::isinf(want)) return;
    e.max_abs = std::max(e.max_abs, std::fabs(got - want));
    e.max_ref = std::max(e.max_ref, std::fabs(want));
}

Err compare(const Tensor& t, const std::vector<double>& ref) {
    Err e;
    for (int64_t b = 0; b < t.batch; ++b)
        for (int64_t r = 0; r < t.rows; ++r)
            for (int64_t h = 0; h < t.heads; ++h)
                for (int64_t d = 0; d < t.dim; ++d)
                    accumulate(e, t.get(b, r, h, d), ref[static_cast<size_t>(((b * t.rows + r) * t.heads + h) * t.dim + d)]);
    return e;
}

struct Run {
    Tensor q, k, v, out, dout, dq, dk, dv;
    std::vector<float> lse;
    std::vector<int32_t> cu_q, cu_k;
    std::vector<RefSeq> seqs;
    fa_params p;
};

Run setup(const Case& c, unsigned seed) {
    Run r;
    std::mt19937 rng(seed);
    const bool varlen = !c.varlen.empty();
    int64_t batch = c.batch, rows_q = c.sq, rows_k = c.sk;
    if (varlen) {
        r.cu_q = {0};
        r.cu_k = {0};
        for (auto [a, b] : c.varlen) {
            r.seqs.push_back(RefSeq{0, r.cu_q.back(), a, 0, r.cu_k.back(), b});
            r.cu_q.push_back(r.cu_q.back() + a);
            r.cu_k.push_back(r.cu_k.back() + b);
        }
        batch = 1, rows_q = std::max(1, r.cu_q.back()), rows_k = std::max(1, r.cu_k.back());
    } else {
        for (int b = 0; b < c.batch; ++b) r.seqs.push_back(RefSeq{b, 0, c.sq, b, 0, c.sk});
    }
    const int out_dtype = c.dtype == FA_DTYPE_FLOAT8_E4M3 ? FA_DTYPE_BFLOAT16 : c.dtype;
    r.q = Tensor::make(c.dtype, batch, rows_q, c.hq, c.d, c.pad, c.heads_major);
    r.k = Tensor::make(c.dtype, batch, rows_k, c.hkv, c.d, c.pad, c.heads_major);
    r.v = Tensor::make(c.dtype, batch, rows_k, c.hkv, c.d, 0, c.heads_major);
    r.out = Tensor::make(out_dtype, batch, rows_q, c.hq, c.d, c.pad, false);
    r.dout = Tensor::make(out_dtype, batch, rows_q, c.hq, c.d, 0, c.heads_major);
    r.dq = Tensor::make(out_dtype, batch, rows_q, c.hq, c.d, c.pad, false);
    r.dk = Tensor::make(out_dtype, batch, rows_k, c.hkv, c.d, 0, c.heads_major);
    r.dv = Tensor::make(out_dtype, batch, rows_k, c.hkv, c.d, c.pad, false);
    r.q.fill_random(rng, -1.5, 1.5);
    r.k.fill_random(rng, -1.5, 1.5);
    r.v.fill_random(rng, -1, 1);
    r.dout.fill_random(rng, -1, 1);
    // Poison the outputs: every element must be written.
    r.out.fill(777), r.dq.fill(777), r.dk.fill(777), r.dv.fill(777);
    r.lse.assign(static_cast<size_t>(batch * rows_q * c.hq), 777.0f);

    fa_params_init(&r.p);
    fa_params& p = r.p;
    bind_qkv(p, r.q, r.k, r.v, r.out);
    bind_grads(p, r.dout, r.dq, r.dk, r.dv);
    p.softmax_lse = r.lse.data();
    p.batch = c.batch, p.seqlen_q = c.sq, p.seqlen_k = c.sk;
    p.num_heads_q = c.hq, p.num_heads_kv = c.hkv, p.head_dim = c.d;
    p.dtype = c.dtype, p.out_dtype = out_dtype;
    p.causal = c.causal, p.deterministic = c.deterministic;
    p.softmax_scale = c.scale;
    if (c.dtype == FA_DTYPE_FLOAT8_E4M3) p.q_descale = 0.5f, p.k_descale = 2.0f, p.v_descale = 1.5f;
    if (varlen) p.cu_seqlens_q = r.cu_q.data(), p.cu_seqlens_k = r.cu_k.data();
    return r;
}

// lse from the library's layout into the reference's ((b * rows + r) * heads + h).
std::vector<double> lse_as_ref(const Run& r, const Case& c) {
    std::vector<double> out(r.lse.size());
    const int64_t rows = r.q.rows;
    for (int64_t b = 0; b < r.q.batch; ++b)
        for (int64_t row = 0; row < rows; ++row)
            for (int64_t h = 0; h < c.hq; ++h) {
                const size_t lib = c.varlen.empty() ? static_cast<size_t>((b * c.hq + h) * rows + row)
                                                    : static_cast<size_t>(h * rows + row);
                out[static_cast<size_t>((b * rows + row) * c.hq + h)] = r.lse[lib];
            }
    return out;
}

bool run_case(const Case& c, unsigned seed) {
    Run r = setup(c, seed);
    fa_params& p = r.p;
    if (fa_mha_fwd(&p) != FA_OK) {
        std::printf("FAIL %-34s forward: %s\n", c.name, fa_last_error());
        return false;
    }
    const double scale = c.scale != 0 ? c.scale : 1.0 / std::sqrt(static_cast<double>(c.d));
    const RefResult ref = reference(r.q, r.k, r.v, c.backward ? &r.dout : nullptr, r.seqs, scale, c.causal,
                                    p.q_descale, p.k_descale, p.v_descale);
    // Rows of the packed varlen tensors outside every sequence do not exist; none here (packed tight).
    const double tol = tolerance(c.dtype);
    Err e_out = compare(r.out, ref.out);
    Err e_lse;
    const std::vector<double> lse = lse_as_ref(r, c);
    for (size_t i = 0; i < lse.size(); ++i) accumulate(e_lse, lse[i], ref.lse[i]);
    bool ok = !e_out.bad && !e_lse.bad && e_out.rel() <= tol && e_lse.max_abs <= 1e-4;
    char line[256];
    int n = std::snprintf(line, sizeof line, "%-34s out %.2e lse %.2e", c.name, e_out.rel(), e_lse.max_abs);
    if (c.backward) {
        if (fa_mha_bwd(&p) != FA_OK) {
            std::printf("FAIL %s | backward: %s\n", line, fa_last_error());
            return false;
        }
        Err eq = compare(r.dq, ref.dq), ek = compare(r.dk, ref.dk);
        const Err ev = compare(r.dv, ref.dv);
        eq.floor = ek.floor = std::max(0.05, 0.05 * ev.max_ref);
        ok = ok && !eq.bad && !ek.bad && !ev.bad && eq.rel() <= tol && ek.rel() <= tol && ev.rel() <= tol;
        std::snprintf(line + n, sizeof line - static_cast<size_t>(n), " | dq %.2e dk %.2e dv %.2e%s", eq.rel(), ek.rel(),
                      ev.rel(), eq.bad || ek.bad || ev.bad ? " (NaN/inf)" : "");
    }
    std::printf("%s %s  (tol %.0e)%s\n", ok ? "ok  " : "FAIL", line, tol, e_out.bad || e_lse.bad ? " (NaN/inf)" : "");
    return ok;
}

// The backward twice with 1 and with 2+ threads must agree bit for bit when deterministic.
bool run_determinism() {
    Case c{"deterministic", FA_DTYPE_FLOAT32, 1, 300, 333, 4, 1, 64, true};
    c.deterministic = true;
    Run r = setup(c, 99);
    const int saved = fa_cpu_get_num_threads();
    std::vector<unsigned char> first;
    bool ok = true;
    for (int threads : {1, 3, 1}) {
        fa_cpu_set_num_threads(threads);
        if (fa_mha_fwd(&r.p) != FA_OK || fa_mha_bwd(&r.p) != FA_OK) {
            std::printf("FAIL determinism: %s\n", fa_last_error());
            ok = false;
            break;
        }
        std::vector<unsigned char> now = r.dq.bytes;
        now.insert(now.end(), r.dk.bytes.begin(), r.dk.bytes.end());
        if (first.empty()) first = now;
        else if (now != first) ok = false;
    }
    fa_cpu_set_num_threads(saved);
    std::printf("%s deterministic backward is bitwise reproducible across thread counts\n", ok ? "ok  " : "FAIL");
    return ok;
}

}  // namespace

// Random shapes, dtypes, layouts and thread counts: finds the edge cases nobody listed.
int run_fuzz(int count, unsigned seed) {
    std::mt19937 rng(seed);
    const auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    std::deque<std::string> names;
    int failed = 0;
    const int saved = fa_cpu_get_num_threads();
    for (int i = 0; i < count; ++i) {
        Case c{"", FA_DTYPE_FLOAT32, 1, 1, 1, 1, 1, 1, false};
        c.dtype = pick(0, 3);
        c.backward = c.dtype != FA_DTYPE_FLOAT8_E4M3;
        c.hkv = pick(1, 3);
        c.hq = c.hkv * pick(1, 3);
        c.d = pick(0, 3) == 0 ? pick(1, 256) : 8 * pick(1, 32);
        c.causal = pick(0, 1);
        c.pad = pick(0, 2) == 0 ? pick(1, 40) : 0;
        c.heads_major = pick(0, 3) == 0;
        c.deterministic = pick(0, 3) == 0;
        const int budget = 400000 / c.d;  // keeps the float64 reference quick
        if (pick(0, 3) == 0) {
            const int n = pick(1, 4);
            for (int b = 0; b < n; ++b) c.varlen.push_back({pick(0, 200), pick(0, 200)});
            c.batch = n;
            c.sq = c.sk = 1;
            for (auto [a, b] : c.varlen) c.sq = std::max(c.sq, a), c.sk = std::max(c.sk, b);
        } else {
            c.batch = pick(1, 3);
            c.sq = pick(1, 300);
            c.sk = pick(1, std::max(1, std::min(700, budget / std::max(1, c.sq))));
        }
        const int threads = pick(1, 9);
        fa_cpu_set_num_threads(threads);
        char name[160];
        std::snprintf(name, sizeof name, "fuzz %d dt%d b%d %dx%d h%d/%d d%d%s%s t%d", i, c.dtype, c.batch, c.sq, c.sk,
                      c.hq, c.hkv, c.d, c.causal ? " causal" : "", c.varlen.empty() ? "" : " varlen", threads);
        names.emplace_back(name);
        c.name = names.back().c_str();
        failed += run_case(c, seed * 1000 + static_cast<unsigned>(i)) ? 0 : 1;
    }
    fa_cpu_set_num_threads(saved);
    std::printf("%s: %d failure(s) in %d random cases\n", failed ? "FAILED" : "PASSED", failed, count);
    return failed ? 1 : 0;
}

int run_accuracy() {
    const int F32 = FA_DTYPE_FLOAT32, F16 = FA_DTYPE_FLOAT16, B16 = FA_DTYPE_BFLOAT16, F8 = FA_DTYPE_FLOAT8_E4M3;
    std::vector<Case> cases = {
        {"fp32 mha 128x128 d64", F32, 2, 128, 128, 4, 4, 64, false},
        {"fp32 gqa causal 77x131 d40", F32, 1, 77, 131, 6, 2, 40, true},
        {"fp32 mqa causal 200x90 d128 (masked)", F32, 2, 200, 90, 2, 1, 128, true},
        {"fp32 d1 1x1", F32, 1, 1, 1, 1, 1, 1, false},
        {"fp32 d1 causal 5x3", F32, 1, 5, 3, 2, 1, 1, true},
        {"fp32 d256 causal 70x70", F32, 1, 70, 70, 2, 2, 256, true},
        {"fp32 decode causal 3x300 d8", F32, 2, 3, 300, 4, 2, 8, true},
        {"fp16 gqa causal 100x100 d64 padded", F16, 2, 100, 100, 4, 2, 64, true, true, 24},
        {"bf16 65x257 d96 heads-major", B16, 1, 65, 257, 3, 3, 96, false, true, 0, true},
        {"bf16 causal 129x64 d80", B16, 2, 129, 64, 2, 2, 80, true},
        {"fp32 scale 0.3 130x70 d16", F32, 1, 130, 70, 1, 1, 16, false},
        {"fp16 d200 causal 90x40 padded", F16, 1, 90, 40, 2, 1, 200, true, true, 7},
        {"fp8 fwd 96x160 d64 (out bf16)", F8, 2, 96, 160, 4, 2, 64, false, false},
        {"fp8 fwd causal 50x50 d128", F8, 1, 50, 50, 2, 2, 128, true, false},
    };
    cases[10].scale = 0.3f;  // the "scale 0.3" case
    Case v1{"fp16 varlen causal gqa d32", F16, 4, 130, 65, 4, 2, 32, true};
    v1.varlen = {{5, 7}, {64, 64}, {0, 3}, {130, 65}};
    Case v2{"bf16 varlen d72", B16, 3, 90, 200, 2, 1, 72, false};
    v2.varlen = {{90, 200}, {1, 1}, {33, 0}};
    Case v3{"fp32 varlen causal chunked", F32, 2, 200, 260, 2, 2, 48, true};
    v3.varlen = {{200, 260}, {17, 130}};
    v3.deterministic = true;
    Case ch{"fp32 chunked bwd 300x333 mqa", F32, 1, 300, 333, 4, 1, 64, false};
    ch.deterministic = true;  // 32 items wanted, 1 kv head: the keys are split into chunks
    // d 256 holds 2048 keys per item at once: with one thread (one range per kv head) 2100 keys take
    // two slices, whose dq is summed in fp32.
    cases.push_back(Case{"fp32 d256 sliced keys 20x2100", F32, 2, 20, 2100, 4, 2, 256, true});
    cases.push_back(v1);
    cases.push_back(v2);
    cases.push_back(v3);
    cases.push_back(ch);

    // One thread gives the forward its largest row blocks, many threads its smallest and the backward
    // the most key chunks: both paths get checked.
    int failed = 0;
    const int saved = fa_cpu_get_num_threads();
    for (int threads : {1, 24}) {
        fa_cpu_set_num_threads(threads);
        std::printf("-- %d thread(s)\n", threads);
        unsigned seed = 1;
        for (const Case& c : cases) failed += run_case(c, seed++) ? 0 : 1;
    }
    fa_cpu_set_num_threads(saved);
    failed += run_determinism() ? 0 : 1;
    std::printf("%s: %d failure(s)\n", failed ? "FAILED" : "PASSED", failed);
    return failed ? 1 : 0;
}
