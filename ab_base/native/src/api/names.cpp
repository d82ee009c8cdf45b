#include "api/validate.h"

namespace fa {

const char* dtype_name(int dtype) {
    switch (dtype) {
    case FA_DTYPE_FLOAT32: return "FLOAT32";
    case FA_DTYPE_FLOAT16: return "FLOAT16";
    case FA_DTYPE_BFLOAT16: return "BFLOAT16";
    case FA_DTYPE_FLOAT8_E4M3: return "FLOAT8_E4M3";
    default: return "unknown";
    }
}

const char* backend_name(int backend) {
    switch (backend) {
    case FA_BACKEND_AUTO: return "AUTO";
    case FA_BACKEND_CPU: return "CPU";
    case FA_BACKEND_CUDA_SM80: return "CUDA_SM80";
    case FA_BACKEND_CUDA_SM90: return "CUDA_SM90";
    default: return "unknown";
    }
}

const char* device_type_name(int device_type) {
    switch (device_type) {
    case FA_DEVICE_CPU: return "CPU";
    case FA_DEVICE_CUDA: return "CUDA";
    default: return "unknown";
    }
}

}  // namespace fa
