// Per-thread fp32 scratch for one call, allocated on first use by each thread so that threads with no
// work allocate nothing. 64-byte aligned: tiles start on cache lines.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace fa::cpu {

class Scratch {
public:
    Scratch(int threads, size_t floats) : floats_(floats), blocks_(static_cast<size_t>(threads)) {}

    float* get(int thread) {
        std::unique_ptr<float[]>& block = blocks_[static_cast<size_t>(thread)];
        if (!block) block.reset(new float[floats_ + 16]);
        const auto addr = reinterpret_cast<uintptr_t>(block.get());
        return reinterpret_cast<float*>((addr + 63) & ~static_cast<uintptr_t>(63));
    }

private:
    size_t floats_;
    std::vector<std::unique_ptr<float[]>> blocks_;
};

}  // namespace fa::cpu
