#include "cpu/plan_build.h"

#include <algorithm>
#include <cmath>

namespace fa::cpu {

namespace {

// FLOAT8_E4M3 (the "fn" variant: no infinities, S.1111.111 is NaN): bias 7, 3 mantissa bits.
struct Fp8Table {
    float value[256];
    Fp8Table() {
        for (int i = 0; i < 256; ++i) {
            const int e = (i >> 3) & 15, m = i & 7;
            float mag;
            if (e == 15 && m == 7)
                mag = std::nanf("");
            else if (e == 0)
                mag = std::ldexp(static_cast<float>(m), -9);  // subnormal: m/8 * 2^-6
            else
                mag = std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 7);
            value[i] = (i & 0x80) ? -mag : mag;
        }
    }
};

const float* fp8_table() {
    static const Fp8Table table;
    return table.value;
}

}  // namespace

void build_plan(const fa_params& p, PlanStorage* st) {
    const bool varlen = p.cu_seqlens_q != nullptr;
    st->seqs.resize(static_cast<size_t>(p.batch));
    int32_t max_sq = 1, max_sk = 1;
    for (int32_t b = 0; b < p.batch; ++b) {
        Seq& s = st->seqs[static_cast<size_t>(b)];
        if (varlen) {
            s.q_row0 = p.cu_seqlens_q[b];
            s.k_row0 = p.cu_seqlens_k[b];
            s.sq = p.cu_seqlens_q[b + 1] - p.cu_seqlens_q[b];
            s.sk = p.cu_seqlens_k[b + 1] - p.cu_seqlens_k[b];
            s.lse0 = s.q_row0;
            s.grow0 = s.q_row0;
        } else {
            s.q_row0 = s.k_row0 = 0;
            s.sq = p.seqlen_q;
            s.sk = p.seqlen_k;
            s.lse0 = static_cast<int64_t>(b) * p.num_heads_q * p.seqlen_q;
            s.grow0 = static_cast<int64_t>(b) * p.seqlen_q;
        }
        max_sq = std::max(max_sq, s.sq);
        max_sk = std::max(max_sk, s.sk);
    }

    Plan& plan = st->plan;
    plan = Plan{};
    plan.p = &p;
    plan.seqs = st->seqs.data();
    const auto bs = [&](int64_t stride) { return varlen ? int64_t{0} : stride; };
    plan.bs_q = bs(p.q_batch_stride);
    plan.bs_k = bs(p.k_batch_stride);
    plan.bs_v = bs(p.v_batch_stride);
    plan.bs_out = bs(p.out_batch_stride);
    plan.bs_dout = bs(p.dout_batch_stride);
    plan.bs_dq = bs(p.dq_batch_stride);
    plan.bs_dk = bs(p.dk_batch_stride);
    plan.bs_dv = bs(p.dv_batch_stride);
    plan.total_q_rows = varlen ? p.cu_seqlens_q[p.batch] : static_cast<int64_t>(p.batch) * p.seqlen_q;
    plan.lse_head_stride = varlen ? plan.total_q_rows : p.seqlen_q;
    plan.batch = p.batch;
    plan.hq = p.num_heads_q;
    plan.hkv = p.num_heads_kv;
    plan.group = p.num_heads_q / p.num_heads_kv;
    plan.d = p.head_dim;
    plan.dp = (p.head_dim + 15) / 16 * 16;
    plan.max_sq = max_sq;
    plan.max_sk = max_sk;
    plan.fp8_table = fp8_table();
    plan.chunks = 1;
    plan.chunk_keys = kBlockK;
    plan.fwd_rows = kBlockQ;
}

}  // namespace fa::cpu
