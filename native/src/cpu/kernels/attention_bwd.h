// Backward, FlashAttention-2 style. One work item owns a chunk of keys of one kv head: it keeps K, V
// and the fp32 dK, dV accumulators of the chunk, and sweeps every query head of its group and every
// query tile that sees the chunk, recomputing P = exp(scale * S - lse) tile by tile:
//   dV += P^T dO,  dP = dO V^T,  dS = P * (dP - delta),  dK += dS^T Q,  dQ += dS K  (dQ, dK times scale).
// No two items write the same dK/dV rows. dQ of a query tile is complete within an item when there is
// one chunk per sequence; with several, each item writes its own fp32 partial and a reduction adds them
// in chunk order, so the result does not depend on thread timing.
// As in the forward, P and dS are key-major tiles (x[c * BR + r]).

inline size_t bwd_chunk_keys(const Plan& P) {
    const int32_t tiles = (P.max_sk + BC - 1) / BC;
    return static_cast<size_t>((tiles + P.chunks - 1) / P.chunks) * BC;
}

inline size_t bwd_scratch(const Plan& P) {
    const size_t dp = static_cast<size_t>(P.dp);
    return round16(bwd_chunk_keys(P) * dp) * 4 + round16(BR * dp) * 5 + round16(BC * BR) * 2 + round16(BR) * 2;
}

// delta[r] = rowsum(dout * out), the correction term of dS, from the stored (rounded) out.
inline void bwd_delta_rows(const Plan& P, const RowsItem& it, float* ws) {
    const fa_params& p = *P.p;
    const Seq& s = P.seqs[it.b];
    float* a = carve(ws, P.dp);
    float* b = carve(ws, P.dp);
    const HeadRows dout = head_rows(p.dout, p.out_dtype, it.b * P.bs_dout, s.q_row0, p.dout_row_stride,
                                    it.h * p.dout_head_stride);
    const HeadRows out = head_rows(p.out, p.out_dtype, it.b * P.bs_out, s.q_row0, p.out_row_stride,
                                   it.h * p.out_head_stride);
    float* delta = P.delta + s.lse0 + it.h * P.lse_head_stride;
    for (int r = it.q0; r < it.q0 + it.nq; ++r) {
        load_row(dout.row(r), p.out_dtype, P.d, 1.0f, P.fp8_table, a, P.dp);
        load_row(out.row(r), p.out_dtype, P.d, 1.0f, P.fp8_table, b, P.dp);
        delta[r] = dot_padded(a, b, P.dp);
    }
}

inline float* dq_partial_row(const Plan& P, int32_t chunk, int32_t h, int64_t grow) {
    return P.dq_partial + ((static_cast<int64_t>(chunk) * P.hq + h) * P.total_q_rows + grow) * P.dp;
}

// Writes rows [q0, q0 + nq) of dQ (tile dq, already scaled; NULL for zeros) to the output or, with
// several chunks, to this chunk's partial.
inline void bwd_write_dq(const Plan& P, const Seq& s, int32_t b, int32_t h, int32_t chunk, int64_t q0, int nq,
                         const float* dq) {
    const fa_params& p = *P.p;
    const int dp = P.dp;
    for (int r = 0; r < nq; ++r) {
        const float* src = dq ? dq + static_cast<size_t>(r) * dp : nullptr;
        if (P.chunks == 1) {
            void* row = elem(p.dq, p.out_dtype, b * P.bs_dq + (s.q_row0 + q0 + r) * p.dq_row_stride + h * p.dq_head_stride);
            if (src) {
                store_row(row, p.out_dtype, P.d, src, 1.0f);
            } else {
                __builtin_memset(row, 0, static_cast<size_t>(P.d) * dtype_bytes(p.out_dtype));
            }
        } else {
            float* dst = dq_partial_row(P, chunk, h, s.grow0 + q0 + r);
            for (int i = 0; i < dp; ++i) dst[i] = src ? src[i] : 0.0f;
        }
    }
}

inline void bwd_chunk(const Plan& P, const BwdItem& it, float* ws) {
    const fa_params& p = *P.p;
    const Seq& s = P.seqs[it.b];
    const int dp = P.dp, d = P.d, kvh = it.kvh;
    int32_t kb0 = 0, kb1 = 0;
    chunk_range(s.sk, P.chunks, it.chunk, &kb0, &kb1);
    const int nkc = kb1 - kb0;
    const size_t kc_cap = bwd_chunk_keys(P);
    float* kc = carve(ws, kc_cap * dp);
    float* vc = carve(ws, kc_cap * dp);
    float* dkc = carve(ws, kc_cap * dp);
    float* dvc = carve(ws, kc_cap * dp);
    float* qrow = carve(ws, BR * dp);
    float* qt = carve(ws, BR * dp);
    float* dorow = carve(ws, BR * dp);
    float* dot = carve(ws, BR * dp);
    float* dqacc = carve(ws, BR * dp);
    float* pt = carve(ws, BC * BR);
    float* dst = carve(ws, BC * BR);
    float* lse2 = carve(ws, BR);
    float* dl = carve(ws, BR);

    const HeadRows k = head_rows(p.k, p.dtype, it.b * P.bs_k, s.k_row0, p.k_row_stride, kvh * p.k_head_stride);
    const HeadRows v = head_rows(p.v, p.dtype, it.b * P.bs_v, s.k_row0, p.v_row_stride, kvh * p.v_head_stride);
    load_rows(k, kb0, nkc, d, dp, 1.0f, P.fp8_table, kc);
    load_rows(v, kb0, nkc, d, dp, 1.0f, P.fp8_table, vc);
    for (size_t i = 0; i < static_cast<size_t>(nkc) * dp; ++i) dkc[i] = 0.0f, dvc[i] = 0.0f;

    const float scale = p.softmax_scale;
    const int64_t diag = static_cast<int64_t>(s.sk) - s.sq;
    const float pinf = __builtin_inff();
    for (int hh = 0; hh < P.group; ++hh) {
        const int h = kvh * P.group + hh;
        const HeadRows q = head_rows(p.q, p.dtype, it.b * P.bs_q, s.q_row0, p.q_row_stride, h * p.q_head_stride);
        const HeadRows dout = head_rows(p.dout, p.out_dtype, it.b * P.bs_dout, s.q_row0, p.dout_row_stride,
                                        h * p.dout_head_stride);
        const float* lse = p.softmax_lse + s.lse0 + h * P.lse_head_stride;
        const float* delta = P.delta + s.lse0 + h * P.lse_head_stride;
        for (int64_t q0 = 0; q0 < s.sq; q0 += BR) {
            const int nq = static_cast<int>(s.sq - q0 < BR ? s.sq - q0 : BR);
            int64_t kend = kb1;
            if (p.causal && q0 + nq + diag < kend) kend = q0 + nq + diag;
            if (kend <= kb0) {  // the tile sees no key of this chunk
                bwd_write_dq(P, s, it.b, h, it.chunk, q0, nq, nullptr);
                continue;
            }
            load_rows(q, q0, nq, d, dp, 1.0f, P.fp8_table, qrow);
            transpose_tile(qrow, nq, dp, scale * kLog2e, qt, BR);
            load_rows(dout, q0, nq, d, dp, 1.0f, P.fp8_table, dorow);
            transpose_tile(dorow, nq, dp, 1.0f, dot, BR);
            for (int r = 0; r < BR; ++r) {
                // lse = -inf marks a row that saw no key: +inf here makes all its probabilities 0.
                const bool live = r < nq && lse[q0 + r] != -pinf;
                lse2[r] = live ? lse[q0 + r] * kLog2e : pinf;
                dl[r] = r < nq ? delta[q0 + r] : 0.0f;
            }
            const int nqv = (nq + FA_W - 1) / FA_W, ncols = nqv * FA_W;
            for (size_t i = 0; i < static_cast<size_t>(nq) * dp; ++i) dqacc[i] = 0.0f;

            for (int64_t k0 = kb0; k0 < kend; k0 += BC) {
                const int nk = static_cast<int>(kend - k0 < BC ? kend - k0 : BC);
                const size_t off = static_cast<size_t>(k0 - kb0) * dp;
                float *kj = kc + off, *vj = vc + off, *dkj = dkc + off, *dvj = dvc + off;
                gemm(nk, ncols, dp, kj, dp, 1, qt, BR, pt, BR, false);
                if (p.causal && k0 + nk - 1 > q0 + diag) mask_causal(pt, BR, nk, ncols, k0, q0, diag);
                for (int c = 0; c < nk; ++c)
                    for (int j = 0; j < ncols; j += FA_W)
                        vstore(pt + c * BR + j, vexp2(vload(pt + c * BR + j) - vload(lse2 + j)));
                gemm(nk, dp, nq, pt, BR, 1, dorow, dp, dvj, dp, true);
                gemm(nk, ncols, dp, vj, dp, 1, dot, BR, dst, BR, false);
                for (int c = 0; c < nk; ++c)
                    for (int j = 0; j < ncols; j += FA_W)
                        vstore(dst + c * BR + j, vload(pt + c * BR + j) * (vload(dst + c * BR + j) - vload(dl + j)));
                gemm(nk, dp, nq, dst, BR, 1, qrow, dp, dkj, dp, true);
                gemm(nq, dp, nk, dst, 1, BR, kj, dp, dqacc, dp, true);
            }
            for (size_t i = 0; i < static_cast<size_t>(nq) * dp; ++i) dqacc[i] *= scale;
            bwd_write_dq(P, s, it.b, h, it.chunk, q0, nq, dqacc);
        }
    }

    const int64_t dk_base = it.b * P.bs_dk + kvh * p.dk_head_stride;
    const int64_t dv_base = it.b * P.bs_dv + kvh * p.dv_head_stride;
    for (int c = 0; c < nkc; ++c) {
        const int64_t row = s.k_row0 + kb0 + c;
        store_row(elem(p.dk, p.out_dtype, dk_base + row * p.dk_row_stride), p.out_dtype, d, dkc + static_cast<size_t>(c) * dp, scale);
        store_row(elem(p.dv, p.out_dtype, dv_base + row * p.dv_row_stride), p.out_dtype, d, dvc + static_cast<size_t>(c) * dp, 1.0f);
    }
}

// dq = sum over chunks of the partials, in chunk order.
inline void bwd_dq_reduce_rows(const Plan& P, const RowsItem& it, float* ws) {
    const fa_params& p = *P.p;
    const Seq& s = P.seqs[it.b];
    float* acc = carve(ws, P.dp);
    for (int r = it.q0; r < it.q0 + it.nq; ++r) {
        const int64_t grow = s.grow0 + r;
        const float* first = dq_partial_row(P, 0, it.h, grow);
        for (int i = 0; i < P.dp; ++i) acc[i] = first[i];
        for (int c = 1; c < P.chunks; ++c) {
            const float* part = dq_partial_row(P, c, it.h, grow);
            for (int i = 0; i < P.dp; ++i) acc[i] += part[i];
        }
        void* row = elem(p.dq, p.out_dtype, it.b * P.bs_dq + (s.q_row0 + r) * p.dq_row_stride + it.h * p.dq_head_stride);
        store_row(row, p.out_dtype, P.d, acc, 1.0f);
    }
}
