// Forward kernels for compiled head dim 256 (head dims up to 256 that no smaller size covers).
#include "fwd_launch.cuh"

namespace fa::sm80 {
template fa_status launch_fwd<__half, 256>(const FwdArgs&, const LaunchContext&);
template fa_status launch_fwd<__nv_bfloat16, 256>(const FwdArgs&, const LaunchContext&);
}  // namespace fa::sm80
