#include "cuda/sm90/unit_counter.h"

#include <cuda_runtime_api.h>
#include <atomic>
#include <mutex>

namespace fa::sm90 {

namespace {

constexpr int kMaxDevices = 64;
constexpr int kPairs = 64;

struct Pool {
    std::mutex mutex;
    std::atomic<int32_t*> pairs{nullptr};
    std::atomic<uint32_t> next{0};
};

Pool g_pools[kMaxDevices];

bool capturing(void* stream) {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(static_cast<cudaStream_t>(stream), &status) != cudaSuccess) {
        cudaGetLastError();
        return true;  // unknown: do not risk an allocation
    }
    return status != cudaStreamCaptureStatusNone;
}

// Synchronous: the zeros must be in place before any kernel, on any stream, reads them.
int32_t* allocate() {
    void* p = nullptr;
    if (cudaMalloc(&p, 2 * kPairs * sizeof(int32_t)) != cudaSuccess) {
        cudaGetLastError();
        return nullptr;
    }
    if (cudaMemset(p, 0, 2 * kPairs * sizeof(int32_t)) != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) {
        cudaGetLastError();
        cudaFree(p);
        return nullptr;
    }
    return static_cast<int32_t*>(p);
}

}  // namespace

int32_t* unit_counter(int device, void* stream) {
    if (device < 0 || device >= kMaxDevices || capturing(stream)) return nullptr;
    Pool& pool = g_pools[device];
    int32_t* pairs = pool.pairs.load(std::memory_order_acquire);
    if (pairs == nullptr) {
        std::lock_guard<std::mutex> lock(pool.mutex);
        pairs = pool.pairs.load(std::memory_order_relaxed);
        if (pairs == nullptr) {
            pairs = allocate();
            if (pairs == nullptr) return nullptr;
            pool.pairs.store(pairs, std::memory_order_release);
        }
    }
    return pairs + 2 * (pool.next.fetch_add(1, std::memory_order_relaxed) % kPairs);
}

}  // namespace fa::sm90
