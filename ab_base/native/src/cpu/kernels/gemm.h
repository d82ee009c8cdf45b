// The small matrix products of one attention tile, C (+)= A * B with fp32 operands in cache.
// A is addressed with two strides, A(m, k) = A[m * ars + k * acs], so the same kernel multiplies by a
// matrix or by its transpose without copying (P and dS are kept key-major, see attention_*.h).
// B and C are row-major with N a multiple of FA_W. Register blocking: an MR x (NV * FA_W) block of C
// stays in registers while k runs, each step one broadcast of A per row and NV vector loads of B.

#if defined(__clang__)
#define FA_UNROLL _Pragma("unroll")
#else
#define FA_UNROLL _Pragma("GCC unroll 16")
#endif

template <int MR, int NV>
inline void micro_kernel(int K, const float* __restrict A, ptrdiff_t ars, ptrdiff_t acs, const float* __restrict B,
                         ptrdiff_t ldb, float* __restrict C, ptrdiff_t ldc, bool accumulate) {
    vf acc[MR][NV];
    FA_UNROLL for (int m = 0; m < MR; ++m) {
        FA_UNROLL for (int v = 0; v < NV; ++v) acc[m][v] = accumulate ? vload(C + m * ldc + v * FA_W) : vf{};
    }
    for (int k = 0; k < K; ++k) {
        vf b[NV];
        FA_UNROLL for (int v = 0; v < NV; ++v) b[v] = vload(B + k * ldb + v * FA_W);
        const float* a = A + k * acs;
        FA_UNROLL for (int m = 0; m < MR; ++m) {
            const vf am = vset(a[m * ars]);
            FA_UNROLL for (int v = 0; v < NV; ++v) acc[m][v] += am * b[v];
        }
    }
    FA_UNROLL for (int m = 0; m < MR; ++m) {
        FA_UNROLL for (int v = 0; v < NV; ++v) vstore(C + m * ldc + v * FA_W, acc[m][v]);
    }
}

// Rows [0, M) of one column panel: full MR blocks, then one smaller block for the rest.
template <int MR, int NV>
inline void panel(int M, int K, const float* A, ptrdiff_t ars, ptrdiff_t acs, const float* B, ptrdiff_t ldb, float* C,
                  ptrdiff_t ldc, bool accumulate) {
    int m = 0;
    for (; m + MR <= M; m += MR) micro_kernel<MR, NV>(K, A + m * ars, ars, acs, B, ldb, C + m * ldc, ldc, accumulate);
    const int rest = M - m;
    if (rest == 0) return;
    if constexpr (MR > 1) {
        // Recurse on a smaller MR to get a compile-time block for the remainder.
        panel<(MR > 1 ? MR - 1 : 1), NV>(rest, K, A + m * ars, ars, acs, B, ldb, C + m * ldc, ldc, accumulate);
    }
}

// C[M x N] = A[M x K] * B[K x N] (+ C when accumulate). N must be a multiple of FA_W.
inline void gemm(int M, int N, int K, const float* A, ptrdiff_t ars, ptrdiff_t acs, const float* B, ptrdiff_t ldb,
                 float* C, ptrdiff_t ldc, bool accumulate) {
    constexpr int NC = FA_NV * FA_W;
    int n = 0;
    for (; n + NC <= N; n += NC) panel<FA_MR, FA_NV>(M, K, A, ars, acs, B + n, ldb, C + n, ldc, accumulate);
    for (; n < N; n += FA_W) panel<FA_MR, 1>(M, K, A, ars, acs, B + n, ldb, C + n, ldc, accumulate);
}
