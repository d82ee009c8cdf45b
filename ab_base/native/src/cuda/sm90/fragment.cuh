// Where a consumer thread's accumulator elements sit in its warpgroup's 64-row tile. A wgmma f32
// accumulator of width N gives each thread N/2 values: for every 8-column block j, elements
// 4j + {0, 1} are row r0 = 16 * warp + lane / 4, columns 8j + 2 * (lane % 4) + {0, 1}, and elements
// 4j + {2, 3} the same columns of row r0 + 8.
#pragma once

namespace fa::sm90 {

struct FragmentCoords {
    int row0;   // first of the thread's two rows, within the warpgroup's 64 rows
    int col0;   // 2 * (lane % 4): the thread's column offset within each 8-column block

    __device__ __forceinline__ explicit FragmentCoords(int thread_in_warpgroup)
        : row0(16 * (thread_in_warpgroup / 32) + (thread_in_warpgroup % 32) / 4),
          col0(2 * (thread_in_warpgroup % 4)) {}

    static __device__ __forceinline__ constexpr int row_of(int e) { return (e >> 1) & 1; }  // 0: row0, 1: row0 + 8
    __device__ __forceinline__ int col_of(int e) const { return (e >> 2) * 8 + col0 + (e & 1); }
};

}  // namespace fa::sm90
