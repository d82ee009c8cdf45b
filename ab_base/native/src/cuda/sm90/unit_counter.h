// The global counters of the dynamic tile order (dynamic_order.cuh).
#pragma once
#include <cstdint>

namespace fa::sm90 {

// A pair of int32 {next unit, CTAs done} in device memory of `device` (the current device), zero, for one
// launch on `stream`; the launch's last CTA zeroes it again. nullptr if there is no pool and none can be
// made now (then the caller schedules otherwise).
//
// Per device, 64 pairs are allocated and zeroed on the first call and kept for the life of the process
// (512 bytes; that first call waits for the device once). Launches take the pairs in turn, so kernels on one
// stream never share one, nor do up to 64 kernels in flight at once on different streams. During a stream
// capture nullptr comes back: an allocation would invalidate the capture, and a graph would replay the pair
// it was captured with alongside launches that take the same pair in turn.
int32_t* unit_counter(int device, void* stream);

}  // namespace fa::sm90
