// Failure reporting shared by every backend: a thread-local message plus an fa_status code.
#pragma once
#include "flashattn.h"

namespace fa {

// Records a printf-style message for fa_last_error() on this thread and returns `code`,
// so call sites read `return fail(FA_ERR_INVALID_ARGUMENT, "head_dim: ...");`.
fa_status fail(fa_status code, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// Clears the thread's message at the start of every public entry point.
void clear_error();

// The thread's current message ("" if none); lets the dispatcher wrap a backend's reason.
const char* last_error();

}  // namespace fa
