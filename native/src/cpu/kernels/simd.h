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

// 2^x for a whole vector. Exact at integers, ~2 ulp elsewhere; 0 below 2^-126 (the softmax never
// needs denormals) and for -inf, which is how masked scores become zero probabilities.
inline vf vexp2(vf x) {
    const vf lo = vset(-126.0f), hi = vset(127.0f);
    vf xc = x < lo ? lo : x;
    xc = xc > hi ? hi : xc;
    // Adding 1.5 * 2^23 rounds to the nearest integer, which then sits in the low mantissa bits.
    const vf magic = vset(12582912.0f);
    const vf t = xc + magic;
    const vf n = t - magic;
    const vf f = xc - n;  // in [-0.5, 0.5]
    // Taylor series of 2^f = e^(f ln 2) to degree 7: error below 1e-8 on [-0.5, 0.5].
    vf poly = vset(1.5252733804059840e-05f);
    poly = poly * f + 1.5403530393381606e-04f;
    poly = poly * f + 1.3333558146428443e-03f;
    poly = poly * f + 9.6181291076284770e-03f;
    poly = poly * f + 5.5504108664821580e-02f;
    poly = poly * f + 2.4022650695910071e-01f;
    poly = poly * f + 6.9314718055994531e-01f;
    poly = poly * f + 1.0f;
    const vi e = (as_int(t) - as_int(magic) + 127) << 23;
    const vf r = poly * as_float(e);
    return x < lo ? vf{} : r;
}
