#include "cuda/sm90/bwd_launch.cuh"

#include <cuda_fp16.h>

FA_SM90_INSTANTIATE_BWD(F16, 64, __half)
