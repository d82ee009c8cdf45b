// Tile plumbing shared by the forward and backward kernels: carving per-thread scratch, loading rows
// of one head into fp32 tiles, transposing a tile, row-wise dot products.

constexpr int BR = kBlockQ;
constexpr int BC = kBlockK;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

inline size_t round16(size_t n) { return (n + 15) & ~static_cast<size_t>(15); }

// Hands out the next n floats of a thread's scratch, 64-byte aligned when the scratch is.
inline float* carve(float*& ws, size_t n) {
    float* p = ws;
    ws += round16(n);
    return p;
}

// rows [nr x dp] (row-major) -> t [dp x ldt] times scale, columns nr..ldt zero. Done in 8 x 8 blocks
// so that reads and writes both stay within a few cache lines.
inline void transpose_tile(const float* __restrict rows, int nr, int dp, float scale, float* __restrict t, int ldt) {
    for (int c0 = 0; c0 < dp; c0 += 8) {
        const int c1 = c0 + 8 < dp ? c0 + 8 : dp;
        for (int r0 = 0; r0 < nr; r0 += 8) {
            const int r1 = r0 + 8 < nr ? r0 + 8 : nr;
            for (int c = c0; c < c1; ++c)
                for (int r = r0; r < r1; ++r) t[c * ldt + r] = rows[r * dp + c] * scale;
        }
        for (int c = c0; c < c1; ++c)
            for (int r = nr; r < ldt; ++r) t[c * ldt + r] = 0.0f;
    }
}

inline float dot_padded(const float* a, const float* b, int dp) {
    vf acc = vf{};
    for (int i = 0; i < dp; i += FA_W) acc += vload(a + i) * vload(b + i);
    float s = 0.0f;
    for (int i = 0; i < FA_W; ++i) s += acc[i];
    return s;
}

// The rows of one head of one sequence, as element offsets: row r is at base + r * row_stride.
struct HeadRows {
    const void* data;
    int dtype;
    int64_t base, row_stride;
    const void* row(int64_t r) const { return elem(data, dtype, base + r * row_stride); }
};

inline HeadRows head_rows(const void* data, int dtype, int64_t batch_off, int64_t row0, int64_t row_stride,
                          int64_t head_off) {
    return HeadRows{data, dtype, batch_off + row0 * row_stride + head_off, row_stride};
}

// rows r0 .. r0+n of a head into tile [n x dp], times scale, padding columns zeroed.
inline void load_rows(const HeadRows& src, int64_t r0, int n, int d, int dp, float scale, const float* fp8,
                      float* tile) {
    for (int r = 0; r < n; ++r) load_row(src.row(r0 + r), src.dtype, d, scale, fp8, tile + static_cast<size_t>(r) * dp, dp);
}

// Asks for the next K/V tile while this one is computed: rows are usually far apart (other heads lie
// between them), which defeats the hardware prefetchers.
inline void prefetch_rows(const HeadRows& src, int64_t r0, int n, int row_bytes) {
    for (int r = 0; r < n; ++r) {
        const char* row = static_cast<const char*>(src.row(r0 + r));
        for (int b = 0; b < row_bytes; b += 64) __builtin_prefetch(row + b);
    }
}

// Causal masking of a key-major score tile s[c * ld + r] (key k0 + c, query q0 + r): query i sees key j
// iff j <= i + diag. Only tiles crossing the diagonal get here.
inline void mask_causal(float* s, int ld, int nk, int ncols, int64_t k0, int64_t q0, int64_t diag) {
    const float ninf = -__builtin_inff();
    for (int c = 0; c < nk; ++c) {
        const int64_t first = k0 + c - diag - q0;  // first tile row that sees key k0 + c
        const int stop = first <= 0 ? 0 : first >= ncols ? ncols : static_cast<int>(first);
        for (int r = 0; r < stop; ++r) s[c * ld + r] = ninf;
    }
}
