// The internal contract between the API layer (validation, dispatch) and the backends.
// The API layer has already checked every shape, stride, dtype and pointer that does not need a
// device query by the time a backend function is called; a backend checks only what is specific to
// it (device placement, compiled head dims, architecture) and reports failures through fa::fail.
#pragma once
#include "flashattn.h"
#include <cstdint>

namespace fa {

// Always compiled.
fa_status cpu_fwd(const fa_params& p);
fa_status cpu_bwd(const fa_params& p);
void      cpu_set_num_threads(int n);
int       cpu_get_num_threads();

#if defined(FLASHATTN_WITH_CUDA)
// Device helpers (native/src/cuda/device.cu).
fa_status cuda_device_count(int* count);
fa_status cuda_compute_capability(int device_index, int* capability);
fa_status cuda_malloc(int device_index, uint64_t bytes, void** ptr);
fa_status cuda_free(int device_index, void* ptr);
fa_status cuda_memcpy(void* dst, const void* src, uint64_t bytes);
fa_status cuda_synchronize(int device_index);
// For device_type CPU: fails if a pointer of p is CUDA device memory (the CPU backend cannot read it).
// Without a CUDA driver nothing can be device memory, and the check passes.
fa_status cuda_check_host_pointers(const fa_params& p, bool backward);
// Checks that every non-null pointer of p lives on CUDA device p.device_index.
fa_status cuda_check_pointers(const fa_params& p, bool backward);

// FlashAttention-2 kernels (native/src/cuda/sm80).
bool      sm80_supports(const fa_params& p, bool backward);
fa_status sm80_fwd(const fa_params& p);
fa_status sm80_bwd(const fa_params& p);
uint64_t  sm80_bwd_workspace_size(const fa_params& p);
#endif

#if defined(FLASHATTN_WITH_SM90)
// FlashAttention-3 kernels (native/src/cuda/sm90). The backward shares the sm80 backward's workspace
// layout and passes, so its workspace size is sm80_bwd_workspace_size.
bool      sm90_supports(const fa_params& p, bool backward);
fa_status sm90_fwd(const fa_params& p);
fa_status sm90_bwd(const fa_params& p);
#endif

}  // namespace fa
