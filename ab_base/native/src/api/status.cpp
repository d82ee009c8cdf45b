#include "api/status.h"

#include <cstdarg>
#include <cstdio>

namespace fa {

namespace {
// A fixed buffer rather than std::string: fa_last_error() hands out a pointer that must stay valid
// until the next call on this thread, and a fixed buffer can never throw while reporting an error.
thread_local char t_message[1024];
}  // namespace

fa_status fail(fa_status code, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(t_message, sizeof t_message, fmt, args);
    va_end(args);
    return code;
}

void clear_error() { t_message[0] = '\0'; }

const char* last_error() { return t_message; }

}  // namespace fa

extern "C" FA_API const char* fa_last_error(void) { return fa::last_error(); }
