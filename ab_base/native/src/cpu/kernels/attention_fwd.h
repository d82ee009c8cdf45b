// Forward of one block of query rows (one head, up to P.fwd_rows of them) against all the keys it may
// see, with the online softmax: a running max m and sum l per row, the output rescaled whenever m
// grows. Scores are kept key-major, s[c * ld + r], so the softmax runs vectorized across query rows
// and needs no horizontal reductions. Q is pre-multiplied by scale * log2(e), which turns every exp
// into exp2 and saves a multiply per score.
// Each K/V tile is converted once per item and used by all its rows: the rows per item (up to 256)
// set how often K and V stream through the cache, which bounds the forward on long sequences. Under
// causal masking, a K tile only touches the rows (in whole vectors) that see at least one of its keys.

inline size_t fwd_scratch(const Plan& P) {
    const size_t dp = static_cast<size_t>(P.dp), rows = static_cast<size_t>(P.fwd_rows);
    return round16(rows * dp) * 3 + round16(BC * dp) * 2 + round16(BC * rows) + round16(rows) * 3;
}

inline void fwd_tile(const Plan& P, const FwdItem& it, float* ws) {
    const fa_params& p = *P.p;
    const Seq& s = P.seqs[it.b];
    const int dp = P.dp, d = P.d, nq = it.nq, h = it.h, kvh = h / P.group, ld = P.fwd_rows;
    const int64_t q0 = it.q0;
    float* qrow = carve(ws, static_cast<size_t>(ld) * dp);
    float* qt = carve(ws, static_cast<size_t>(ld) * dp);
    float* kr = carve(ws, BC * dp);
    float* vr = carve(ws, BC * dp);
    float* sc = carve(ws, static_cast<size_t>(BC) * ld);
    float* o = carve(ws, static_cast<size_t>(ld) * dp);
    float* m = carve(ws, ld);
    float* l = carve(ws, ld);
    float* alpha = carve(ws, ld);

    const HeadRows q = head_rows(p.q, p.dtype, it.b * P.bs_q, s.q_row0, p.q_row_stride, h * p.q_head_stride);
    const HeadRows k = head_rows(p.k, p.dtype, it.b * P.bs_k, s.k_row0, p.k_row_stride, kvh * p.k_head_stride);
    const HeadRows v = head_rows(p.v, p.dtype, it.b * P.bs_v, s.k_row0, p.v_row_stride, kvh * p.v_head_stride);

    load_rows(q, q0, nq, d, dp, p.softmax_scale * kLog2e * p.q_descale, P.fp8_table, qrow);
    transpose_tile(qrow, nq, dp, 1.0f, qt, ld);

    const int ncols = (nq + FA_W - 1) / FA_W * FA_W;
    const int64_t diag = static_cast<int64_t>(s.sk) - s.sq;
    int64_t kend = s.sk;
    if (p.causal) {
        kend = q0 + nq + diag;  // one past the last key the item's last row sees
        kend = kend < 0 ? 0 : kend > s.sk ? s.sk : kend;
    }
    const int row_bytes = d * dtype_bytes(p.dtype);
    const float ninf = -__builtin_inff();
    for (int r = 0; r < ld; ++r) m[r] = ninf, l[r] = 0.0f;
    for (size_t i = 0; i < static_cast<size_t>(nq) * dp; ++i) o[i] = 0.0f;

    for (int64_t k0 = 0; k0 < kend; k0 += BC) {
        const int nk = static_cast<int>(kend - k0 < BC ? kend - k0 : BC);
        // Rows before j0 see none of this tile's keys (causal): leave them untouched.
        int j0 = 0;
        if (p.causal && k0 - diag - q0 > 0) j0 = static_cast<int>((k0 - diag - q0) / FA_W * FA_W);
        load_rows(k, k0, nk, d, dp, p.k_descale, P.fp8_table, kr);
        load_rows(v, k0, nk, d, dp, p.v_descale, P.fp8_table, vr);
        if (k0 + BC < kend) {
            const int next = static_cast<int>(kend - k0 - BC < BC ? kend - k0 - BC : BC);
            prefetch_rows(k, k0 + BC, next, row_bytes);
            prefetch_rows(v, k0 + BC, next, row_bytes);
        }
        gemm(nk, ncols - j0, dp, kr, dp, 1, qt + j0, ld, sc + j0, ld, false);
        if (p.causal && k0 + nk - 1 > q0 + diag) mask_causal(sc, ld, nk, ncols, k0, q0, diag);

        for (int j = j0; j < ncols; j += FA_W) {
            const vf mold = vload(m + j);
            vf mx = mold;
            for (int c = 0; c < nk; ++c) mx = vmax(mx, vload(sc + c * ld + j));
            // A row with every key so far masked keeps m = -inf; subtracting 0 instead keeps its
            // probabilities exp2(-inf) = 0 rather than NaN.
            const vf muse = mx == vset(ninf) ? vf{} : mx;
            const vf a = vexp2(mold - muse);
            vf sum = vf{};
            for (int c = 0; c < nk; ++c) {
                const vf pr = vexp2(vload(sc + c * ld + j) - muse);
                vstore(sc + c * ld + j, pr);
                sum += pr;
            }
            vstore(l + j, vload(l + j) * a + sum);
            vstore(m + j, mx);
            vstore(alpha + j, a);
        }
        for (int r = j0; r < nq; ++r) {
            const float a = alpha[r];
            if (a == 1.0f) continue;
            float* orow = o + static_cast<size_t>(r) * dp;
            for (int i = 0; i < dp; i += FA_W) vstore(orow + i, vload(orow + i) * a);
        }
        gemm(nq - j0, dp, nk, sc + j0, 1, ld, vr, dp, o + static_cast<size_t>(j0) * dp, dp, true);
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
