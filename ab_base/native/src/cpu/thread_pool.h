// A small persistent pool of worker threads for the CPU backend. Workers are started once and reused:
// attention calls are frequent and short enough that spawning threads per call would show up.
#pragma once
#include <cstdint>
#include <functional>

namespace fa::cpu {

// Runs fn(item, thread) for every item in [0, count), items handed out dynamically so that uneven
// items (causal masking) balance. `thread` is in [0, threads()) and unique among concurrently running
// calls, so callers index per-thread scratch with it. The calling thread works too (as thread 0).
// One parallel region runs at a time; a second caller waits. The first exception thrown by fn stops
// the handing out of items and is rethrown here once every thread has stopped. At most max_threads
// threads take part (thread < max_threads), so scratch sized before the call stays big enough even if
// set_threads() runs concurrently.
void parallel_for(int64_t count, int max_threads, const std::function<void(int64_t item, int thread)>& fn);

// Threads parallel_for uses, the caller included. 0 selects one per hardware thread.
void set_threads(int n);
int threads();

}  // namespace fa::cpu
