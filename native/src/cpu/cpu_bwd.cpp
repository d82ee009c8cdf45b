// CPU backward in three passes: delta = rowsum(dout * out) per query row; the main pass over key chunks
// (kernels/attention_bwd.h); and, when keys were split into several chunks per sequence, the sum of the
// chunks' dq partials.
#include "api/backends.h"
#include "api/status.h"
#include "cpu/plan_build.h"
#include "cpu/scratch.h"
#include "cpu/thread_pool.h"

#include <algorithm>
#include <memory>

namespace fa {

namespace {

// Key chunks per (sequence, kv head). One chunk is cheapest, but batch * kv_heads items may be too
// few to keep every thread busy (MQA, batch 1): then keys are split, at the price of fp32 dq partials
// for every chunk. Deterministic calls size this from the shape alone, so that the summation order
// (and the bits of dq) does not depend on the thread count.
int32_t choose_chunks(const fa_params& p, const cpu::Plan& plan, int threads) {
    const int64_t units = static_cast<int64_t>(p.batch) * p.num_heads_kv;
    const int64_t target = p.deterministic ? 32 : 4 * static_cast<int64_t>(threads);
    const int64_t tiles = (plan.max_sk + cpu::kBlockK - 1) / cpu::kBlockK;
    int64_t chunks = std::min<int64_t>((target + units - 1) / units, tiles);
    const double partial_bytes = 4.0 * p.num_heads_q * static_cast<double>(plan.total_q_rows) * plan.dp;
    const double budget = 1024.0 * 1024.0 * 1024.0;
    chunks = std::min<int64_t>(chunks, static_cast<int64_t>(budget / std::max(1.0, partial_bytes)));
    return static_cast<int32_t>(std::max<int64_t>(chunks, 1));
}

}  // namespace

fa_status cpu_bwd(const fa_params& p) {
    if (p.device_type != FA_DEVICE_CPU)
        return fail(FA_ERR_INVALID_ARGUMENT, "the CPU backend needs device_type CPU");
    cpu::PlanStorage storage;
    cpu::build_plan(p, &storage);
    cpu::Plan& plan = storage.plan;
    const cpu::Kernels& kernels = cpu::kernels();
    const int threads = cpu::threads();

    const std::vector<cpu::RowsItem> rows = cpu::row_tiles<cpu::RowsItem>(plan);
    const size_t lse_size = static_cast<size_t>(plan.total_q_rows) * static_cast<size_t>(plan.hq);
    std::unique_ptr<float[]> delta(new float[std::max<size_t>(lse_size, 1)]);
    plan.delta = delta.get();
    plan.chunks = choose_chunks(p, plan, threads);
    std::unique_ptr<float[]> partial;
    if (plan.chunks > 1) {
        partial.reset(new float[static_cast<size_t>(plan.chunks) * lse_size * static_cast<size_t>(plan.dp)]);
        plan.dq_partial = partial.get();
    }

    cpu::Scratch scratch(threads, std::max(kernels.bwd_scratch(plan), static_cast<size_t>(2 * plan.dp + 32)));
    cpu::parallel_for(static_cast<int64_t>(rows.size()), threads, [&](int64_t i, int t) {
        kernels.bwd_delta(plan, rows[static_cast<size_t>(i)], scratch.get(t));
    });

    // Chunk-major order: under causal masking the first chunks are seen by the most queries, so the
    // longest items start first.
    std::vector<cpu::BwdItem> items;
    for (int32_t c = 0; c < plan.chunks; ++c)
        for (int32_t b = 0; b < plan.batch; ++b)
            for (int32_t h = 0; h < plan.hkv; ++h) items.push_back(cpu::BwdItem{b, h, c});
    cpu::parallel_for(static_cast<int64_t>(items.size()), threads, [&](int64_t i, int t) {
        kernels.bwd(plan, items[static_cast<size_t>(i)], scratch.get(t));
    });

    if (plan.chunks > 1) {
        cpu::parallel_for(static_cast<int64_t>(rows.size()), threads, [&](int64_t i, int t) {
            kernels.bwd_dq_reduce(plan, rows[static_cast<size_t>(i)], scratch.get(t));
        });
    }
    return FA_OK;
}

}  // namespace fa
