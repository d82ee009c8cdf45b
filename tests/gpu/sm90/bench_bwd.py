#!/usr/bin/env python3
"""Backward throughput on Hopper: this library's FA3 backward (CUDA_SM90) and FA2 backward (CUDA_SM80)
against PyTorch SDPA's flash and cuDNN backwards, interleaved (each repetition times every implementation in
turn; medians). bf16, 16384 tokens per call (batch = 16384 / seqlen), hidden size 2048 (heads = 2048 / hdim).

TFLOP/s counts 2.5 x the forward's 4 * batch * heads * seqlen^2 * head_dim (halved when causal). Ours time the
backward call alone (workspace allocated once); the peers' backward time is (forward + backward) - forward,
as in ../shared/perf.

  python3 bench_bwd.py [--hdims 64,128] [--seqlens 512,2048,8192] [--causal 0,1] [--reps 5]
  python3 bench_bwd.py --libs NAME=PATH,NAME=PATH ...   A/B: the FA3 backward of several builds (run_sm90.sh
                                                         ab with AB_TOOL=bench_bwd), each with its ratio to the first;
                                                         NAME=PATH@VAR=VALUE[&VAR=VALUE] adds environment settings
"""
import argparse
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fa_ctypes as fa  # noqa: E402
import flashattn_ctypes as shared  # noqa: E402
from ab_sm90 import load_builds  # noqa: E402
from bench_sm90 import HIDDEN, TOKENS, time_ms  # noqa: E402


def ours_bwd(lib, q, k, v, causal, backend):
    """The backward alone on a forward's out and LSE, as one callable."""
    out, lse = torch.empty_like(q), torch.empty(q.shape[0], q.shape[2], q.shape[1], device="cuda")
    pf = shared.make_params(lib, q, k, v, out, lse, causal=causal, backend=shared.FA_BACKEND_CUDA_SM80)
    if lib.fwd(pf) != fa.FA_OK:
        raise RuntimeError(lib.last_error())
    do = torch.randn_like(q)
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    kw = dict(causal=causal, dout=do, dq=dq, dk=dk, dv=dv, backend=backend)
    st, nbytes = lib.workspace_size(shared.make_params(lib, q, k, v, out, lse, **kw))
    if st != fa.FA_OK:
        raise RuntimeError(lib.last_error())
    ws = torch.empty(max(nbytes, 1), dtype=torch.uint8, device="cuda")
    pb = shared.make_params(lib, q, k, v, out, lse, workspace=ws, **kw)
    if lib.bwd(pb) != fa.FA_OK:
        raise RuntimeError(lib.last_error())
    return lambda: lib.bwd(pb)


def peer_fwd_and_bwd(q, k, v, causal, backend):
    """(forward, forward + backward) callables of SDPA with one backend."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    b = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}[backend]
    qt, kt, vt = (x.transpose(1, 2).detach().requires_grad_(True) for x in (q, k, v))
    do = torch.randn_like(qt)

    def fwd():
        with sdpa_kernel(b), torch.no_grad():
            return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=causal)

    def both():
        with sdpa_kernel(b):
            o = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=causal)
        return torch.autograd.grad(o, (qt, kt, vt), do)

    both()
    return fwd, both


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--libs", default=None)
    ap.add_argument("--hdims", default="64,128")
    ap.add_argument("--seqlens", default="512,1024,2048,4096,8192,16384")
    ap.add_argument("--causal", default="0,1")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iters", type=int, default=5)
    args = ap.parse_args()
    libs, use_env = load_builds(args.libs or f"fa3={args.lib or ''}")
    lib = libs[0][1]
    print(f"device {torch.cuda.get_device_name()}, torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}")
    print("SUMMARY bench_bwd (backward TFLOP/s, medians)")
    fa3_cols = " | ".join(f"FA3 bwd {n}" for n, _ in libs)
    print(f"| hdim | seqlen | causal | {fa3_cols} | our FA2 bwd | SDPA flash bwd | cuDNN bwd | FA3/cuDNN | FA3/flash |")
    print("|---|---|---|" + "---|" * (len(libs) + 5))
    gen = torch.Generator(device="cuda").manual_seed(0)
    for d in map(int, args.hdims.split(",")):
        h = HIDDEN // d
        for s in map(int, args.seqlens.split(",")):
            b = max(1, TOKENS // s)
            q, k, v = (torch.randn(b, s, h, d, device="cuda", generator=gen).to(torch.bfloat16) for _ in range(3))
            for causal in (c == "1" for c in args.causal.split(",")):
                flops = 2.5 * 4.0 * b * h * s * s * d / (2.0 if causal else 1.0)
                fns = {}
                for n, l in libs:
                    use_env(n)
                    fns[n] = ours_bwd(l, q, k, v, causal, shared.FA_BACKEND_CUDA_SM90)
                use_env(None)
                fns["fa2"] = ours_bwd(lib, q, k, v, causal, shared.FA_BACKEND_CUDA_SM80)
                for peer in ("flash", "cudnn"):
                    fwd, both = peer_fwd_and_bwd(q, k, v, causal, peer)
                    fns[peer + " fwd"], fns[peer] = fwd, both
                names = list(fns)
                times = {n: [] for n in names}
                for r in range(args.reps):
                    for n in names[r % len(names):] + names[:r % len(names)]:
                        use_env(n)
                        times[n].append(time_ms(fns[n], 2, args.iters))
                use_env(None)
                ms = {n: statistics.median(t) for n, t in times.items()}
                for peer in ("flash", "cudnn"):
                    ms[peer] -= ms.pop(peer + " fwd")
                tf = {n: flops / t / 1e9 for n, t in ms.items()}
                first = tf[libs[0][0]]
                cells = " | ".join(f"{tf[n]:.0f}" + (f" ({tf[n] / first:.3f})" if i else "") for i, (n, _) in enumerate(libs))
                best = max(tf[n] for n, _ in libs)
                print(f"| {d} | {s} | {'yes' if causal else 'no'} | {cells} | {tf['fa2']:.0f} | {tf['flash']:.0f} | "
                      f"{tf['cudnn']:.0f} | {best / tf['cudnn']:.2f} | {best / tf['flash']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
