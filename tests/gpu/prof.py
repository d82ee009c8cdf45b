"""One launch each of our forward and dK/dV kernels (automatic stage count, then forced to one
stage) and of PyTorch's FlashAttention-2 forward and backward, same shape, for an Nsight Compute
side-by-side:

  ncu -k regex:'fwd_kernel|bwd_dkdv_kernel|dq_dk_dv_loop' -c 6 --section ... python3 prof.py
"""
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import flashattn_ctypes as fa


def main(b=2, s=8192, h=16, d=128, causal=False):
    lib = fa.Library()
    mk = lambda: torch.randn(b, s, h, d, dtype=torch.bfloat16, device="cuda")
    q, k, v, dout = mk(), mk(), mk(), mk()
    out, dq, dk, dv = (torch.empty_like(q) for _ in range(4))
    lse = torch.empty(b, h, s, device="cuda")
    for stages in (None, "1"):
        if stages:
            os.environ["FLASHATTN_SM80_STAGES"] = stages
        assert lib.fwd(fa.make_params(lib, q, k, v, out, lse, causal=causal)) == fa.FA_OK, lib.last_error()
        assert lib.bwd(fa.make_params(lib, q, k, v, out, lse, causal=causal, dout=dout, dq=dq, dk=dk, dv=dv)) == 0
    os.environ.pop("FLASHATTN_SM80_STAGES", None)
    qt, kt, vt = (t.transpose(1, 2).detach().requires_grad_() for t in (q, k, v))
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        o = F.scaled_dot_product_attention(qt, kt, vt, is_causal=causal)
    torch.autograd.grad(o, (qt, kt, vt), dout.transpose(1, 2))
    torch.cuda.synchronize()
    print("profiled shapes ran")


if __name__ == "__main__":
    sys.exit(main())
