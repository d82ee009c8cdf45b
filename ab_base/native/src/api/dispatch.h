// Backend choice: which compiled implementation runs a validated call.
#pragma once
#include "flashattn.h"

namespace fa {

// Picks the backend for the validated params p (fa_backend value in *backend). AUTO takes the fastest
// compiled backend that supports the call on p's device; a named backend that cannot run it fails
// with the reason, never falls back.
fa_status select_backend(const fa_params& p, bool backward, int* backend);

}  // namespace fa
