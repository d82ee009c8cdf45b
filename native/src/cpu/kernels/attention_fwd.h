// Forward of one query tile (one head, up to BR rows) against all the keys it may see, with the
// online softmax: a running max m and sum l per row, the output rescaled whenever m grows.
// Scores are kept key-major, s[c * BR + r], so the softmax runs vectorized across query rows and the
// tile's max/sum never needs a horizontal reduction. Q is pre-multiplied by scale * log2(e), which
// turns every exp into exp2 and saves a multiply per score.

inline size_t fwd_scratch(const Plan& P) {
    const size_t dp = static_cast<size_t>(P.dp);
    return round16(BR * dp) * 3 + round16(BC * dp) * 2 + round16(BC * BR) + round16(BR) * 3;
}

inline void fwd_tile(const Plan& P, const FwdItem& it, float* ws) {
    const fa_params& p = *P.p;
    const Seq& s = P.seqs[it.b];
    const int dp = P.dp, d = P.d, nq = it.nq, h = it.h, kvh = h / P.group;
    const int64_t q0 = it.q0;
    float* qrow = carve(ws, BR * dp);
    float* qt = carve(ws, BR * dp);
    float* kr = carve(ws, BC * dp);
    float* vr = carve(ws, BC * dp);
    float* sc = carve(ws, BC * BR);
    float* o = carve(ws, BR * dp);
    float* m = carve(ws, BR);
    float* l = carve(ws, BR);
    float* alpha = carve(ws, BR);

    const HeadRows q = head_rows(p.q, p.dtype, it.b * P.bs_q, s.q_row0, p.q_row_stride, h * p.q_head_stride);
    const HeadRows k = head_rows(p.k, p.dtype, it.b * P.bs_k, s.k_row0, p.k_row_stride, kvh * p.k_head_stride);
    const HeadRows v = head_rows(p.v, p.dtype, it.b * P.bs_v, s.k_row0, p.v_row_stride, kvh * p.v_head_stride);

    load_rows(q, q0, nq, d, dp, p.softmax_scale * kLog2e * p.q_descale, P.fp8_table, qrow);
    transpose_tile(qrow, nq, dp, 1.0f, qt, BR);

    const int nqv = (nq + FA_W - 1) / FA_W, ncols = nqv * FA_W;
    const int64_t diag = static_cast<int64_t>(s.sk) - s.sq;
    int64_t kend = s.sk;
    if (p.causal) {
        kend = q0 + nq + diag;  // one past the last key the tile's last row sees
        kend = kend < 0 ? 0 : kend > s.sk ? s.sk : kend;
    }
    const float ninf = -__builtin_inff();
    for (int r = 0; r < BR; ++r) m[r] = ninf, l[r] = 0.0f;
    for (size_t i = 0; i < static_cast<size_t>(nq) * dp; ++i) o[i] = 0.0f;

    for (int64_t k0 = 0; k0 < kend; k0 += BC) {
        const int nk = static_cast<int>(kend - k0 < BC ? kend - k0 : BC);
        load_rows(k, k0, nk, d, dp, p.k_descale, P.fp8_table, kr);
        load_rows(v, k0, nk, d, dp, p.v_descale, P.fp8_table, vr);
        gemm(nk, ncols, dp, kr, dp, 1, qt, BR, sc, BR, false);
        if (p.causal && k0 + nk - 1 > q0 + diag) mask_causal(sc, nk, ncols, k0, q0, diag);

        for (int j = 0; j < ncols; j += FA_W) {
            const vf mold = vload(m + j);
            vf mx = mold;
            for (int c = 0; c < nk; ++c) mx = vmax(mx, vload(sc + c * BR + j));
            // A row with every key so far masked keeps m = -inf; subtracting 0 instead keeps its
            // probabilities exp2(-inf) = 0 rather than NaN.
            const vf muse = mx == vset(ninf) ? vf{} : mx;
            const vf a = vexp2(mold - muse);
            vf sum = vf{};
            for (int c = 0; c < nk; ++c) {
                const vf pr = vexp2(vload(sc + c * BR + j) - muse);
                vstore(sc + c * BR + j, pr);
                sum += pr;
            }
            vstore(l + j, vload(l + j) * a + sum);
            vstore(m + j, mx);
            vstore(alpha + j, a);
        }
        for (int r = 0; r < nq; ++r) {
            const float a = alpha[r];
            if (a == 1.0f) continue;
            float* orow = o + static_cast<size_t>(r) * dp;
            for (int i = 0; i < dp; i += FA_W) vstore(orow + i, vload(orow + i) * a);
        }
        gemm(nq, dp, nk, sc, 1, BR, vr, dp, o, dp, true);
    }

    float* lse = p.softmax_lse + s.lse0 + h * P.lse_head_stride + q0;
    const int64_t out_base = it.b * P.bs_out + h * p.out_head_stride;
    for (int r = 0; r < nq; ++r) {
        void* orow = elem(p.out, p.out_dtype, out_base + (s.q_row0 + q0 + r) * p.out_row_stride);
        if (l[r] > 0.0f) {
            store_row(orow, p.out_dtype, d, o + static_cast<size_t>(r) * dp, 1.0f / l[r]);
            lse[r] = (m[r] + __builtin_log2f(l[r])) * kLn2;
        } else {  // no key visible: out 0, lse -inf (the backward then gives this row zero gradients)
            store_row(orow, p.out_dtype, d, o + static_cast<size_t>(r) * dp, 0.0f);
            lse[r] = ninf;
        }
    }
}
