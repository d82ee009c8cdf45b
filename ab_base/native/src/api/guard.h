// Every public entry point runs its body through guarded(): the thread's message is cleared first,
// and no C++ exception ever crosses the C ABI (unwinding into a P/Invoke caller aborts the process).
#pragma once
#include "api/status.h"

#include <exception>
#include <new>

namespace fa {

template <class Body>
fa_status guarded(Body&& body) noexcept {
    clear_error();
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return fail(FA_ERR_OUT_OF_MEMORY, "out of host memory");
    } catch (const std::exception& e) {
        return fail(FA_ERR_INTERNAL, "internal error: %s", e.what());
    } catch (...) {
        return fail(FA_ERR_INTERNAL, "internal error: unknown exception");
    }
}

}  // namespace fa

// Propagates a non-OK status from a helper that has already recorded its message.
#define FA_TRY(expr)                              \
    do {                                          \
        const fa_status fa_try_status_ = (expr);  \
        if (fa_try_status_ != FA_OK) return fa_try_status_; \
    } while (0)
