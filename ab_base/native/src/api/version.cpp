// Build identity: ABI version, human-readable version, compiled-in backends, params defaults.
#include "api/backends.h"
#include "cpu/plan.h"

#include <cstring>
#include <cstdio>

#ifndef FLASHATTN_VERSION
#define FLASHATTN_VERSION "0.0.0"
#endif

#if defined(FLASHATTN_WITH_SM90)
#define FA_CUDA_TEXT ", cuda sm80 sm90)"
#elif defined(FLASHATTN_WITH_CUDA)
#define FA_CUDA_TEXT ", cuda sm80)"
#else
#define FA_CUDA_TEXT ")"
#endif

extern "C" {

FA_API void fa_params_init(fa_params* p) {
    if (p == nullptr) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof(fa_params);
    p->device_type = FA_DEVICE_CPU;
    p->backend = FA_BACKEND_AUTO;
    p->dtype = FA_DTYPE_FLOAT32;
    p->out_dtype = FA_DTYPE_FLOAT32;
    p->q_descale = p->k_descale = p->v_descale = 1.0f;
}

FA_API uint32_t fa_abi_version(void) { return FA_ABI_VERSION; }

// e.g. "0.1.0 (cpu avx512, cuda sm80 sm90)": the CPU kernels' instruction set is chosen at run time.
// Formatted into a fixed buffer once: nothing here can throw across the C ABI.
FA_API const char* fa_version_string(void) {
    static char text[128];
    static const int once = std::snprintf(text, sizeof text, "%s (cpu %s%s", FLASHATTN_VERSION,
                                          fa::cpu::kernels().name, FA_CUDA_TEXT);
    (void)once;
    return text;
}

FA_API uint32_t fa_capabilities(void) {
    uint32_t caps = FA_CAP_CPU;
#if defined(FLASHATTN_WITH_CUDA)
    caps |= FA_CAP_CUDA_SM80;
#endif
#if defined(FLASHATTN_WITH_SM90)
    caps |= FA_CAP_CUDA_SM90 | FA_CAP_FP8;
#endif
    return caps;
}

}  // extern "C"
