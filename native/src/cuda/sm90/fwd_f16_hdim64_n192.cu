#include "cuda/sm90/fwd_launch.cuh"

#include <cuda_fp16.h>

FA_SM90_INSTANTIATE_WIDE(F16, 64, 192, __half)
