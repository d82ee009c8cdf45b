// fp32 -> e4m3 packing for the FP8 P·V operand: four values per 32-bit register, lowest index in the
// lowest byte (the order wgmma reads a register-A fragment in).
#pragma once
#include <cstdint>

namespace fa::sm90 {

// Saturating round-to-nearest: probabilities never exceed the softmax's offset range, but a stray
// large value must clip to 448 rather than become NaN.
__device__ __forceinline__ uint32_t pack_e4m3x4(float x0, float x1, float x2, float x3) {
    uint32_t r;
    asm("{\n"
        ".reg .b16 lo, hi;\n"
        "cvt.rn.satfinite.e4m3x2.f32 lo, %2, %1;\n"
        "cvt.rn.satfinite.e4m3x2.f32 hi, %4, %3;\n"
        "mov.b32 %0, {lo, hi};\n"
        "}\n"
        : "=r"(r)
        : "f"(x0), "f"(x1), "f"(x2), "f"(x3));
    return r;
}

}  // namespace fa::sm90
