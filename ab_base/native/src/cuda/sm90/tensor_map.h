// Host side of TMA: the CUtensorMap type and the encoder, reached through the runtime's driver
// entry point so the library never links libcuda. CUDA < 12 headers (only used here for PTX syntax
// checks) lack these declarations, so a layout-compatible stand-in is declared for them.
#pragma once
#include "flashattn.h"

#include <cuda.h>
#include <cstdint>

#if CUDA_VERSION < 12000
namespace fa::sm90 {
struct alignas(64) TensorMap {
    unsigned long long opaque[16];
};
}  // namespace fa::sm90
#else
namespace fa::sm90 {
using TensorMap = CUtensorMap;
}  // namespace fa::sm90
#endif

namespace fa::sm90 {

// TMA reads the map as 128 bytes on at least a 64-byte boundary (CUDA 13 headers align it further).
static_assert(sizeof(TensorMap) == 128 && alignof(TensorMap) >= 64, "CUtensorMap is 128 bytes, at least 64-aligned");

// One attention operand as TMA sees it: (head_dim, seqlen, heads, batch), innermost first, with byte
// strides for the three outer dimensions. Tiles are boxes of (box_cols, box_rows, 1, 1).
struct TensorMapDesc {
    const void* ptr;
    int elem_bytes;        // 1 (e4m3) or 2 (f16 / bf16)
    bool is_bf16;          // data type recorded in the map; only matters for 2-byte elements
    int64_t head_dim, seqlen, heads, batch;
    int64_t row_stride, head_stride, batch_stride;  // elements
    int box_cols, box_rows;
    int swizzle_bytes;     // 128 or 64
};

// Encodes `desc` into `map`. Failures (driver missing the entry point, a rejected layout) are reported
// through fa::fail with FA_ERR_DEVICE and the CUresult; `what` names the operand in the message.
fa_status encode_tensor_map(TensorMap* map, const TensorMapDesc& desc, const char* what);

// Whether TMA can address `desc` at all: 16-byte aligned base and strides (of dimensions with more
// than one element), non-negative strides. Returns a reason, or nullptr when it can.
const char* tensor_map_unsupported(const TensorMapDesc& desc, const char* what, char* buf, size_t buf_len);

}  // namespace fa::sm90
