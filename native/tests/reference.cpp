#include "reference.h"

#include <cmath>

RefResult reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* dout,
                    const std::vector<RefSeq>& seqs, double scale, bool causal, double qd, double kd, double vd) {
    const int64_t D = q.dim, hq = q.heads, hkv = k.heads, group = hq / hkv;
    RefResult r;
    const auto qi = [&](int64_t b, int64_t row, int64_t h) { return ((b * q.rows + row) * hq + h); };
    const auto ki = [&](int64_t b, int64_t row, int64_t h) { return ((b * k.rows + row) * hkv + h); };
    r.out.assign(static_cast<size_t>(q.batch * q.rows * hq * D), 0.0);
    r.lse.assign(static_cast<size_t>(q.batch * q.rows * hq), -INFINITY);
    if (dout) {
        r.dq.assign(r.out.size(), 0.0);
        r.dk.assign(static_cast<size_t>(k.batch * k.rows * hkv * D), 0.0);
        r.dv.assign(r.dk.size(), 0.0);
    }
    std::vector<double> s, p;
    for (const RefSeq& sq : seqs) {
        for (int64_t h = 0; h < hq; ++h) {
            const int64_t kh = h / group;
            for (int64_t i = 0; i < sq.sq; ++i) {
                const int64_t qrow = sq.q0 + i;
                const int64_t last = causal ? i + sq.sk - sq.sq : sq.sk - 1;  // last visible key
                const int64_t n = std::min<int64_t>(last + 1, sq.sk);
                if (n <= 0) continue;  // fully masked: out 0, lse -inf, zero gradients
                s.assign(static_cast<size_t>(n), 0.0);
                double mx = -INFINITY;
                for (int64_t j = 0; j < n; ++j) {
                    double dot = 0;
                    for (int64_t d = 0; d < D; ++d)
                        dot += q.get(sq.qb, qrow, h, d) * qd * k.get(sq.kb, sq.k0 + j, kh, d) * kd;
                    s[j] = dot * scale;
                    mx = std::max(mx, s[j]);
                }
                double l = 0;
                p.assign(static_cast<size_t>(n), 0.0);
                for (int64_t j = 0; j < n; ++j) l += (p[j] = std::exp(s[j] - mx));
                const double lse = mx + std::log(l);
                r.lse[qi(sq.qb, qrow, h)] = lse;
                double* o = &r.out[qi(sq.qb, qrow, h) * D];
                for (int64_t j = 0; j < n; ++j) {
                    p[j] /= l;
                    for (int64_t d = 0; d < D; ++d) o[d] += p[j] * v.get(sq.kb, sq.k0 + j, kh, d) * vd;
                }
                if (!dout) continue;
                double delta = 0;
                for (int64_t d = 0; d < D; ++d) delta += dout->get(sq.qb, qrow, h, d) * o[d];
                double* dq = &r.dq[qi(sq.qb, qrow, h) * D];
                for (int64_t j = 0; j < n; ++j) {
                    double dp = 0;
                    for (int64_t d = 0; d < D; ++d) dp += dout->get(sq.qb, qrow, h, d) * v.get(sq.kb, sq.k0 + j, kh, d);
                    const double ds = p[j] * (dp - delta);
                    double* dk = &r.dk[ki(sq.kb, sq.k0 + j, kh) * D];
                    double* dv = &r.dv[ki(sq.kb, sq.k0 + j, kh) * D];
                    for (int64_t d = 0; d < D; ++d) {
                        dq[d] += scale * ds * k.get(sq.kb, sq.k0 + j, kh, d);
                        dk[d] += scale * ds * q.get(sq.qb, qrow, h, d);
                        dv[d] += p[j] * dout->get(sq.qb, qrow, h, d);
                    }
                }
            }
        }
    }
    return r;
}
