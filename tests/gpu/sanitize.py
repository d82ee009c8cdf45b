"""A few small calls of every sm80 kernel (forward, atomic and deterministic backward, varlen, tails,
GQA, a routed head dim) for compute-sanitizer: memcheck for out-of-bounds or misaligned accesses,
racecheck for shared-memory hazards between the pipeline stages.

  compute-sanitizer --tool memcheck --target-processes all python3 sanitize.py
"""
import sys

import torch

import flashattn_ctypes as fa


def call(lib, b, sq, sk, hq, hkv, d, dtype, causal, deterministic=False, varlen=None):
    if varlen:
        lq, lk = varlen
        cu_q = torch.tensor([0] + list(torch.tensor(lq).cumsum(0)), dtype=torch.int32, device="cuda")
        cu_k = torch.tensor([0] + list(torch.tensor(lk).cumsum(0)), dtype=torch.int32, device="cuda")
        shp_q, shp_k = (sum(lq), hq, d), (sum(lk), hkv, d)
        kw = dict(cu_seqlens_q=cu_q, cu_seqlens_k=cu_k, max_seqlen_q=max(lq), max_seqlen_k=max(lk))
        lse = torch.empty(hq, sum(lq), device="cuda")
    else:
        shp_q, shp_k = (b, sq, hq, d), (b, sk, hkv, d)
        kw = {}
        lse = torch.empty(b, hq, sq, device="cuda")
    q = torch.randn(shp_q, dtype=dtype, device="cuda")
    k, v = torch.randn(shp_k, dtype=dtype, device="cuda"), torch.randn(shp_k, dtype=dtype, device="cuda")
    out, dout, dq = torch.empty_like(q), torch.randn_like(q), torch.empty_like(q)
    dk, dv = torch.empty_like(k), torch.empty_like(v)
    st = lib.fwd(fa.make_params(lib, q, k, v, out, lse, causal=causal, **kw))
    assert st == fa.FA_OK, lib.last_error()
    st = lib.bwd(fa.make_params(lib, q, k, v, out, lse, causal=causal, dout=dout, dq=dq, dk=dk, dv=dv,
                                deterministic=deterministic, **kw))
    assert st == fa.FA_OK, lib.last_error()
    torch.cuda.synchronize()
    assert all(torch.isfinite(t).all() for t in (out, dq, dk, dv))


def main():
    lib = fa.Library()
    torch.manual_seed(0)
    call(lib, 1, 77, 131, 2, 1, 64, torch.float16, True)
    call(lib, 1, 130, 70, 2, 2, 128, torch.bfloat16, False, deterministic=True)
    call(lib, 1, 65, 65, 2, 1, 256, torch.bfloat16, True)
    call(lib, 1, 0, 0, 2, 2, 40, torch.float16, True, varlen=([3, 70], [70, 5]))
    call(lib, 1, 33, 150, 1, 1, 160, torch.float16, False, deterministic=True)
    print("sanitize shapes ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
