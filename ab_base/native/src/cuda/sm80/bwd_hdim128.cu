// Backward kernels (dK/dV with atomic dQ, deterministic dQ) for compiled head dim 128.
#include "bwd_launch.cuh"

namespace fa::sm80 {
template fa_status launch_bwd<__half, 128>(const BwdArgs&, const LaunchContext&);
template fa_status launch_bwd<__nv_bfloat16, 128>(const BwdArgs&, const LaunchContext&);
}  // namespace fa::sm80
