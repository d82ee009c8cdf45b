// Test tensors: (batch, rows, heads, head_dim) in a storage dtype with arbitrary strides, read and
// written as double. The fp16/bf16/fp8 conversions here are written independently of the library's.
#pragma once
#include "flashattn.h"

#include <cstdint>
#include <random>
#include <vector>

struct Tensor {
    int dtype = FA_DTYPE_FLOAT32;
    int64_t batch = 0, rows = 0, heads = 0, dim = 0;
    int64_t batch_stride = 0, row_stride = 0, head_stride = 0;
    std::vector<unsigned char> bytes;

    // Contiguous (batch, rows, heads, dim), or with `pad` extra elements after each row when pad > 0,
    // or heads-major (batch, heads, rows, dim) when heads_major.
    static Tensor make(int dtype, int64_t batch, int64_t rows, int64_t heads, int64_t dim, int64_t pad = 0,
                       bool heads_major = false);

    double get(int64_t b, int64_t r, int64_t h, int64_t d) const;
    void set(int64_t b, int64_t r, int64_t h, int64_t d, double x);  // rounds to dtype
    void fill_random(std::mt19937& rng, double lo, double hi);
    void fill(double x);
    void* data() { return bytes.data(); }
    int64_t offset(int64_t b, int64_t r, int64_t h, int64_t d) const {
        return b * batch_stride + r * row_stride + h * head_stride + d;
    }
};

int dtype_size(int dtype);
double round_to(int dtype, double x);

// Points the q/k/v/out (or dout/dq/dk/dv) fields of p at tensors.
void bind_qkv(fa_params& p, Tensor& q, Tensor& k, Tensor& v, Tensor& out);
void bind_grads(fa_params& p, Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv);
