// What the CPU kernels receive: the validated params plus geometry resolved once per call, so that a
// kernel never branches on variable-length mode and never recomputes offsets from cu_seqlens.
// Plain data only: these structs cross between translation units compiled for different ISAs.
#pragma once
#include "flashattn.h"

#include <cstddef>
#include <cstdint>

namespace fa::cpu {

constexpr int kBlockQ = 64;     // query rows per tile (backward)
constexpr int kBlockK = 64;     // keys per tile
constexpr int kMaxFwdRows = 256; // query rows per forward item, at most

// One sequence. Row r of head h of tensor X starts at element
//   b * bs_X + (row0 + r) * X_row_stride + h * X_head_stride,
// with bs_X = 0 in variable-length mode (row0 = cu_seqlens[b]) and row0 = 0 otherwise.
struct Seq {
    int64_t q_row0, k_row0;
    int64_t lse0;   // softmax_lse index of row 0, head 0
    int64_t grow0;  // row 0's index among all query rows of the batch (dq partial buffers)
    int32_t sq, sk;
};

struct Plan {
    const fa_params* p;  // validated, softmax_scale and descales resolved
    const Seq* seqs;     // [batch]
    int64_t bs_q, bs_k, bs_v, bs_out, bs_dout, bs_dq, bs_dk, bs_dv;
    int64_t lse_head_stride;
    int64_t total_q_rows;
    int32_t batch, hq, hkv, group, d;
    int32_t dp;  // head_dim padded to a multiple of 16: tiles hold whole vectors
    int32_t max_sq, max_sk;
    const float* fp8_table;  // FLOAT8_E4M3 byte -> float
    int32_t fwd_rows;        // query rows per forward item: a multiple of kBlockQ, <= kMaxFwdRows

    // Backward only.
    float* delta;       // rowsum(dout * out) per query row, laid out like softmax_lse
    float* dq_partial;   // NULL: dq is written directly; else [chunks][hq][total_q_rows][dp] fp32, scaled
    int32_t chunks;      // key ranges per (batch, kv head); each is one work item
    int32_t chunk_keys;  // an item holds at most this many keys (a multiple of kBlockK) in fp32 at once
};

struct FwdItem { int32_t b, h, q0, nq; };    // one query tile of one head
struct RowsItem { int32_t b, h, q0, nq; };   // rows of one head (delta, dq reduction)
struct BwdItem { int32_t b, kvh, chunk; };   // one key chunk of one kv head, all its query heads

// Keys [k0, k1) of chunk c of a sequence of sk keys: whole tiles, split as evenly as tiles allow.
static inline void chunk_range(int32_t sk, int32_t chunks, int32_t c, int32_t* k0, int32_t* k1) {
    const int32_t tiles = (sk + kBlockK - 1) / kBlockK;
    const int32_t per = (tiles + chunks - 1) / chunks;
    const int64_t a = static_cast<int64_t>(c) * per * kBlockK, e = a + static_cast<int64_t>(per) * kBlockK;
    *k0 = static_cast<int32_t>(a < sk ? a : sk);
    *k1 = static_cast<int32_t>(e < sk ? e : sk);
}

// One implementation of the kernels, compiled for one instruction set. Scratch sizes are in floats,
// per thread.
struct Kernels {
    const char* name;
    size_t (*fwd_scratch)(const Plan&);
    void (*fwd)(const Plan&, const FwdItem&, float* scratch);
    size_t (*bwd_scratch)(const Plan&);
    void (*bwd_delta)(const Plan&, const RowsItem&, float* scratch);
    void (*bwd)(const Plan&, const BwdItem&, float* scratch);
    void (*bwd_dq_reduce)(const Plan&, const RowsItem&, float* scratch);
};

const Kernels* kernels_generic();
const Kernels* kernels_avx2();    // nullptr when not compiled in
const Kernels* kernels_avx512();  // nullptr when not compiled in

// The best compiled implementation this CPU runs (FLASHATTN_CPU_ISA=generic|avx2|avx512 overrides,
// for testing each one).
const Kernels& kernels();

}  // namespace fa::cpu
