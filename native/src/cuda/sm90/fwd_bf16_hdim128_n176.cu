#include "cuda/sm90/fwd_launch.cuh"

#include <cuda_bf16.h>

FA_SM90_INSTANTIATE_WIDE(BF16, 128, 176, __nv_bfloat16)
