// Fire-and-forget fp32 additions to global memory (RED), used to accumulate dQ across blocks.
#pragma once

namespace fa::cuda {

// Adds (a, b, c, d) to the four consecutive floats at p (16-byte aligned): one L2 operation on Hopper
// (with CUDA 12.1+), four scalar REDs elsewhere.
// With 32 lanes on consecutive 16-byte slots a warp instruction then covers four whole 128-byte lines.
__device__ __forceinline__ void red_add_f32x4(float* p, float a, float b, float c, float d) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && \
    (__CUDACC_VER_MAJOR__ > 12 || (__CUDACC_VER_MAJOR__ == 12 && __CUDACC_VER_MINOR__ >= 1))
    asm volatile("red.global.add.v4.f32 [%0], {%1, %2, %3, %4};\n" ::"l"(p), "f"(a), "f"(b), "f"(c), "f"(d)
                 : "memory");
#else
    atomicAdd(p, a);
    atomicAdd(p + 1, b);
    atomicAdd(p + 2, c);
    atomicAdd(p + 3, d);
#endif
}

}  // namespace fa::cuda
