// Fixed-width float vectors for the kernels, as GCC/Clang vector extensions. FA_W (floats per vector)
// is set by the including translation unit to match the ISA it is compiled for, so the same source
// becomes SSE, AVX2 or AVX-512 code; the compiler contracts a * b + c into FMA where the ISA has it.
// Included inside an anonymous namespace: nothing here may have external linkage, or the linker could
// pick an AVX-512 copy of an inline function for a caller on a CPU without AVX-512.
#if !defined(__GNUC__) && !defined(__clang__)
#error "The CPU kernels need GCC or Clang vector extensions; on Windows build with clang-cl (-T ClangCL)."
#endif

typedef float vf __attribute__((vector_size(FA_W * 4)));
typedef int32_t vi __attribute__((vector_size(FA_W * 4)));

inline vf vload(const float* p) {
    vf v;
    __builtin_memcpy(&v, p, sizeof v);  // unaligned load, no aliasing assumptions
    return v;
}

inline void vstore(float* p, vf v) { __builtin_memcpy(p, &v, sizeof v); }

// Spelled out: vf{} + x keeps an add (0 + x is not x for x = -0) and a loop becomes a 256-bit
// broadcast plus an insert; an initializer list becomes a single vbroadcastss.
inline vf vset(float x) {
#if FA_W == 4
    return vf{x, x, x, x};
#elif FA_W == 8
    return vf{x, x, x, x, x, x, x, x};
#elif FA_W == 16
    return vf{x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
#else
#error "FA_W must be 4, 8 or 16"
#endif
}

inline vf vmax(vf a, vf b) { return a > b ? a : b; }

inline vi as_int(vf v) {
    vi r;
    __builtin_memcpy(&r, &v, sizeof r);
    return r;
}

inline vf as_float(vi v) {
    vf r;
    __builtin_memcpy(&r, &v, sizeof r);
    return r;
}

inline float hmax(vf v) {
    float m = v[0];
    for (int i = 1; i < FA_W; ++i) m = m > v[i] ? m : v[i];
    return m;
}

// 2^x for a whole vector, within 2 ulp. Inputs are clamped to [-127, 127]; at -127 the exponent field
// becomes 0, so everything below ~2^-126 (and -inf, which is how masked scores become zero
// probabilities) comes out as exactly 0 without a separate select. NaN stays NaN.
inline vf vexp2(vf x) {
    const vf lo = vset(-127.0f), hi = vset(127.0f);
    vf xc = x < lo ? lo : x;
    xc = xc > hi ? hi : xc;
    // Adding 1.5 * 2^23 rounds to the nearest integer, which then sits in the low mantissa bits.
    const vf magic = vset(12582912.0f);
    const vf t = xc + magic;
    const vf f = xc - (t - magic);  // in [-0.5, 0.5]
    // 2^f on [-0.5, 0.5], degree 5, fitted for minimal relative error (9.2e-8).
    vf poly = vset(1.3264723894363412e-03f);
    poly = poly * f + 9.6715128695296930e-03f;
    poly = poly * f + 5.5507337542418240e-02f;
    poly = poly * f + 2.4022242080363765e-01f;
    poly = poly * f + 6.9314697759150060e-01f;
    poly = poly * f + 1.0f;
    const vi e = (as_int(t) - (as_int(magic) - 127)) << 23;
    return poly * as_float(e);
}
