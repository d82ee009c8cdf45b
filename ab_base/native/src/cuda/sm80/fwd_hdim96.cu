// Forward kernels for compiled head dim 96 (head dims up to 96 that no smaller size covers).
#include "fwd_launch.cuh"

namespace fa::sm80 {
template fa_status launch_fwd<__half, 96>(const FwdArgs&, const LaunchContext&);
template fa_status launch_fwd<__nv_bfloat16, 96>(const FwdArgs&, const LaunchContext&);
}  // namespace fa::sm80
