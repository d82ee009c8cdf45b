#!/usr/bin/env python3
"""One profiled launch of one case, for Nsight Compute: the case's call runs a few times to warm up,
then once between cudaProfilerStart/Stop, so `ncu --profile-from-start off` sees exactly that launch.

  ncu --profile-from-start off --clock-control none --set full -o CASE python3 prof_sm90.py CASE

Cases name the kernel and the shape (bf16 unless e4m3; batch = 16384 / seqlen, heads = 2048 / hdim as
in bench_sm90.py): fa3_d128_s8k, cudnn_d128_s8k, fa3e4m3_d256_s4k, fa3_d256_s8k, fa2bwd_d256_s8k,
flashbwd_d256_s8k, ..."""
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fa_ctypes as fa  # noqa: E402


def make_case(lib, name):
    m = re.fullmatch(r"(fa3e4m3|fa3|fa2|cudnn|flash)(bwd)?_d(\d+)_s(\d+)k(_causal)?", name)
    if not m:
        raise SystemExit(f"unknown case {name}")
    impl, bwd, d, s, causal = m.group(1), m.group(2) is not None, int(m.group(3)), int(m.group(4)) * 1024, bool(m.group(5))
    h, b = 2048 // d, max(1, 16384 // s)
    q, k, v, do = (torch.randn(b, s, h, d, device="cuda").to(torch.bfloat16) for _ in range(4))
    out, lse = torch.empty_like(q), torch.empty(b, h, s, device="cuda")
    if impl in ("fa3", "fa3e4m3", "fa2") and not bwd:
        if impl == "fa3e4m3":
            q, k, v = (x.to(torch.float8_e4m3fn) for x in (q, k, v))
        backend = fa.FA_BACKEND_CUDA_SM80 if impl == "fa2" else fa.FA_BACKEND_CUDA_SM90
        p = fa.fill_fwd(lib, torch, q, k, v, out, lse, causal=causal, backend=backend)
        return lambda: lib.fwd(p)
    if impl == "fa2" and bwd:
        import flashattn_ctypes as shared
        dq, dk, dv = (torch.empty_like(q) for _ in range(3))
        pf = shared.make_params(lib, q, k, v, out, lse, causal=causal)
        assert lib.fwd(pf) == fa.FA_OK, lib.last_error()
        pb = shared.make_params(lib, q, k, v, out, lse, causal=causal, dout=do, dq=dq, dk=dk, dv=dv)
        st, nbytes = lib.workspace_size(pb)
        assert st == fa.FA_OK, lib.last_error()
        ws = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
        pb = shared.make_params(lib, q, k, v, out, lse, causal=causal, dout=do, dq=dq, dk=dk, dv=dv, workspace=ws)
        return lambda: lib.bwd(pb)
    from torch.nn.attention import SDPBackend, sdpa_kernel
    be = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION}[impl]
    qt, kt, vt = (x.transpose(1, 2).detach().requires_grad_(bwd) for x in (q, k, v))
    if not bwd:
        def fwd():
            with sdpa_kernel(be):
                return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=causal)
        return fwd
    with sdpa_kernel(be):
        o = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=causal)
    return lambda: torch.autograd.grad(o, (qt, kt, vt), do.transpose(1, 2), retain_graph=True)


def main():
    lib = fa.Library()
    fn = make_case(lib, sys.argv[1])
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    torch.cuda.cudart().cudaProfilerStart()
    fn()
    torch.cuda.synchronize()
    torch.cuda.cudart().cudaProfilerStop()
    print(f"profiled {sys.argv[1]}")


if __name__ == "__main__":
    main()
