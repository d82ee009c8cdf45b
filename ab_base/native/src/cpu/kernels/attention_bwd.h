// Backward, FlashAttention-2 style. One work item owns a range of keys of one kv head. For each slice
// of that range (at most chunk_keys keys) it keeps K, V and fp32 dK, dV accumulators, and sweeps every
// query head of its group and every query tile that sees the slice, recomputing P = exp(scale*S - lse)
// tile by tile:
//   dV += P^T dO,  dP = dO V^T,  dS = P * (dP - delta),  dK += dS^T Q,  dQ += dS K  (dQ, dK times scale).
// No two items write the same dK/dV rows, so no locks or atomics. dQ of a query tile is complete when
// one slice covers the sequence's keys and goes straight to the output; otherwise each item sums its
// slices into its own fp32 partial and a last pass adds the partials in range order, so the result
// never depends on thread timing.
// As in the forward, P and dS are key-major tiles (x[c * BR + r]).

inline size_t bwd_scratch(const Plan& P) {
    const size_t dp = static_cast<size_t>(P.dp);
    return round16(static_cast<size_t>(P.chunk_keys) * dp) * 4 + round16(BR * dp) * 5 + round16(BC * BR) * 2 +
           round16(BR) * 2;
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

// Rows [q0, q0 + nq) of dQ from one slice of keys (tile dq, already scaled; NULL for zeros): written
// to the output directly, or set (first slice) or added (later slices) to this item's fp32 partial.
inline void bwd_write_dq(const Plan& P, const Seq& s, int32_t b, int32_t h, int32_t chunk, int64_t q0, int nq,
                         const float* dq, bool first_slice) {
    const fa_params& p = *P.p;
    const int dp = P.dp;
    for (int r = 0; r < nq; ++r) {
        const float* src = dq ? dq + static_cast<size_t>(r) * dp : nullptr;
        if (!P.dq_partial) {
            void* row = elem(p.dq, p.out_dtype, b * P.bs_dq + (s.q_row0 + q0 + r) * p.dq_row_stride + h * p.dq_head_stride);
            if (src) {
                store_row(row, p.out_dtype, P.d, src, 1.0f);
            } else {
                __builtin_memset(row, 0, static_cast<size_t>(P.d) * dtype_bytes(p.out_dtype));
            }
        } else {
            float* dst = dq_partial_row(P, chunk, h, s.grow0 + q0 + r);
            if (first_slice) {
                for (int i = 0; i < dp; ++i) dst[i] = src ? src[i] : 0.0f;
            } else if (src) {
                for (int i = 0; i < dp; ++i) dst[i] += src[i];
            }
        }
    }
}

// Per-thread tiles of the backward.
struct BwdTiles {
    float *kc, *vc, *dkc, *dvc;        // [chunk_keys x dp]: the slice's K, V and fp32 dK, dV
    float *qrow, *qt, *dorow, *dot;    // [BR x dp] Q, dO of one query tile and their transposes
    float *dqacc;                      // [BR x dp]
    float *pt, *dst;                   // [BC x BR] P and dS, key-major
    float *lse2, *dl;                  // [BR] lse * log2(e) and delta of the tile's rows
};

inline BwdTiles carve_bwd(const Plan& P, float* ws) {
    const size_t dp = static_cast<size_t>(P.dp), kc = static_cast<size_t>(P.chunk_keys) * dp;
    BwdTiles t;
    t.kc = carve(ws, kc), t.vc = carve(ws, kc), t.dkc = carve(ws, kc), t.dvc = carve(ws, kc);
    t.qrow = carve(ws, BR * dp), t.qt = carve(ws, BR * dp), t.dorow = carve(ws, BR * dp), t.dot = carve(ws, BR * dp);
    t.dqacc = carve(ws, BR * dp);
    t.pt = carve(ws, BC * BR), t.dst = carve(ws, BC * BR);
    t.lse2 = carve(ws, BR), t.dl = carve(ws, BR);
    return t;
}

// Keys [kb0, kb1) of kv head it.kvh against every query tile of every head of its group.
inline void bwd_slice(const Plan& P, const BwdItem& it, int64_t kb0, int64_t kb1, bool first_slice, const BwdTiles& t) {
    const fa_params& p = *P.p;
    const Seq& s = P.seqs[it.b];
    const int dp = P.dp, d = P.d, kvh = it.kvh, nkc = static_cast<int>(kb1 - kb0);
    const HeadRows k = head_rows(p.k, p.dtype, it.b * P.bs_k, s.k_row0, p.k_row_stride, kvh * p.k_head_stride);
    const HeadRows v = head_rows(p.v, p.dtype, it.b * P.bs_v, s.k_row0, p.v_row_stride, kvh * p.v_head_stride);
    load_rows(k, kb0, nkc, d, dp, 1.0f, P.fp8_table, t.kc);
    load_rows(v, kb0, nkc, d, dp, 1.0f, P.fp8_table, t.vc);
    for (size_t i = 0; i < static_cast<size_t>(nkc) * dp; ++i) t.dkc[i] = 0.0f, t.dvc[i] = 0.0f;

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
            if (kend <= kb0) {  // the tile sees no key of this slice
                bwd_write_dq(P, s, it.b, h, it.chunk, q0, nq, nullptr, first_slice);
                continue;
            }
            load_rows(q, q0, nq, d, dp, 1.0f, P.fp8_table, t.qrow);
            transpose_tile(t.qrow, nq, dp, scale * kLog2e, t.qt, BR);
            load_rows(dout, q0, nq, d, dp, 1.0f, P.fp8_table, t.dorow);
            transpose_tile(t.dorow, nq, dp, 1.0f, t.dot, BR);
            for (int r = 0; r < BR; ++r) {
                // lse = -inf marks a row that saw no key: +inf here makes all its probabilities 0.
                const bool live = r < nq && lse[q0 + r] != -pinf;
                t.lse2[r] = live ? lse[q0 + r] * kLog2e : pinf;
                t.dl[r] = r < nq ? delta[q0 + r] : 0.0f;
            }
            const int ncols = (nq + FA_W - 1) / FA_W * FA_W;
            for (size_t i = 0; i < static_cast<size_t>(nq) * dp; ++i) t.dqacc[i] = 0.0f;

            for (int64_t k0 = kb0; k0 < kend; k0 += BC) {
                const int nk = static_cast<int>(kend - k0 < BC ? kend - k0 : BC);
                const size_t off = static_cast<size_t>(k0 - kb0) * dp;
                const float *kj = t.kc + off, *vj = t.vc + off;
                float *dkj = t.dkc + off, *dvj = t.dvc + off, *pt = t.pt, *dst = t.dst;
                gemm(nk, ncols, dp, kj, dp, 1, t.qt, BR, pt, BR, false);
                if (p.causal && k0 + nk - 1 > q0 + diag) mask_causal(pt, BR, nk, ncols, k0, q0, diag);
                for (int c = 0; c < nk; ++c)
                    for (int j = 0; j < ncols; j += FA_W)
                        vstore(pt + c * BR + j, vexp2(vload(pt + c * BR + j) - vload(t.lse2 + j)));
                gemm(nk, dp, nq, pt, BR, 1, t.dorow, dp, dvj, dp, true);
                gemm(nk, ncols, dp, vj, dp, 1, t.dot, BR, dst, BR, false);
                for (int c = 0; c < nk; ++c)
                    for (int j = 0; j < ncols; j += FA_W)
                        vstore(dst + c * BR + j, vload(pt + c * BR + j) * (vload(dst + c * BR + j) - vload(t.dl + j)));
                gemm(nk, dp, nq, dst, BR, 1, t.qrow, dp, dkj, dp, true);
                gemm(nq, dp, nk, dst, 1, BR, kj, dp, t.dqacc, dp, true);
            }
            for (size_t i = 0; i < static_cast<size_t>(nq) * dp; ++i) t.dqacc[i] *= scale;
            bwd_write_dq(P, s, it.b, h, it.chunk, q0, nq, t.dqacc, first_slice);
        }
    }

    const int64_t dk_base = it.b * P.bs_dk + kvh * p.dk_head_stride;
    const int64_t dv_base = it.b * P.bs_dv + kvh * p.dv_head_stride;
    for (int c = 0; c < nkc; ++c) {
        const int64_t row = s.k_row0 + kb0 + c;
        store_row(elem(p.dk, p.out_dtype, dk_base + row * p.dk_row_stride), p.out_dtype, d,
                  t.dkc + static_cast<size_t>(c) * dp, scale);
        store_row(elem(p.dv, p.out_dtype, dv_base + row * p.dv_row_stride), p.out_dtype, d,
                  t.dvc + static_cast<size_t>(c) * dp, 1.0f);
    }
}

// One item: the item's key range in slices of at most chunk_keys keys, so that its fp32 K, V, dK, dV
// stay bounded. An empty range still runs once, to write the zero dq of its rows.
inline void bwd_chunk(const Plan& P, const BwdItem& it, float* ws) {
    const BwdTiles t = carve_bwd(P, ws);
    int32_t kr0 = 0, kr1 = 0;
    chunk_range(P.seqs[it.b].sk, P.chunks, it.chunk, &kr0, &kr1);
    int64_t kb0 = kr0;
    do {
        const int64_t kb1 = kr1 - kb0 < P.chunk_keys ? kr1 : kb0 + P.chunk_keys;
        bwd_slice(P, it, kb0, kb1, kb0 == kr0, t);
        kb0 = kb1;
    } while (kb0 < kr1);
}

// dq = sum of the chunks' partials, in chunk order.
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
