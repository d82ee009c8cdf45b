// Environment overrides of the FA3 forward's launch choices, for A/B measurements against the
// defaults in one process (tests/gpu/sm90/bench_sm90.py). Read on every call, so a benchmark can flip
// them between calls; unset means the defaults.
#pragma once
#include <cstdlib>
#include <cstring>

namespace fa::sm90 {

inline bool env_is(const char* name, const char* value) {
    const char* v = std::getenv(name);
    return v != nullptr && std::strcmp(v, value) == 0;
}

// FLASHATTN_SM90_SCHEDULER=static: causal calls use single-tile round-robin units as before the
// m-block pairing (tile_scheduler.cuh).
inline bool static_schedule_requested() { return env_is("FLASHATTN_SM90_SCHEDULER", "static"); }

// FLASHATTN_SM90_BLOCK_N=wide / narrow: calls with a wide-key kernel (head_dim 64; e4m3 head_dim 128) take
// it / the 128-key one whatever fwd_api.cu would choose (both 128-row kernels, unless FLASHATTN_SM90_BLOCK_M
// is 192); 16-bit head_dim-256 calls take the 80-key / the 64-key kernel. 1, 0, or -1 when unset.
inline int wide_block_n_override() {
    return env_is("FLASHATTN_SM90_BLOCK_N", "wide") ? 1 : env_is("FLASHATTN_SM90_BLOCK_N", "narrow") ? 0 : -1;
}

// FLASHATTN_SM90_BLOCK_M=192 / 128: head_dim-64 calls take the 192-row kernel (three consumer warpgroups) /
// the 128-row ones whatever fwd_api.cu would choose. 1, 0, or -1 when unset.
inline int tall_block_m_override() {
    return env_is("FLASHATTN_SM90_BLOCK_M", "192") ? 1 : env_is("FLASHATTN_SM90_BLOCK_M", "128") ? 0 : -1;
}

// FLASHATTN_SM90_GRID=persistent / per_unit / dynamic: one CTA per SM walking the static order of the units,
// one CTA per unit (the hardware's block scheduler balances units of unequal cost), or one CTA per SM drawing
// units from a global counter (dynamic_order.cuh), whatever launch_fwd would choose.
enum class GridMode { kDefault, kPersistent, kPerUnit, kDynamic };
inline GridMode grid_mode_override() {
    if (env_is("FLASHATTN_SM90_GRID", "persistent")) return GridMode::kPersistent;
    if (env_is("FLASHATTN_SM90_GRID", "per_unit")) return GridMode::kPerUnit;
    if (env_is("FLASHATTN_SM90_GRID", "dynamic")) return GridMode::kDynamic;
    return GridMode::kDefault;
}

// FLASHATTN_SM90_L2_GROUP_MIB=N: the dynamic order groups (batch, head)s by N MiB of K and V instead of the
// default (fwd_launch.cuh, l2_group_bh). 0 or less when unset.
inline int l2_group_mib_override() {
    const char* v = std::getenv("FLASHATTN_SM90_L2_GROUP_MIB");
    return v != nullptr ? std::atoi(v) : 0;
}

}  // namespace fa::sm90
