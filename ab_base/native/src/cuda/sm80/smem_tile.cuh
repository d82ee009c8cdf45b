// Shared-memory tiles and the copies between them and global memory.
//
// Layout: row-major with each row padded by 8 elements (16 bytes). With COLS a multiple of 16 the
// row pitch is an odd multiple of 16 bytes modulo 128, so the 8 row addresses of an ldmatrix (and the
// 8 rows written by an accumulator store) fall on 8 different 16-byte bank groups: conflict-free for
// every compiled head dim, with no swizzle arithmetic on the address path.
#pragma once
#include <cstdint>

#include "../primitives/cp_async.cuh"
#include "../primitives/shared.cuh"

namespace fa::sm80 {

template <int ROWS, int COLS>
struct SmemTile {
    static constexpr int kRows = ROWS;
    static constexpr int kCols = COLS;
    static constexpr int kPitch = COLS + 8;                  // elements
    static constexpr int kElems = ROWS * kPitch;
    static constexpr int kBytes = kElems * 2;
};

// How a tile's 16-byte chunks are spread over THREADS threads: each thread keeps one column chunk
// and walks rows kRowsPerPass apart, so its addresses differ by a constant per pass and the compiler
// needs only a base and a step per tensor. When the chunks per row do not divide THREADS, the last
// few threads idle.
template <int ROWS, int COLS, int THREADS>
struct TileCopyPlan {
    static constexpr int kChunksPerRow = COLS / 8;
    static constexpr int kRowsPerPass = THREADS / kChunksPerRow;
    static constexpr int kPasses = (ROWS + kRowsPerPass - 1) / kRowsPerPass;
    static constexpr bool kAllActive = THREADS % kChunksPerRow == 0;
    static constexpr bool kExactPasses = ROWS % kRowsPerPass == 0;
    static_assert(kRowsPerPass >= 1, "a tile row needs more chunks than there are threads");
};

// cp.async of a ROWS x COLS tile of 16-bit elements, as Plan::kPasses passes that a caller may issue
// all at once (load_tile_async) or one by one between other work (the forward spreads a tile's passes
// over a GEMM, so their address arithmetic does not stall behind the cp.async still reading the same
// registers). Rows >= rows_valid and columns >= cols_valid (the real head_dim, a multiple of 8) are
// zero-filled without touching global memory. Consecutive threads take consecutive 16-byte chunks of a
// row: coalesced reads.
template <int ROWS, int COLS, int THREADS>
struct TileLoader {
    using Plan = TileCopyPlan<ROWS, COLS, THREADS>;
    using Tile = SmemTile<ROWS, COLS>;
    const uint16_t* gmem;  // the tile's first row
    const uint16_t* src;   // this thread's chunk in its first row
    int64_t step;          // kRowsPerPass rows
    uint32_t dst;
    int r0, rows_valid;
    bool col_ok, active;

    __device__ __forceinline__ TileLoader(uint32_t smem, const uint16_t* gmem_, int64_t row_stride, int rows_valid_,
                                          int cols_valid, int tid)
        : gmem(gmem_), rows_valid(rows_valid_) {
        r0 = tid / Plan::kChunksPerRow;
        const int c = tid % Plan::kChunksPerRow;
        active = Plan::kAllActive || r0 < Plan::kRowsPerPass;  // the others issue nothing
        col_ok = c * 8 < cols_valid;
        src = gmem + r0 * row_stride + c * 8;
        step = Plan::kRowsPerPass * row_stride;
        dst = smem + uint32_t((r0 * Tile::kPitch + c * 8) * 2);
    }

    // Pass i (passes go in order, each once): this thread's chunk in row r0 + i * kRowsPerPass.
    __device__ __forceinline__ void pass(int i) { pass_impl<false>(i, true); }

    // The same, only where `issue` (predicated, no branch: for passes placed inside an unrolled GEMM).
    __device__ __forceinline__ void pass_if(int i, bool issue) { pass_impl<true>(i, issue); }

    // Every pass at once.
    __device__ __forceinline__ void all_passes() {
        if (!active) return;
#pragma unroll
        for (int i = 0; i < Plan::kPasses; ++i) pass(i);
    }

  private:
    // The guarded form folds "row inside the tile" and "thread takes part" into the predicate too, so
    // it never branches, whatever the plan.
    template <bool kGuarded>
    __device__ __forceinline__ void pass_impl(int i, bool issue) {
        const int r = r0 + i * Plan::kRowsPerPass;
        const bool in_tile = Plan::kExactPasses || r < ROWS;
        if (kGuarded || in_tile) {
            const bool ok = col_ok && r < rows_valid;
            const uint32_t to = dst + uint32_t(i * Plan::kRowsPerPass * Tile::kPitch * 2);
            if constexpr (kGuarded)
                cuda::cp_async_16_if(to, ok ? src : gmem, ok, issue && in_tile && (Plan::kAllActive || active));
            else
                cuda::cp_async_16(to, ok ? src : gmem, ok);
        }
        src += step;
    }
};

// The whole tile at once.
template <int ROWS, int COLS, int THREADS>
__device__ __forceinline__ void load_tile_async(uint32_t smem, const uint16_t* gmem, int64_t row_stride,
                                                int rows_valid, int cols_valid, int tid) {
    TileLoader<ROWS, COLS, THREADS>(smem, gmem, row_stride, rows_valid, cols_valid, tid).all_passes();
}

// 16-byte stores of a ROWS x COLS tile from shared memory; rows/columns past the valid ones are skipped.
template <int ROWS, int COLS, int THREADS>
__device__ __forceinline__ void store_tile(uint16_t* gmem, int64_t row_stride, uint32_t smem, int rows_valid,
                                           int cols_valid, int tid) {
    using Tile = SmemTile<ROWS, COLS>;
    constexpr int kChunksPerRow = COLS / 8;
    constexpr int kChunks = ROWS * kChunksPerRow;
#pragma unroll
    for (int i = 0; i < (kChunks + THREADS - 1) / THREADS; ++i) {
        const int idx = i * THREADS + tid;
        if (kChunks % THREADS == 0 || idx < kChunks) {
            const int r = idx / kChunksPerRow, c = idx % kChunksPerRow;
            if (r < rows_valid && c * 8 < cols_valid) {
                const uint4 v = cuda::ld_shared_b128(smem + uint32_t((r * Tile::kPitch + c * 8) * 2));
                *reinterpret_cast<uint4*>(gmem + r * row_stride + c * 8) = v;
            }
        }
    }
}

// Zeros a ROWS x COLS tile in global memory (outputs of rows that see no key).
template <int ROWS, int COLS, int THREADS>
__device__ __forceinline__ void zero_tile(uint16_t* gmem, int64_t row_stride, int rows_valid, int cols_valid,
                                          int tid) {
    constexpr int kChunksPerRow = COLS / 8;
    constexpr int kChunks = ROWS * kChunksPerRow;
    for (int idx = tid; idx < kChunks; idx += THREADS) {
        const int r = idx / kChunksPerRow, c = idx % kChunksPerRow;
        if (r < rows_valid && c * 8 < cols_valid)
            *reinterpret_cast<uint4*>(gmem + r * row_stride + c * 8) = make_uint4(0, 0, 0, 0);
    }
}

}  // namespace fa::sm80
