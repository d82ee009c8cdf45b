// Forward kernels for compiled head dim 224 (head dims up to 224 that no smaller size covers).
#include "fwd_launch.cuh"

namespace fa::sm80 {
template fa_status launch_fwd<__half, 224>(const FwdArgs&, const LaunchContext&);
template fa_status launch_fwd<__nv_bfloat16, 224>(const FwdArgs&, const LaunchContext&);
}  // namespace fa::sm80
