#include "cuda/sm90/bwd_launch.cuh"

#include <cuda_bf16.h>

FA_SM90_INSTANTIATE_BWD(BF16, 128, __nv_bfloat16)
