// Vector store to global memory. Inline PTX, because the compiler splits a uint4 store through a
// pointer it cannot prove 16-byte aligned into four 4-byte stores, even where the caller checked it.
#pragma once
#include <cstdint>

namespace fa::cuda {

__device__ __forceinline__ void st_global_v4(void* p, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    asm volatile("st.global.v4.b32 [%0], {%1, %2, %3, %4};\n" ::"l"(p), "r"(a), "r"(b), "r"(c), "r"(d) : "memory");
}

}  // namespace fa::cuda
