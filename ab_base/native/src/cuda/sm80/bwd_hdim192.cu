// Backward kernels (dK/dV with atomic dQ, deterministic dQ) for compiled head dim 192.
#include "bwd_launch.cuh"

namespace fa::sm80 {
template fa_status launch_bwd<__half, 192>(const BwdArgs&, const LaunchContext&);
template fa_status launch_bwd<__nv_bfloat16, 192>(const BwdArgs&, const LaunchContext&);
}  // namespace fa::sm80
