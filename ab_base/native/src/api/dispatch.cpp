#include "api/dispatch.h"

#include "api/backends.h"
#include "api/guard.h"
#include "api/validate.h"

#include <string>

namespace fa {

namespace {

fa_status select_cpu(const fa_params& p, bool backward, int* backend) {
    if (p.backend != FA_BACKEND_AUTO && p.backend != FA_BACKEND_CPU)
        return fail(FA_ERR_INVALID_ARGUMENT, "backend %s needs device_type CUDA, but device_type is CPU",
                    backend_name(p.backend));
#if defined(FLASHATTN_WITH_CUDA)
    // A device pointer handed to the CPU backend would fault on first touch: find it while it is an error.
    FA_TRY(cuda_check_host_pointers(p, backward));
#else
    (void)backward;
#endif
    *backend = FA_BACKEND_CPU;
    return FA_OK;
}

#if defined(FLASHATTN_WITH_CUDA)

// Asks a backend's supports() predicate; when it says no, keeps whatever reason it recorded.
template <class Pred>
bool ask(Pred&& supports, std::string* reason) {
    clear_error();
    if (supports()) return true;
    *reason = last_error();
    clear_error();
    return false;
}

fa_status select_cuda(const fa_params& p, bool backward, int* backend) {
    int count = 0;
    FA_TRY(cuda_device_count(&count));
    if (count == 0)
        return fail(FA_ERR_BACKEND_UNAVAILABLE, "device_type is CUDA but no CUDA device (or driver) is available");
    if (p.device_index >= count)
        return fail(FA_ERR_BACKEND_UNAVAILABLE, "device_index (%d) must be less than the CUDA device count (%d)",
                    p.device_index, count);
    FA_TRY(cuda_check_pointers(p, backward));

    std::string why80, why90;
    const bool want90 = p.backend == FA_BACKEND_AUTO || p.backend == FA_BACKEND_CUDA_SM90;
    const bool want80 = p.backend == FA_BACKEND_AUTO || p.backend == FA_BACKEND_CUDA_SM80;
#if defined(FLASHATTN_WITH_SM90)
    if (want90) {
        if (ask([&] { return sm90_supports(p, backward); }, &why90)) {
            *backend = FA_BACKEND_CUDA_SM90;
            return FA_OK;
        }
    }
#else
    if (want90) why90 = "this build has no FlashAttention-3 kernels (they need nvcc >= 12.3)";
#endif
    if (want80 && ask([&] { return sm80_supports(p, backward); }, &why80)) {
        *backend = FA_BACKEND_CUDA_SM80;
        return FA_OK;
    }
    if (why90.empty()) why90 = "it does not support this call";
    if (why80.empty()) why80 = "it does not support this call";
    if (p.backend == FA_BACKEND_CUDA_SM90)
        return fail(FA_ERR_UNSUPPORTED, "backend CUDA_SM90 cannot run this %s: %s", backward ? "backward" : "forward",
                    why90.c_str());
    if (p.backend == FA_BACKEND_CUDA_SM80)
        return fail(FA_ERR_UNSUPPORTED, "backend CUDA_SM80 cannot run this %s: %s", backward ? "backward" : "forward",
                    why80.c_str());
    return fail(FA_ERR_UNSUPPORTED, "no CUDA backend can run this %s (dtype %s, head_dim %d): CUDA_SM90: %s; CUDA_SM80: %s",
                backward ? "backward" : "forward", dtype_name(p.dtype), p.head_dim, why90.c_str(), why80.c_str());
}

#endif  // FLASHATTN_WITH_CUDA

}  // namespace

fa_status select_backend(const fa_params& p, bool backward, int* backend) {
    if (p.device_type == FA_DEVICE_CPU) return select_cpu(p, backward, backend);
    if (p.backend == FA_BACKEND_CPU)
        return fail(FA_ERR_INVALID_ARGUMENT, "backend CPU needs device_type CPU, but device_type is CUDA");
#if defined(FLASHATTN_WITH_CUDA)
    return select_cuda(p, backward, backend);
#else
    return fail(FA_ERR_BACKEND_UNAVAILABLE,
                "device_type is CUDA but this build of the library has no CUDA backend (built without a CUDA compiler)");
#endif
}

}  // namespace fa

using fa::guarded;

extern "C" {

FA_API fa_status fa_mha_fwd(const fa_params* pp) {
    return guarded([&]() -> fa_status {
        fa_params p;
        FA_TRY(fa::validate(pp, false, &p));
        int backend = 0;
        FA_TRY(fa::select_backend(p, false, &backend));
        switch (backend) {
        case FA_BACKEND_CPU: return fa::cpu_fwd(p);
#if defined(FLASHATTN_WITH_CUDA)
        case FA_BACKEND_CUDA_SM80: return fa::sm80_fwd(p);
#endif
#if defined(FLASHATTN_WITH_SM90)
        case FA_BACKEND_CUDA_SM90: return fa::sm90_fwd(p);
#endif
        default: return fa::fail(FA_ERR_INTERNAL, "internal error: forward selected backend %d", backend);
        }
    });
}

FA_API fa_status fa_mha_bwd(const fa_params* pp) {
    return guarded([&]() -> fa_status {
        fa_params p;
        FA_TRY(fa::validate(pp, true, &p));
        int backend = 0;
        FA_TRY(fa::select_backend(p, true, &backend));
        switch (backend) {
        case FA_BACKEND_CPU: return fa::cpu_bwd(p);
#if defined(FLASHATTN_WITH_CUDA)
        case FA_BACKEND_CUDA_SM80:
        case FA_BACKEND_CUDA_SM90: {
            // Both CUDA backwards use the same workspace layout (the sm80 passes around their main kernel).
            if (p.workspace != nullptr) {
                const uint64_t need = fa::sm80_bwd_workspace_size(p);
                if (p.workspace_bytes < need)
                    return fa::fail(FA_ERR_INVALID_ARGUMENT,
                                    "workspace_bytes (%llu) is less than the %llu bytes this backward needs "
                                    "(see fa_mha_bwd_workspace_size)",
                                    static_cast<unsigned long long>(p.workspace_bytes),
                                    static_cast<unsigned long long>(need));
            }
#if defined(FLASHATTN_WITH_SM90)
            if (backend == FA_BACKEND_CUDA_SM90) return fa::sm90_bwd(p);
#endif
            return fa::sm80_bwd(p);
        }
#endif
        default: return fa::fail(FA_ERR_INTERNAL, "internal error: backward selected backend %d", backend);
        }
    });
}

FA_API fa_status fa_mha_bwd_workspace_size(const fa_params* pp, uint64_t* bytes) {
    return guarded([&]() -> fa_status {
        if (bytes == nullptr) return fa::fail(FA_ERR_INVALID_ARGUMENT, "bytes is NULL");
        *bytes = 0;
        fa_params p;
        FA_TRY(fa::validate(pp, true, &p));
        int backend = 0;
        FA_TRY(fa::select_backend(p, true, &backend));
#if defined(FLASHATTN_WITH_CUDA)
        if (backend == FA_BACKEND_CUDA_SM80 || backend == FA_BACKEND_CUDA_SM90) *bytes = fa::sm80_bwd_workspace_size(p);
#endif
        return FA_OK;
    });
}

FA_API fa_status fa_select_backend(const fa_params* pp, int32_t is_backward, int32_t* backend) {
    return guarded([&]() -> fa_status {
        if (backend == nullptr) return fa::fail(FA_ERR_INVALID_ARGUMENT, "backend is NULL");
        if (is_backward != 0 && is_backward != 1)
            return fa::fail(FA_ERR_INVALID_ARGUMENT, "is_backward (%d) must be 0 or 1", is_backward);
        fa_params p;
        FA_TRY(fa::validate(pp, is_backward != 0, &p));
        int chosen = 0;
        FA_TRY(fa::select_backend(p, is_backward != 0, &chosen));
        *backend = chosen;
        return FA_OK;
    });
}

}  // extern "C"
