// Throughput of the exponential forms a softmax can use, per SM and clock: ex2.approx.f32 (what the
// kernels use), the packed ex2.approx.f16x2 and ex2.approx.ftz.bf16x2 (two results per instruction;
// whether the MUFU unit also delivers them at twice the rate decides if they can relieve the head_dim-64
// kernels, which the exponentials bound), and the FMA-pipe polynomial (cuda::exp2_poly3).
//
//   nvcc -O3 -std=c++17 -arch=sm_90a -I native/src tests/gpu/sm90/mufu_probe.cu -o mufu_probe && ./mufu_probe
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>

#include "cuda/primitives/math.cuh"

constexpr int kChains = 8;     // independent dependency chains per thread, to cover the latency
constexpr int kSteps = 4096;   // exponentials per chain

__device__ __forceinline__ uint32_t ex2_f16x2(uint32_t x) {
    uint32_t y;
    asm volatile("ex2.approx.f16x2 %0, %1;" : "=r"(y) : "r"(x));
    return y;
}
__device__ __forceinline__ uint32_t ex2_bf16x2(uint32_t x) {
    uint32_t y;
    asm volatile("ex2.approx.ftz.bf16x2 %0, %1;" : "=r"(y) : "r"(x));
    return y;
}
__device__ __forceinline__ float ex2_f32(float x) {
    float y;
    asm volatile("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// Each step maps a value in (-1, 0] back into (-1, 0] (2^x - 1), so the chains stay finite.
__global__ void k_f32(float* out, float seed) {
    float v[kChains];
    for (int c = 0; c < kChains; ++c) v[c] = seed - 0.01f * (threadIdx.x % 32 + c);
    for (int i = 0; i < kSteps; ++i)
#pragma unroll
        for (int c = 0; c < kChains; ++c) v[c] = ex2_f32(v[c]) - 1.0f;
    float s = 0.f;
    for (int c = 0; c < kChains; ++c) s += v[c];
    out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

__global__ void k_poly(float* out, float seed) {
    float v[kChains];
    for (int c = 0; c < kChains; ++c) v[c] = seed - 0.01f * (threadIdx.x % 32 + c);
    for (int i = 0; i < kSteps; ++i)
#pragma unroll
        for (int c = 0; c < kChains; ++c) v[c] = fa::cuda::exp2_poly3(v[c]) - 1.0f;
    float s = 0.f;
    for (int c = 0; c < kChains; ++c) s += v[c];
    out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

// Packed forms: one instruction yields two results; the subtraction of 1 is one packed add.
template <bool kBf16>
__global__ void k_packed(float* out, float seed) {
    uint32_t v[kChains];
    const uint32_t one = kBf16 ? 0x3f803f80u : 0x3c003c00u;
    for (int c = 0; c < kChains; ++c) v[c] = (kBf16 ? 0xbe00be00u : 0xb800b800u) ^ (threadIdx.x + c);
    for (int i = 0; i < kSteps; ++i)
#pragma unroll
        for (int c = 0; c < kChains; ++c) {
            const uint32_t e = kBf16 ? ex2_bf16x2(v[c]) : ex2_f16x2(v[c]);
            if (kBf16)
                asm volatile("sub.rn.bf16x2 %0, %1, %2;" : "=r"(v[c]) : "r"(e), "r"(one));
            else
                asm volatile("sub.rn.f16x2 %0, %1, %2;" : "=r"(v[c]) : "r"(e), "r"(one));
        }
    uint32_t s = 0;
    for (int c = 0; c < kChains; ++c) s ^= v[c];
    out[blockIdx.x * blockDim.x + threadIdx.x] = static_cast<float>(s);
}

template <class F>
static void time_kernel(const char* name, F launch, double results_per_thread, int sms, int threads, int blocks,
                        double clock_hz) {
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    launch();  // warm-up
    cudaEventRecord(a);
    launch();
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0.f;
    cudaEventElapsedTime(&ms, a, b);
    const double results = results_per_thread * threads * blocks;
    const double per_sm_clock = results / (ms * 1e-3) / sms / clock_hz;
    std::printf("%-28s %8.3f ms  %7.1f results per SM per clock (%.3g /s)\n", name, ms, per_sm_clock,
                results / (ms * 1e-3));
    cudaEventDestroy(a);
    cudaEventDestroy(b);
}

int main() {
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    int clock_khz = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0);
    const double hz = clock_khz * 1e3;
    const int sms = prop.multiProcessorCount, threads = 512, blocks = sms * 4;
    float* out = nullptr;
    cudaMalloc(&out, sizeof(float) * threads * blocks);
    std::printf("%s, %d SMs, %.0f MHz (max clock; a lower real clock makes every rate below read low alike)\n",
                prop.name, sms, hz / 1e6);
    const double n = double(kChains) * kSteps;
    time_kernel("ex2.approx.ftz.f32", [&] { k_f32<<<blocks, threads>>>(out, -0.3f); }, n, sms, threads, blocks, hz);
    time_kernel("ex2.approx.f16x2 (x2)", [&] { k_packed<false><<<blocks, threads>>>(out, 0.f); }, 2 * n, sms, threads,
                blocks, hz);
    time_kernel("ex2.approx.ftz.bf16x2 (x2)", [&] { k_packed<true><<<blocks, threads>>>(out, 0.f); }, 2 * n, sms,
                threads, blocks, hz);
    time_kernel("exp2_poly3 (FMA pipe)", [&] { k_poly<<<blocks, threads>>>(out, -0.3f); }, n, sms, threads, blocks, hz);
    const cudaError_t err = cudaDeviceSynchronize();
    std::printf("status: %s\n", cudaGetErrorString(err));
    cudaFree(out);
    return err == cudaSuccess ? 0 : 1;
}
