#include "cuda/sm90/fwd_launch.cuh"

#include <cuda_fp16.h>

FA_SM90_INSTANTIATE_TILE(F16, 256, 128, 64, __half)
