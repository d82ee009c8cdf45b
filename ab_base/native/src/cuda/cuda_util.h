// Runtime-API plumbing shared by the CUDA backends: CUDA errors as fa_status, and the device switch
// every entry point makes for the duration of a call.
#pragma once
#include <cuda_runtime.h>

#include "api/status.h"
#include "flashattn.h"

namespace fa::cuda {

// FA_ERR_DEVICE (FA_ERR_OUT_OF_MEMORY for allocation failures) with the CUDA message. Clears the
// runtime's sticky last-error slot so that one failure is not reported again by a later call.
inline fa_status cuda_fail(cudaError_t err, const char* what) {
    cudaGetLastError();
    const fa_status code = err == cudaErrorMemoryAllocation ? FA_ERR_OUT_OF_MEMORY : FA_ERR_DEVICE;
    return fail(code, "%s: %s (%s)", what, cudaGetErrorString(err), cudaGetErrorName(err));
}

// Makes `device` current and restores the caller's device on scope exit, so the library never
// changes which device the calling thread works on.
class DeviceGuard {
public:
    DeviceGuard() = default;
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;
    ~DeviceGuard() {
        if (switched_) cudaSetDevice(previous_);
    }

    fa_status enter(int device) {
        cudaError_t err = cudaGetDevice(&previous_);
        if (err != cudaSuccess) return cuda_fail(err, "cudaGetDevice");
        if (previous_ == device) return FA_OK;
        err = cudaSetDevice(device);
        if (err != cudaSuccess) return cuda_fail(err, "cudaSetDevice");
        switched_ = true;
        return FA_OK;
    }

private:
    int previous_ = 0;
    bool switched_ = false;
};

}  // namespace fa::cuda
