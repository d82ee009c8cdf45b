// Timing-only builds (-DFA_SM90_TRACE; wrong LSE): SM clock stamps of each CTA's tile stages, read by
// tests/gpu/sm90/tile_trace.py. They go into the LSE buffer, which such builds do not write otherwise, as
// word (cta * kTraceTiles + tile) * kTraceSlots + role * kTraceEvents + event; role 0..2 is a consumer
// warpgroup, 3 the producer. Other builds compile every stamp to nothing.
// Consumer events: 0 Q ready, 1 first S ready, 2 first softmax done, 3 other blocks done, 4 last P·V retired,
// 6 finalize done, 5 store done, 7 (a value) the tile's key blocks. Producer: 0 before and 1 after the wait for
// the Q slot, 2 every load of the tile issued.
#pragma once
#include <cstdint>

#include "cuda/sm90/fwd_args.h"

namespace fa::sm90 {

constexpr int kTraceTiles = 48;  // the first tiles of every CTA
constexpr int kTraceEvents = 8;  // per role
constexpr int kTraceSlots = 4 * kTraceEvents;
constexpr int kTraceProducer = 3;

__device__ __forceinline__ void trace_word(const FwdArgs& a, int tile, int role, int event, uint32_t value) {
#if defined(FA_SM90_TRACE)
    if (tile < kTraceTiles && a.lse != nullptr) {
        const int word = (blockIdx.x * kTraceTiles + tile) * kTraceSlots + role * kTraceEvents + event;
        reinterpret_cast<uint32_t*>(a.lse)[word] = value;
    }
#else
    (void)a, (void)tile, (void)role, (void)event, (void)value;
#endif
}

__device__ __forceinline__ void trace_stamp(const FwdArgs& a, int tile, int role, int event) {
#if defined(FA_SM90_TRACE)
    uint32_t c;
    asm volatile("mov.u32 %0, %%clock;" : "=r"(c)::"memory");
    trace_word(a, tile, role, event, c);
#else
    (void)a, (void)tile, (void)role, (void)event;
#endif
}

}  // namespace fa::sm90
