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
    // Dense double copies: Tensor::get decodes on every call, far too slow for the inner loops.
    const auto dense = [](const Tensor& t) {
        std::vector<double> out(static_cast<size_t>(t.batch * t.rows * t.heads * t.dim));
        size_t i = 0;
        for (int64_t b = 0; b < t.batch; ++b)
            for (int64_t r = 0; r < t.rows; ++r)
                for (int64_t h = 0; h < t.heads; ++h)
                    for (int64_t d = 0; d < t.dim; ++d) out[i++] = t.get(b, r, h, d);
        return out;
    };
    const std::vector<double> Q = dense(q), K = dense(k), V = dense(v);
    const std::vector<double> dO = dout ? dense(*dout) : std::vector<double>();
    const auto qrow = [&](int64_t b, int64_t row, int64_t h) { return &Q[static_cast<size_t>(qi(b, row, h) * D)]; };
    const auto krow = [&](int64_t b, int64_t row, int64_t h) { return &K[static_cast<size_t>(ki(b, row, h) * D)]; };
    const auto vrow = [&](int64_t b, int64_t row, int64_t h) { return &V[static_cast<size_t>(ki(b, row, h) * D)]; };
    const auto dorow = [&](int64_t b, int64_t row, int64_t h) { return &dO[static_cast<size_t>(qi(b, row, h) * D)]; };
    std::vector<double> s, p;
    for (const RefSeq& sq : seqs) {
        for (int64_t h = 0; h < hq; ++h) {
            const int64_t kh = h / group;
            for (int64_t i = 0; i < sq.sq; ++i) {
                const int64_t row = sq.q0 + i;
                const int64_t last = causal ? i + sq.sk - sq.sq : sq.sk - 1;  // last visible key
                const int64_t n = std::min<int64_t>(last + 1, sq.sk);
                if (n <= 0) continue;  // fully masked: out 0, lse -inf, zero gradients
                s.assign(static_cast<size_t>(n), 0.0);
                double mx = -INFINITY;
                const double* qv = qrow(sq.qb, row, h);
                for (int64_t j = 0; j < n; ++j) {
                    const double* kv = krow(sq.kb, sq.k0 + j, kh);
                    double dot = 0;
                    for (int64_t d = 0; d < D; ++d) dot += qv[d] * qd * kv[d] * kd;
                    s[j] = dot * scale;
                    mx = std::max(mx, s[j]);
                }
                double l = 0;
                p.assign(static_cast<size_t>(n), 0.0);
                for (int64_t j = 0; j < n; ++j) l += (p[j] = std::exp(s[j] - mx));
                const double lse = mx + std::log(l);
                r.lse[static_cast<size_t>(qi(sq.qb, row, h))] = lse;
                double* o = &r.out[static_cast<size_t>(qi(sq.qb, row, h) * D)];
                for (int64_t j = 0; j < n; ++j) {
                    p[j] /= l;
                    const double* vv = vrow(sq.kb, sq.k0 + j, kh);
                    for (int64_t d = 0; d < D; ++d) o[d] += p[j] * vv[d] * vd;
                }
                if (!dout) continue;
                const double* g = dorow(sq.qb, row, h);
                double delta = 0;
                for (int64_t d = 0; d < D; ++d) delta += g[d] * o[d];
                double* dq = &r.dq[static_cast<size_t>(qi(sq.qb, row, h) * D)];
                for (int64_t j = 0; j < n; ++j) {
                    const double *kv = krow(sq.kb, sq.k0 + j, kh), *vv = vrow(sq.kb, sq.k0 + j, kh);
                    double dp = 0;
                    for (int64_t d = 0; d < D; ++d) dp += g[d] * vv[d];
                    const double ds = p[j] * (dp - delta);
                    double* dk = &r.dk[static_cast<size_t>(ki(sq.kb, sq.k0 + j, kh) * D)];
                    double* dv = &r.dv[static_cast<size_t>(ki(sq.kb, sq.k0 + j, kh) * D)];
                    for (int64_t d = 0; d < D; ++d) {
                        dq[d] += scale * ds * kv[d];
                        dk[d] += scale * ds * qv[d];
                        dv[d] += p[j] * g[d];
                    }
                }
            }
        }
    }
    return r;
}
