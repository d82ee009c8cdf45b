// Device queries, memory helpers and the pointer-placement check behind the public fa_cuda_* calls.
#include <cstdint>

#include "api/backends.h"
#include "cuda/cuda_util.h"

namespace fa {

using cuda::cuda_fail;
using cuda::DeviceGuard;

fa_status cuda_device_count(int* count) {
    *count = 0;
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) {  // no GPU or no driver: not an error
        cudaGetLastError();
        return FA_OK;
    }
    if (err != cudaSuccess) return cuda_fail(err, "cudaGetDeviceCount");
    *count = n;
    return FA_OK;
}

fa_status cuda_compute_capability(int device_index, int* capability) {
    int count = 0;
    if (fa_status st = cuda_device_count(&count); st != FA_OK) return st;
    if (device_index < 0 || device_index >= count)
        return fail(FA_ERR_INVALID_ARGUMENT, "device_index (%d) must be less than the CUDA device count (%d)",
                    device_index, count);
    int major = 0, minor = 0;
    cudaError_t err = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device_index);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device_index);
    if (err != cudaSuccess) return cuda_fail(err, "cudaDeviceGetAttribute(compute capability)");
    *capability = major * 10 + minor;
    return FA_OK;
}

fa_status cuda_malloc(int device_index, uint64_t bytes, void** ptr) {
    *ptr = nullptr;
    if (bytes == 0) return FA_OK;
    DeviceGuard guard;
    if (fa_status st = guard.enter(device_index); st != FA_OK) return st;
    const cudaError_t err = cudaMalloc(ptr, bytes);
    if (err != cudaSuccess) {
        *ptr = nullptr;
        return cuda_fail(err, "cudaMalloc");
    }
    return FA_OK;
}

fa_status cuda_free(int device_index, void* ptr) {
    if (ptr == nullptr) return FA_OK;
    DeviceGuard guard;
    if (fa_status st = guard.enter(device_index); st != FA_OK) return st;
    const cudaError_t err = cudaFree(ptr);
    return err == cudaSuccess ? FA_OK : cuda_fail(err, "cudaFree");
}

fa_status cuda_memcpy(void* dst, const void* src, uint64_t bytes) {
    const cudaError_t err = cudaMemcpy(dst, src, bytes, cudaMemcpyDefault);
    return err == cudaSuccess ? FA_OK : cuda_fail(err, "cudaMemcpy");
}

fa_status cuda_synchronize(int device_index) {
    DeviceGuard guard;
    if (fa_status st = guard.enter(device_index); st != FA_OK) return st;
    const cudaError_t err = cudaDeviceSynchronize();
    return err == cudaSuccess ? FA_OK : cuda_fail(err, "cudaDeviceSynchronize");
}

namespace {

// Device memory (or managed memory) of `device`; anything else is a caller error that would
// otherwise surface as an illegal-address fault inside a kernel.
fa_status check_one_pointer(const char* name, const void* ptr, int device) {
    if (ptr == nullptr) return FA_OK;
    cudaPointerAttributes attr{};
    const cudaError_t err = cudaPointerGetAttributes(&attr, ptr);
    if (err != cudaSuccess) {
        cudaGetLastError();
        return fail(FA_ERR_INVALID_ARGUMENT, "%s (%p) is not a pointer the CUDA runtime knows: %s", name, ptr,
                    cudaGetErrorString(err));
    }
    switch (attr.type) {
    case cudaMemoryTypeDevice:
    case cudaMemoryTypeManaged:
        if (attr.device != device)
            return fail(FA_ERR_INVALID_ARGUMENT, "%s is on CUDA device %d but device_index is %d", name, attr.device,
                        device);
        return FA_OK;
    case cudaMemoryTypeHost:
        return fail(FA_ERR_INVALID_ARGUMENT, "%s is a pinned host pointer but device_type is CUDA (pass device memory)",
                    name);
    default:
        return fail(FA_ERR_INVALID_ARGUMENT, "%s is a host pointer but device_type is CUDA", name);
    }
}

}  // namespace

namespace {

// The pointers of p that a call reads or writes, with the names the messages use.
struct NamedPointer {
    const char* name;
    const void* ptr;
    bool backward_only;
};

}  // namespace

fa_status cuda_check_host_pointers(const fa_params& p, bool backward) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        cudaGetLastError();
        return FA_OK;
    }
    const NamedPointer fields[] = {
        {"q", p.q, false},          {"k", p.k, false},     {"v", p.v, false},   {"out", p.out, false},
        {"softmax_lse", p.softmax_lse, false},              {"cu_seqlens_q", p.cu_seqlens_q, false},
        {"cu_seqlens_k", p.cu_seqlens_k, false},            {"dout", p.dout, true},
        {"dq", p.dq, true},         {"dk", p.dk, true},    {"dv", p.dv, true},
    };
    for (const auto& f : fields) {
        if ((f.backward_only && !backward) || f.ptr == nullptr) continue;
        cudaPointerAttributes attr{};
        if (cudaPointerGetAttributes(&attr, f.ptr) != cudaSuccess) {
            cudaGetLastError();
            continue;  // unknown to the runtime: ordinary host memory
        }
        if (attr.type == cudaMemoryTypeDevice)
            return fail(FA_ERR_INVALID_ARGUMENT,
                        "%s is memory of CUDA device %d but device_type is CPU (set device_type CUDA and device_index)",
                        f.name, attr.device);
    }
    return FA_OK;
}

fa_status cuda_check_pointers(const fa_params& p, bool backward) {
    const NamedPointer fields[] = {
        {"q", p.q, false},
        {"k", p.k, false},
        {"v", p.v, false},
        {"out", p.out, false},
        {"softmax_lse", p.softmax_lse, false},
        {"cu_seqlens_q", p.cu_seqlens_q, false},
        {"cu_seqlens_k", p.cu_seqlens_k, false},
        {"dout", p.dout, true},
        {"dq", p.dq, true},
        {"dk", p.dk, true},
        {"dv", p.dv, true},
        {"workspace", p.workspace, true},
    };
    for (const auto& f : fields) {
        if (f.backward_only && !backward) continue;
        if (fa_status st = check_one_pointer(f.name, f.ptr, p.device_index); st != FA_OK) return st;
    }
    return FA_OK;
}

}  // namespace fa
