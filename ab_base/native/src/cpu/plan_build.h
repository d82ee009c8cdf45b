// Builds the Plan of one call from validated params: per-sequence geometry (batch strides or
// cu_seqlens), padded head_dim, and the FP8 decoding table.
#pragma once
#include "cpu/plan.h"

#include <vector>

namespace fa::cpu {

struct PlanStorage {
    std::vector<Seq> seqs;
    Plan plan{};
};

void build_plan(const fa_params& p, PlanStorage* out);

// Query-row work items: every head of every sequence cut into blocks of at most `rows` rows.
template <class Item>
std::vector<Item> row_tiles(const Plan& plan, int32_t rows = kBlockQ) {
    std::vector<Item> items;
    for (int32_t b = 0; b < plan.batch; ++b)
        for (int32_t h = 0; h < plan.hq; ++h)
            for (int32_t q0 = 0; q0 < plan.seqs[b].sq; q0 += rows) {
                const int32_t rest = plan.seqs[b].sq - q0;
                items.push_back(Item{b, h, q0, rest < rows ? rest : rows});
            }
    return items;
}

}  // namespace fa::cpu
