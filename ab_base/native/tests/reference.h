// Naive attention in float64 from the stored (rounded) inputs: the ground truth of the checker.
#pragma once
#include "tensor.h"

#include <vector>

// One sequence: rows [q0, q0 + sq) of batch entry qb of q, rows [k0, k0 + sk) of batch entry kb of k/v.
struct RefSeq {
    int64_t qb, q0, sq, kb, k0, sk;
};

// Results indexed like the logical shape of q (out, lse, dq) or k (dk, dv), contiguous:
// ((b * rows + r) * heads + h) * dim + d, and lse ((b * rows + r) * heads + h).
struct RefResult {
    std::vector<double> out, lse, dq, dk, dv;
};

RefResult reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* dout,
                    const std::vector<RefSeq>& seqs, double scale, bool causal, double q_descale = 1.0,
                    double k_descale = 1.0, double v_descale = 1.0);
