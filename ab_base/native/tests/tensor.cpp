#include "tensor.h"

#include <cmath>
#include <cstring>

int dtype_size(int dtype) {
    return dtype == FA_DTYPE_FLOAT32 ? 4 : dtype == FA_DTYPE_FLOAT8_E4M3 ? 1 : 2;
}

namespace {

uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t h) {
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// IEEE half, by definition rather than by bit tricks: an independent check of the library's.
double from_half(uint16_t h) {
    const int e = (h >> 10) & 31, m = h & 1023;
    double mag = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -mag : mag;
}

uint16_t to_half(double x) {
    const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    const double a = std::fabs(x);
    if (std::isnan(a)) return 0x7e00;
    if (a >= 65520.0) return sign | 0x7c00;
    if (a < std::ldexp(1.0, -14)) return sign | static_cast<uint16_t>(std::nearbyint(std::ldexp(a, 24)));
    int e = 0;
    const double m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
    const int q = static_cast<int>(std::nearbyint(std::ldexp(m, 11)));  // 11 significant bits
    const int bits = ((e + 14) << 10) + (q - 1024);  // q == 2048 carries into the exponent
    return sign | static_cast<uint16_t>(bits);
}

double from_fp8(uint8_t x) {
    const int e = (x >> 3) & 15, m = x & 7;
    double mag = e == 0 ? std::ldexp(m, -9) : std::ldexp(1.0 + m / 8.0, e - 7);
    if (e == 15 && m == 7) mag = NAN;
    return (x & 0x80) ? -mag : mag;
}

uint8_t to_fp8(double x) {  // nearest by search: the test only needs it to be right, not fast
    int best = 0;
    double best_err = INFINITY;
    for (int i = 0; i < 256; ++i) {
        const double v = from_fp8(static_cast<uint8_t>(i));
        if (std::isnan(v)) continue;
        const double err = std::fabs(v - x);
        if (err < best_err) best_err = err, best = i;
    }
    return static_cast<uint8_t>(best);
}

}  // namespace

Tensor Tensor::make(int dtype, int64_t batch, int64_t rows, int64_t heads, int64_t dim, int64_t pad, bool heads_major) {
    Tensor t;
    t.dtype = dtype;
    t.batch = batch, t.rows = rows, t.heads = heads, t.dim = dim;
    if (heads_major) {
        t.row_stride = dim + pad;
        t.head_stride = rows * t.row_stride;
        t.batch_stride = heads * t.head_stride;
    } else {
        t.head_stride = dim;
        t.row_stride = heads * dim + pad;
        t.batch_stride = rows * t.row_stride;
    }
    t.bytes.assign(static_cast<size_t>(batch * t.batch_stride) * dtype_size(dtype), 0);
    return t;
}

double Tensor::get(int64_t b, int64_t r, int64_t h, int64_t d) const {
    const size_t i = static_cast<size_t>(offset(b, r, h, d));
    switch (dtype) {
    case FA_DTYPE_FLOAT32: { float f; std::memcpy(&f, &bytes[i * 4], 4); return f; }
    case FA_DTYPE_FLOAT16: { uint16_t u; std::memcpy(&u, &bytes[i * 2], 2); return from_half(u); }
    case FA_DTYPE_BFLOAT16: { uint16_t u; std::memcpy(&u, &bytes[i * 2], 2); return from_bf16(u); }
    default: return from_fp8(bytes[i]);
    }
}

void Tensor::set(int64_t b, int64_t r, int64_t h, int64_t d, double x) {
    const size_t i = static_cast<size_t>(offset(b, r, h, d));
    switch (dtype) {
    case FA_DTYPE_FLOAT32: { const float f = static_cast<float>(x); std::memcpy(&bytes[i * 4], &f, 4); break; }
    case FA_DTYPE_FLOAT16: { const uint16_t u = to_half(x); std::memcpy(&bytes[i * 2], &u, 2); break; }
    case FA_DTYPE_BFLOAT16: { const uint16_t u = to_bf16(static_cast<float>(x)); std::memcpy(&bytes[i * 2], &u, 2); break; }
    default: bytes[i] = to_fp8(x); break;
    }
}

void Tensor::fill_random(std::mt19937& rng, double lo, double hi) {
    std::uniform_real_distribution<double> dist(lo, hi);
    for (int64_t b = 0; b < batch; ++b)
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t h = 0; h < heads; ++h)
                for (int64_t d = 0; d < dim; ++d) set(b, r, h, d, dist(rng));
}

void Tensor::fill(double x) {
    for (int64_t b = 0; b < batch; ++b)
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t h = 0; h < heads; ++h)
                for (int64_t d = 0; d < dim; ++d) set(b, r, h, d, x);
}

double round_to(int dtype, double x) {
    Tensor t = Tensor::make(dtype, 1, 1, 1, 1);
    t.set(0, 0, 0, 0, x);
    return t.get(0, 0, 0, 0);
}

void bind_qkv(fa_params& p, Tensor& q, Tensor& k, Tensor& v, Tensor& out) {
    p.q = q.data(), p.k = k.data(), p.v = v.data(), p.out = out.data();
    p.q_batch_stride = q.batch_stride, p.q_row_stride = q.row_stride, p.q_head_stride = q.head_stride;
    p.k_batch_stride = k.batch_stride, p.k_row_stride = k.row_stride, p.k_head_stride = k.head_stride;
    p.v_batch_stride = v.batch_stride, p.v_row_stride = v.row_stride, p.v_head_stride = v.head_stride;
    p.out_batch_stride = out.batch_stride, p.out_row_stride = out.row_stride, p.out_head_stride = out.head_stride;
}

void bind_grads(fa_params& p, Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv) {
    p.dout = dout.data(), p.dq = dq.data(), p.dk = dk.data(), p.dv = dv.data();
    p.dout_batch_stride = dout.batch_stride, p.dout_row_stride = dout.row_stride, p.dout_head_stride = dout.head_stride;
    p.dq_batch_stride = dq.batch_stride, p.dq_row_stride = dq.row_stride, p.dq_head_stride = dq.head_stride;
    p.dk_batch_stride = dk.batch_stride, p.dk_row_stride = dk.row_stride, p.dk_head_stride = dk.head_stride;
    p.dv_batch_stride = dv.batch_stride, p.dv_row_stride = dv.row_stride, p.dv_head_stride = dv.head_stride;
}
