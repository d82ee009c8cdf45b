// The whole kernel set, compiled once per ISA. The including file defines FA_W (floats per vector),
// FA_MR / FA_NV (register block of the GEMM micro-kernel) and FA_KERNELS_FN (the accessor's name).
// Everything lives in an anonymous namespace (see simd.h for why); only the accessor is exported.
#include "cpu/plan.h"

#include <cstddef>
#include <cstdint>

namespace fa::cpu {
namespace {

#include "cpu/kernels/simd.h"
#include "cpu/kernels/convert.h"
#include "cpu/kernels/gemm.h"
#include "cpu/kernels/tiles.h"
#include "cpu/kernels/attention_fwd.h"
#include "cpu/kernels/attention_bwd.h"

#define FA_STR2(x) #x
#define FA_STR(x) FA_STR2(x)

const Kernels kTable = {
    FA_STR(FA_ISA_NAME), fwd_scratch, fwd_tile, bwd_scratch, bwd_delta_rows, bwd_chunk, bwd_dq_reduce_rows,
};

}  // namespace

const Kernels* FA_KERNELS_FN() { return &kTable; }

}  // namespace fa::cpu
