// Argument checks shared by forward, backward, workspace-size and backend-selection calls, so that
// all four accept and reject exactly the same params with the same messages.
#pragma once
#include "flashattn.h"

namespace fa {

// Checks *p for a forward (backward == false) or backward call. On success *resolved is a copy of *p
// with the defaults resolved once for every backend: softmax_scale 0 -> 1/sqrt(head_dim), FP8
// descales 0 -> 1. On failure the message names the offending field and what was expected.
fa_status validate(const fa_params* p, bool backward, fa_params* resolved);

const char* dtype_name(int dtype);
const char* backend_name(int backend);
const char* device_type_name(int device_type);

}  // namespace fa
