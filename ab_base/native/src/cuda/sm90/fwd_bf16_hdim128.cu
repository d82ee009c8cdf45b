#include "cuda/sm90/fwd_launch.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

FA_SM90_INSTANTIATE(BF16, 128, __nv_bfloat16)
