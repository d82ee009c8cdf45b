// cuTensorMapEncodeTiled through cudaGetDriverEntryPoint: the library keeps depending on the CUDA
// runtime only (linked statically), and the driver API symbol is resolved once per process.
#include "cuda/sm90/tensor_map.h"

#include "api/status.h"

#include <cuda_runtime_api.h>
#include <cstdio>
#include <mutex>

namespace fa::sm90 {

namespace {

// The driver enums, by value: identical in every CUDA 12.x/13.x cuda.h, and spelled out so the same
// code compiles against older headers for syntax checks.
enum : int {
    kTmaUint8 = 0,
    kTmaFloat16 = 6,
    kTmaBfloat16 = 9,
    kTmaInterleaveNone = 0,
    kTmaSwizzle64B = 2,
    kTmaSwizzle128B = 3,
    kTmaL2Promotion256B = 3,
    kTmaOobFillZero = 0,
};

using EncodeTiledFn = int (*)(void* map, int data_type, uint32_t rank, void* global_address,
                              const uint64_t* global_dim, const uint64_t* global_strides, const uint32_t* box_dim,
                              const uint32_t* element_strides, int interleave, int swizzle, int l2_promotion,
                              int oob_fill);

struct Entry {
    EncodeTiledFn fn = nullptr;
    char error[160] = {0};
};

const Entry& encoder() {
    static Entry entry;
    static std::once_flag once;
    std::call_once(once, [] {
        void* fn = nullptr;
        cudaError_t err;
#if CUDART_VERSION >= 12050
        cudaDriverEntryPointQueryResult q = cudaDriverEntryPointSymbolNotFound;
        err = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &q);
        if (err == cudaSuccess && q != cudaDriverEntryPointSuccess) fn = nullptr;
#elif CUDART_VERSION >= 12000
        cudaDriverEntryPointQueryResult q = cudaDriverEntryPointSymbolNotFound;
        err = cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &fn, cudaEnableDefault, &q);
        if (err == cudaSuccess && q != cudaDriverEntryPointSuccess) fn = nullptr;
#else
        err = cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &fn, cudaEnableDefault);
#endif
        if (err != cudaSuccess) {
            std::snprintf(entry.error, sizeof entry.error, "cudaGetDriverEntryPoint(cuTensorMapEncodeTiled): %s",
                          cudaGetErrorString(err));
            cudaGetLastError();  // the failed query must not poison the next runtime call
        } else if (fn == nullptr) {
            std::snprintf(entry.error, sizeof entry.error,
                          "the CUDA driver has no cuTensorMapEncodeTiled (driver older than CUDA 12.0)");
        }
        entry.fn = reinterpret_cast<EncodeTiledFn>(fn);
    });
    return entry;
}

// A dimension of one element is never stepped over, but the encoder still checks its stride: give
// it a harmless 16-byte multiple instead of whatever the caller's view carries.
uint64_t stride_bytes(int64_t stride_elems, int64_t extent, int elem_bytes, uint64_t fallback) {
    return extent > 1 ? static_cast<uint64_t>(stride_elems) * static_cast<uint64_t>(elem_bytes) : fallback;
}

}  // namespace

const char* tensor_map_unsupported(const TensorMapDesc& d, const char* what, char* buf, size_t len) {
    if (reinterpret_cast<uintptr_t>(d.ptr) % 16 != 0) {
        std::snprintf(buf, len, "%s is not 16-byte aligned (TMA needs it)", what);
        return buf;
    }
    const struct {
        const char* name;
        int64_t stride, extent;
    } dims[3] = {{"row", d.row_stride, d.seqlen}, {"head", d.head_stride, d.heads}, {"batch", d.batch_stride, d.batch}};
    for (const auto& s : dims) {
        if (s.extent <= 1) continue;
        if (s.stride < 0) {
            std::snprintf(buf, len, "%s_%s_stride is negative (TMA needs non-negative strides)", what, s.name);
            return buf;
        }
        if ((s.stride * d.elem_bytes) % 16 != 0) {
            std::snprintf(buf, len, "%s_%s_stride (%lld elements) is not a multiple of 16 bytes (TMA needs it)", what,
                          s.name, static_cast<long long>(s.stride));
            return buf;
        }
        if (static_cast<uint64_t>(s.stride) * static_cast<uint64_t>(d.elem_bytes) >= (uint64_t{1} << 40)) {
            std::snprintf(buf, len, "%s_%s_stride is 2^40 bytes or more (TMA limit)", what, s.name);
            return buf;
        }
    }
    return nullptr;
}

fa_status encode_tensor_map(TensorMap* map, const TensorMapDesc& d, const char* what) {
    const Entry& e = encoder();
    if (e.fn == nullptr) return fail(FA_ERR_DEVICE, "sm90: cannot build the TMA descriptor of %s: %s", what, e.error);

    const uint64_t row_bytes = static_cast<uint64_t>(d.head_dim) * d.elem_bytes;
    const uint64_t fallback = (row_bytes * static_cast<uint64_t>(d.seqlen > 0 ? d.seqlen : 1) + 15) & ~uint64_t{15};
    const uint64_t dims[4] = {static_cast<uint64_t>(d.head_dim), static_cast<uint64_t>(d.seqlen),
                              static_cast<uint64_t>(d.heads), static_cast<uint64_t>(d.batch)};
    const uint64_t strides[3] = {stride_bytes(d.row_stride, d.seqlen, d.elem_bytes, fallback),
                                 stride_bytes(d.head_stride, d.heads, d.elem_bytes, fallback),
                                 stride_bytes(d.batch_stride, d.batch, d.elem_bytes, fallback)};
    const uint32_t box[4] = {static_cast<uint32_t>(d.box_cols), static_cast<uint32_t>(d.box_rows), 1, 1};
    const uint32_t elem_strides[4] = {1, 1, 1, 1};
    const int type = d.elem_bytes == 1 ? kTmaUint8 : (d.is_bf16 ? kTmaBfloat16 : kTmaFloat16);
    const int swizzle = d.swizzle_bytes == 128 ? kTmaSwizzle128B : kTmaSwizzle64B;

    const int r = e.fn(map, type, 4, const_cast<void*>(d.ptr), dims, strides, box, elem_strides, kTmaInterleaveNone,
                       swizzle, kTmaL2Promotion256B, kTmaOobFillZero);
    if (r != 0)
        return fail(FA_ERR_DEVICE,
                    "sm90: cuTensorMapEncodeTiled(%s) failed with CUresult %d (dims %llu x %llu x %llu x %llu, "
                    "byte strides %llu/%llu/%llu, box %u x %u)",
                    what, r, (unsigned long long)dims[0], (unsigned long long)dims[1], (unsigned long long)dims[2],
                    (unsigned long long)dims[3], (unsigned long long)strides[0], (unsigned long long)strides[1],
                    (unsigned long long)strides[2], box[0], box[1]);
    return FA_OK;
}

}  // namespace fa::sm90
