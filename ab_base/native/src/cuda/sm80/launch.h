// Host-side launch entry points, one explicit instantiation per (dtype, compiled head dim) in the
// fwd_hdim*.cu / bwd_hdim*.cu files so that the box builds them in parallel.
#pragma once
#include <cuda_runtime.h>

#include "api/status.h"
#include "flashattn.h"
#include "params.h"
#include "traits.h"

namespace fa::sm80 {

struct LaunchContext {
    cudaStream_t stream;
    int max_smem_per_block;  // cudaDevAttrMaxSharedMemoryPerBlockOptin
    int max_smem_per_sm;     // cudaDevAttrMaxSharedMemoryPerMultiprocessor
    int force_stages;        // FLASHATTN_SM80_STAGES=1|2 (tests: run the 1-stage path on a big GPU); 0 = auto
};

template <typename T, int D>
fa_status launch_fwd(const FwdArgs& args, const LaunchContext& ctx);

template <typename T, int D>
fa_status launch_bwd(const BwdArgs& args, const LaunchContext& ctx);

// Head-dim independent backward kernels (bwd_common.cu).
template <typename T>
fa_status launch_bwd_preprocess(const BwdArgs& args, const LaunchContext& ctx);
template <typename T>
fa_status launch_bwd_convert_dq(const BwdArgs& args, const LaunchContext& ctx);

// Turns the launch status into FA_ERR_DEVICE with the CUDA message, naming the kernel.
inline fa_status check_launch(const char* what) {
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return fail(FA_ERR_DEVICE, "%s launch failed: %s", what, cudaGetErrorString(err));
    return FA_OK;
}

// Raises a kernel's dynamic shared-memory limit past the 48 KB default.
template <typename Kernel>
inline fa_status allow_smem(Kernel kernel, int bytes, const char* what) {
    if (bytes <= 48 * 1024) return FA_OK;
    const cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    if (err != cudaSuccess) {
        cudaGetLastError();
        return fail(FA_ERR_DEVICE, "%s: cannot reserve %d bytes of shared memory: %s", what, bytes,
                    cudaGetErrorString(err));
    }
    return FA_OK;
}

// Two pipeline stages when they fit `blocks` blocks per SM (the occupancy the tile shape was chosen
// for), otherwise one; 0 when even one stage does not fit (e.g. large head dims on sm86/sm89).
inline int choose_stages(int bytes_1stage, int bytes_2stage, int blocks, const LaunchContext& ctx) {
    constexpr int kReservedPerBlock = 1024;
    if (ctx.force_stages == 1 && bytes_1stage <= ctx.max_smem_per_block) return 1;
    if (ctx.force_stages == 2 && bytes_2stage <= ctx.max_smem_per_block) return 2;
    if (bytes_2stage <= ctx.max_smem_per_block && blocks * (bytes_2stage + kReservedPerBlock) <= ctx.max_smem_per_sm)
        return 2;
    if (bytes_1stage <= ctx.max_smem_per_block) return 1;
    return 0;
}

}  // namespace fa::sm80
