#include "cuda/sm90/fwd_launch.cuh"

#include <cuda_bf16.h>

FA_SM90_INSTANTIATE_TILE(BF16, 256, 128, 64, __nv_bfloat16)
