// The CUDA memory helpers and the CPU thread-count knob of the public ABI. Without CUDA compiled in,
// the CUDA helpers report FA_ERR_BACKEND_UNAVAILABLE (fa_cuda_device_count reports 0 devices).
#include "api/backends.h"
#include "api/guard.h"

using fa::fail;
using fa::guarded;

namespace {
#if !defined(FLASHATTN_WITH_CUDA)
fa_status no_cuda(const char* what) {
    return fail(FA_ERR_BACKEND_UNAVAILABLE, "%s: this build of the library has no CUDA backend", what);
}
#endif
}  // namespace

extern "C" {

FA_API fa_status fa_cuda_device_count(int32_t* count) {
    return guarded([&]() -> fa_status {
        if (count == nullptr) return fail(FA_ERR_INVALID_ARGUMENT, "count is NULL");
        *count = 0;
#if defined(FLASHATTN_WITH_CUDA)
        int n = 0;
        FA_TRY(fa::cuda_device_count(&n));
        *count = n;
#endif
        return FA_OK;
    });
}

FA_API fa_status fa_cuda_compute_capability(int32_t device_index, int32_t* capability) {
    return guarded([&]() -> fa_status {
        if (capability == nullptr) return fail(FA_ERR_INVALID_ARGUMENT, "capability is NULL");
        *capability = 0;
        if (device_index < 0) return fail(FA_ERR_INVALID_ARGUMENT, "device_index (%d) must be >= 0", device_index);
#if defined(FLASHATTN_WITH_CUDA)
        int cc = 0;
        FA_TRY(fa::cuda_compute_capability(device_index, &cc));
        *capability = cc;
        return FA_OK;
#else
        return no_cuda("fa_cuda_compute_capability");
#endif
    });
}

FA_API fa_status fa_cuda_malloc(int32_t device_index, uint64_t bytes, void** ptr) {
    return guarded([&]() -> fa_status {
        if (ptr == nullptr) return fail(FA_ERR_INVALID_ARGUMENT, "ptr is NULL");
        *ptr = nullptr;
        if (device_index < 0) return fail(FA_ERR_INVALID_ARGUMENT, "device_index (%d) must be >= 0", device_index);
#if defined(FLASHATTN_WITH_CUDA)
        return fa::cuda_malloc(device_index, bytes, ptr);
#else
        return no_cuda("fa_cuda_malloc");
#endif
    });
}

FA_API fa_status fa_cuda_free(int32_t device_index, void* ptr) {
    return guarded([&]() -> fa_status {
        if (device_index < 0) return fail(FA_ERR_INVALID_ARGUMENT, "device_index (%d) must be >= 0", device_index);
#if defined(FLASHATTN_WITH_CUDA)
        return fa::cuda_free(device_index, ptr);
#else
        (void)ptr;
        return no_cuda("fa_cuda_free");
#endif
    });
}

FA_API fa_status fa_cuda_memcpy(void* dst, const void* src, uint64_t bytes) {
    return guarded([&]() -> fa_status {
#if defined(FLASHATTN_WITH_CUDA)
        if (bytes == 0) return FA_OK;
        if (dst == nullptr) return fail(FA_ERR_INVALID_ARGUMENT, "dst is NULL");
        if (src == nullptr) return fail(FA_ERR_INVALID_ARGUMENT, "src is NULL");
        return fa::cuda_memcpy(dst, src, bytes);
#else
        (void)dst, (void)src, (void)bytes;
        return no_cuda("fa_cuda_memcpy");
#endif
    });
}

FA_API fa_status fa_cuda_synchronize(int32_t device_index) {
    return guarded([&]() -> fa_status {
        if (device_index < 0) return fail(FA_ERR_INVALID_ARGUMENT, "device_index (%d) must be >= 0", device_index);
#if defined(FLASHATTN_WITH_CUDA)
        return fa::cuda_synchronize(device_index);
#else
        return no_cuda("fa_cuda_synchronize");
#endif
    });
}

// Negative counts are read as 0 (one thread per hardware thread): the setter has no status to report.
FA_API void fa_cpu_set_num_threads(int32_t n) {
    try {
        fa::cpu_set_num_threads(n < 0 ? 0 : n);
    } catch (...) {
        // Starting threads failed; the pool keeps working with the threads it has.
    }
}

FA_API int32_t fa_cpu_get_num_threads(void) { return fa::cpu_get_num_threads(); }

}  // extern "C"
