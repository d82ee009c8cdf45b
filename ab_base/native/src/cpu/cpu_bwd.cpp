// CPU backward in three passes: delta = rowsum(dout * out) per query row; the main pass over key ranges
// (kernels/attention_bwd.h); and, when dq was accumulated in fp32 partials (keys split into several
// ranges, or ranges longer than an item holds at once), their sum.
#include "api/backends.h"
#include "api/status.h"
#include "cpu/plan_build.h"
#include "cpu/scratch.h"
#include "cpu/thread_pool.h"

#include <algorithm>
#include <memory>

namespace fa {

namespace {

// Keys an item holds in fp32 at once (K, V, dK, dV): about 8 MiB per thread, at least one tile.
int32_t choose_chunk_keys(const cpu::Plan& plan) {
    const int64_t keys = (int64_t{8} << 20) / (16 * static_cast<int64_t>(plan.dp));
    return static_cast<int32_t>(std::max<int64_t>(keys / cpu::kBlockK, 1) * cpu::kBlockK);
}

// Key ranges per (sequence, kv head), one item each. One is cheapest, but batch * kv_heads items may
// be too few to keep every thread busy (MQA, batch 1): then keys are split, at the price of an fp32
// dq partial per range. Deterministic calls size this from the shape alone, so that the summation
// order (and the bits of dq) does not depend on the thread count.
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
    plan.chunk_keys = choose_chunk_keys(plan);
    int32_t longest_range = 0;  // keys of the largest item
    for (int32_t b = 0; b < plan.batch; ++b) {
        int32_t k0 = 0, k1 = 0;
        cpu::chunk_range(plan.seqs[b].sk, plan.chunks, 0, &k0, &k1);
        longest_range = std::max(longest_range, k1 - k0);
    }
    if (longest_range <= plan.chunk_keys)
        plan.chunk_keys = std::max(cpu::kBlockK, (longest_range + cpu::kBlockK - 1) / cpu::kBlockK * cpu::kBlockK);
    // dq goes straight to the output when one slice of one range covers every sequence's keys;
    // otherwise it is summed in fp32 first.
    std::unique_ptr<float[]> partial;
    if (plan.chunks > 1 || longest_range > plan.chunk_keys) {
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

    if (plan.dq_partial) {
        cpu::parallel_for(static_cast<int64_t>(rows.size()), threads, [&](int64_t i, int t) {
            kernels.bwd_dq_reduce(plan, rows[static_cast<size_t>(i)], scratch.get(t));
        });
    }
    return FA_OK;
}

}  // namespace fa
