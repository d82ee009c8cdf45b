#include "cpu/thread_pool.h"

#include "api/backends.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(FLASHATTN_CPU_X86)
#include <xmmintrin.h>
#endif

namespace fa::cpu {

namespace {

// Subnormal floats cost x86 cores a microcode assist per operation (up to ~100x slower); attention has
// no use for values below 2^-126, so every thread flushes them while it works and then restores the
// caller's setting.
class FlushDenormals {
public:
#if defined(FLASHATTN_CPU_X86)
    FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ | DAZ
    ~FlushDenormals() { _mm_setcsr(saved_); }

private:
    unsigned saved_;
#endif
};

class Pool {
public:
    void run(int64_t count, int max_threads, const std::function<void(int64_t, int)>& fn) {
        std::lock_guard<std::mutex> region(region_mutex_);
        if (count <= 0) return;
        ensure_started();
        const int64_t limit = std::min<int64_t>(static_cast<int64_t>(workers_.size()), std::max(0, max_threads - 1));
        const int helpers = static_cast<int>(std::min<int64_t>(limit, count - 1));
        {
            std::lock_guard<std::mutex> lock(mutex_);
            fn_ = &fn;
            count_ = count;
            next_.store(0, std::memory_order_relaxed);
            failed_.store(false, std::memory_order_relaxed);
            error_ = nullptr;
            // Only as many workers as there are items beyond the caller's first are woken.
            enlisted_ = helpers;
            running_ = helpers;
            ++generation_;
        }
        if (helpers > 0) wake_.notify_all();
        work(0);
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&] { return running_ == 0; });
        fn_ = nullptr;
        if (error_) {
            std::exception_ptr e = error_;
            error_ = nullptr;
            std::rethrow_exception(e);
        }
    }

    void set_threads(int n) {
        std::lock_guard<std::mutex> region(region_mutex_);
        const int want = n > 0 ? n : hardware_threads();
        if (want == wanted_ && started_) return;
        stop_workers();
        wanted_ = want;
    }

    int threads() {
        std::lock_guard<std::mutex> region(region_mutex_);
        return wanted_ > 0 ? wanted_ : hardware_threads();
    }

private:
    static int hardware_threads() {
        const unsigned n = std::thread::hardware_concurrency();
        return n == 0 ? 1 : static_cast<int>(n);
    }

    void ensure_started() {
        if (started_) return;
        if (wanted_ <= 0) wanted_ = hardware_threads();
        stop_ = false;
        workers_.reserve(static_cast<size_t>(wanted_ - 1));
        try {
            for (int i = 1; i < wanted_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
        } catch (...) {
            // The system refused more threads: carry on with the ones that started.
            wanted_ = static_cast<int>(workers_.size()) + 1;
        }
        started_ = true;
    }

    void stop_workers() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        for (std::thread& t : workers_) t.join();
        workers_.clear();
        started_ = false;
    }

    void worker_loop(int index) {
        uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stop_ || (generation_ != seen && index <= enlisted_); });
                if (stop_) return;
                seen = generation_;
            }
            work(index);
            std::lock_guard<std::mutex> lock(mutex_);
            if (--running_ == 0) done_.notify_one();
        }
    }

    void work(int thread) {
        const FlushDenormals flush;
        for (;;) {
            if (failed_.load(std::memory_order_relaxed)) return;
            const int64_t item = next_.fetch_add(1, std::memory_order_relaxed);
            if (item >= count_) return;
            try {
                (*fn_)(item, thread);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
                failed_.store(true, std::memory_order_relaxed);
            }
        }
    }

    std::mutex region_mutex_;  // one parallel region (or resize) at a time
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    int wanted_ = 0;
    bool started_ = false;
    bool stop_ = false;
    uint64_t generation_ = 0;
    int enlisted_ = 0;
    int running_ = 0;
    const std::function<void(int64_t, int)>* fn_ = nullptr;
    int64_t count_ = 0;
    std::atomic<int64_t> next_{0};
    std::atomic<bool> failed_{false};
    std::exception_ptr error_;
};

// Never destroyed: joining threads from a static destructor can deadlock at process exit (and inside
// DllMain on Windows); the OS reclaims the idle workers instead.
Pool& pool() {
    static Pool* p = new Pool();
    return *p;
}

}  // namespace

void parallel_for(int64_t count, int max_threads, const std::function<void(int64_t, int)>& fn) {
    pool().run(count, max_threads, fn);
}
void set_threads(int n) { pool().set_threads(n); }
int threads() { return pool().threads(); }

}  // namespace fa::cpu

namespace fa {
void cpu_set_num_threads(int n) { cpu::set_threads(n); }
int cpu_get_num_threads() { return cpu::threads(); }
}  // namespace fa
