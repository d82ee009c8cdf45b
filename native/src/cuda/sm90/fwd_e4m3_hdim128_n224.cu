#include "cuda/sm90/fwd_launch.cuh"

#include <cuda_bf16.h>

FA_SM90_INSTANTIATE_WIDE(E4M3, 128, 224, __nv_bfloat16)
