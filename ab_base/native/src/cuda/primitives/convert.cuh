// fp32 <-> 16-bit element conversions in the packed forms the tensor cores and 16-byte stores use.
#pragma once
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace fa::cuda {

template <typename T>
struct Convert;

template <>
struct Convert<__half> {
    // Round-to-nearest; `lo` goes to the low 16 bits, i.e. the element with the smaller index.
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __half2 h = __floats2half2_rn(lo, hi);
        return *reinterpret_cast<uint32_t*>(&h);
    }
    static __device__ __forceinline__ float2 unpack(uint32_t v) {
        return __half22float2(*reinterpret_cast<__half2*>(&v));
    }
};

template <>
struct Convert<__nv_bfloat16> {
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<uint32_t*>(&h);
    }
    static __device__ __forceinline__ float2 unpack(uint32_t v) {
        return __bfloat1622float2(*reinterpret_cast<__nv_bfloat162*>(&v));
    }
};

template <typename T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
    return Convert<T>::pack(lo, hi);
}

template <typename T>
__device__ __forceinline__ float2 unpack2(uint32_t v) {
    return Convert<T>::unpack(v);
}

}  // namespace fa::cuda
