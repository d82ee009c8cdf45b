// CPU forward: one work item per query tile of each head; see kernels/attention_fwd.h.
#include "api/backends.h"
#include "api/status.h"
#include "cpu/plan_build.h"
#include "cpu/scratch.h"
#include "cpu/thread_pool.h"

#include <algorithm>

namespace fa {

namespace {

// Rows per item: as many as keep every thread busy, up to kMaxFwdRows. More rows per item means K and V
// are streamed through the cache fewer times, fewer rows means more items to balance.
int32_t choose_fwd_rows(const cpu::Plan& plan, int threads) {
    int64_t total_rows = 0;
    for (int32_t b = 0; b < plan.batch; ++b) total_rows += plan.seqs[b].sq;
    for (int32_t rows = cpu::kMaxFwdRows; rows > cpu::kBlockQ; rows /= 2) {
        const int64_t items = static_cast<int64_t>(plan.hq) * (total_rows / rows + plan.batch);
        if (items >= 4 * static_cast<int64_t>(threads)) return rows;
    }
    return cpu::kBlockQ;
}

}  // namespace

fa_status cpu_fwd(const fa_params& p) {
    if (p.device_type != FA_DEVICE_CPU)
        return fail(FA_ERR_INVALID_ARGUMENT, "the CPU backend needs device_type CPU");
    cpu::PlanStorage storage;
    cpu::build_plan(p, &storage);
    cpu::Plan& plan = storage.plan;
    const cpu::Kernels& kernels = cpu::kernels();
    const int threads = cpu::threads();
    plan.fwd_rows = choose_fwd_rows(plan, threads);

    std::vector<cpu::FwdItem> items = cpu::row_tiles<cpu::FwdItem>(plan, plan.fwd_rows);
    if (p.causal) {
        // Later tiles see more keys: start them first so that no long item is left for the end.
        std::stable_sort(items.begin(), items.end(), [&](const cpu::FwdItem& a, const cpu::FwdItem& b) {
            const int64_t ca = static_cast<int64_t>(a.q0) + plan.seqs[a.b].sk - plan.seqs[a.b].sq;
            const int64_t cb = static_cast<int64_t>(b.q0) + plan.seqs[b.b].sk - plan.seqs[b.b].sq;
            return ca > cb;
        });
    }
    cpu::Scratch scratch(threads, kernels.fwd_scratch(plan));
    cpu::parallel_for(static_cast<int64_t>(items.size()), threads, [&](int64_t i, int t) {
        kernels.fwd(plan, items[static_cast<size_t>(i)], scratch.get(t));
    });
    return FA_OK;
}

}  // namespace fa
