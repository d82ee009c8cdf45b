// Storage <-> fp32 conversion of single rows. Kernels convert whole rows into fp32 tiles, compute in
// fp32 and round to the storage type once, at the end. The bit-level conversions are branch-free so
// that the row loops vectorize (no F16C/AVX-512-BF16 needed).

inline float bits_to_float(uint32_t u) {
    float f;
    __builtin_memcpy(&f, &u, 4);
    return f;
}

inline uint32_t float_to_bits(float f) {
    uint32_t u;
    __builtin_memcpy(&u, &f, 4);
    return u;
}

inline float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t em = h & 0x7fffu;
    // Normal numbers: rebias the exponent (15 -> 127). Inf/NaN (exponent 31) need it pushed to 255.
    const uint32_t normal = (em << 13) + (112u << 23) + (em >= 0x7c00u ? (112u << 23) : 0u);
    // Subnormals (and zero) are em * 2^-24 exactly.
    const float sub = static_cast<float>(static_cast<int32_t>(em)) * 5.9604644775390625e-08f;
    const uint32_t mag = em < 0x0400u ? float_to_bits(sub) : normal;
    return bits_to_float(mag | sign);
}

inline uint16_t float_to_half(float f) {
    const uint32_t u = float_to_bits(f);
    const uint32_t sign = (u >> 16) & 0x8000u;
    const uint32_t a = u & 0x7fffffffu;
    // Round to nearest even on the 13 dropped mantissa bits; the carry may ripple into the exponent.
    const uint32_t normal = (a - (112u << 23) + 0x0fffu + ((a >> 13) & 1u)) >> 13;
    // Below 2^-14 the result is subnormal: adding 0.5 puts the half ulp (2^-24) at the float ulp, so
    // the FPU's own round-to-nearest-even does the rounding.
    const uint32_t sub = float_to_bits(bits_to_float(a) + 0.5f) - 0x3f000000u;
    uint32_t mag = a < 0x38800000u ? sub : normal;
    mag = a >= 0x477ff000u ? 0x7c00u : mag;   // rounds to >= 65520: infinity
    mag = a > 0x7f800000u ? 0x7e00u : mag;    // NaN stays NaN
    return static_cast<uint16_t>(mag | sign);
}

inline float bf16_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

inline uint16_t float_to_bf16(float f) {
    const uint32_t u = float_to_bits(f);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t nan = (u >> 16) | 0x0040u;  // keep NaN a (quiet) NaN instead of rounding it to inf
    return static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}

// dst[0..n) = row * scale, dst[n..npad) = 0. `row` points at element 0 of a row stored as `dtype`.
inline void load_row(const void* row, int dtype, int n, float scale, const float* fp8_table, float* __restrict dst,
                     int npad) {
    switch (dtype) {
    case FA_DTYPE_FLOAT32: {
        const float* s = static_cast<const float*>(row);
        for (int i = 0; i < n; ++i) dst[i] = s[i] * scale;
        break;
    }
    case FA_DTYPE_FLOAT16: {
        const uint16_t* s = static_cast<const uint16_t*>(row);
        for (int i = 0; i < n; ++i) dst[i] = half_to_float(s[i]) * scale;
        break;
    }
    case FA_DTYPE_BFLOAT16: {
        const uint16_t* s = static_cast<const uint16_t*>(row);
        for (int i = 0; i < n; ++i) dst[i] = bf16_to_float(s[i]) * scale;
        break;
    }
    default: {  // FLOAT8_E4M3: 256 possible values, a table is exact and fast enough
        const uint8_t* s = static_cast<const uint8_t*>(row);
        for (int i = 0; i < n; ++i) dst[i] = fp8_table[s[i]] * scale;
        break;
    }
    }
    for (int i = n; i < npad; ++i) dst[i] = 0.0f;
}

// row[0..n) = src * scale rounded to `dtype` (FLOAT32, FLOAT16 or BFLOAT16).
inline void store_row(void* row, int dtype, int n, const float* __restrict src, float scale) {
    switch (dtype) {
    case FA_DTYPE_FLOAT32: {
        float* d = static_cast<float*>(row);
        for (int i = 0; i < n; ++i) d[i] = src[i] * scale;
        break;
    }
    case FA_DTYPE_FLOAT16: {
        uint16_t* d = static_cast<uint16_t*>(row);
        for (int i = 0; i < n; ++i) d[i] = float_to_half(src[i] * scale);
        break;
    }
    default: {
        uint16_t* d = static_cast<uint16_t*>(row);
        for (int i = 0; i < n; ++i) d[i] = float_to_bf16(src[i] * scale);
        break;
    }
    }
}

inline int dtype_bytes(int dtype) {
    return dtype == FA_DTYPE_FLOAT32 ? 4 : dtype == FA_DTYPE_FLOAT8_E4M3 ? 1 : 2;
}

inline const void* elem(const void* base, int dtype, int64_t offset) {
    return static_cast<const char*>(base) + offset * dtype_bytes(dtype);
}

inline void* elem(void* base, int dtype, int64_t offset) {
    return static_cast<char*>(base) + offset * dtype_bytes(dtype);
}
