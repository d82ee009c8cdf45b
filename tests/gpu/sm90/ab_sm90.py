#!/usr/bin/env python3
"""A/B timing of several builds of the library (and cuDNN) on the same shapes, interleaved: every
repetition times each build in turn, so clock and thermal drift hit all of them alike. Prints the
median TFLOP/s per build and its ratio to the first build and to the peer (cuDNN for the FA3 dtypes
bf16 and e4m3; PyTorch's flash for "fa2", bf16 through the FA2 backend, and "fa2bwd", its forward +
backward).

  python3 ab_sm90.py --libs NAME=PATH,NAME=PATH [--hdims 128,256] [--seqlens 2048,8192] [--dtypes bf16,e4m3,fa2,fa2bwd]

dtypes bf16kv1 and bf16q0 run bf16 with the K/V (one head for all) or Q (head stride 0) of every head in L2.

A build may also be a library with environment settings, read by the library on every call
(native/src/cuda/sm90/fwd_knobs.h): NAME=PATH@VAR=VALUE[&VAR=VALUE...], e.g.
  --libs default=build/lib/libflashattn.so,narrow=build/lib/libflashattn.so@FLASHATTN_SM90_BLOCK_N=narrow
"""
import argparse
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fa_ctypes as fa  # noqa: E402
from bench_sm90 import HIDDEN, TOKENS, ours, sdpa, time_ms  # noqa: E402


def fa2_fwd_bwd(lib, q, k, v, out, lse, causal):
    """Our FA2 forward + backward on fixed buffers (workspace allocated once), as one callable."""
    import flashattn_ctypes as shared
    do = torch.randn_like(q)
    dq, dk, dv = (torch.empty_like(q) for _ in range(3))
    pf = shared.make_params(lib, q, k, v, out, lse, causal=causal)
    pb = shared.make_params(lib, q, k, v, out, lse, causal=causal, dout=do, dq=dq, dk=dk, dv=dv)
    st, nbytes = lib.workspace_size(pb)
    if st != fa.FA_OK:
        raise RuntimeError(lib.last_error())
    ws = torch.empty(max(nbytes, 1), dtype=torch.uint8, device="cuda")
    pb = shared.make_params(lib, q, k, v, out, lse, causal=causal, dout=do, dq=dq, dk=dk, dv=dv, workspace=ws)
    if lib.fwd(pf) != fa.FA_OK or lib.bwd(pb) != fa.FA_OK:
        raise RuntimeError(lib.last_error())
    return lambda: (lib.fwd(pf), lib.bwd(pb))


def flash_fwd_bwd(q, k, v, causal):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    qt, kt, vt = (x.transpose(1, 2).detach().requires_grad_(True) for x in (q, k, v))
    do = torch.randn_like(qt)

    def fn():
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            o = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=causal)
        return torch.autograd.grad(o, (qt, kt, vt), do)

    fn()
    return fn


def load_builds(spec):
    """--libs NAME=PATH[@VAR=VALUE&...],...: the [(name, Library)] list (a path loaded once), and use_env(name),
    which sets that build's environment settings and clears every other build's (use_env(None): none)."""
    loaded, libs, envs = {}, [], {}
    for item in spec.split(","):
        name, rest = item.split("=", 1)
        path, _, env = rest.partition("@")
        path = path or None
        if path not in loaded:
            loaded[path] = fa.Library(path)
        libs.append((name, loaded[path]))
        envs[name] = dict(kv.split("=", 1) for kv in env.split("&")) if env else {}
    knobs = {key for env in envs.values() for key in env}

    def use_env(name):
        for key in knobs:
            os.environ.pop(key, None)
        os.environ.update(envs.get(name, {}))

    return libs, use_env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--libs", required=True)
    ap.add_argument("--hdims", default="128,256")
    ap.add_argument("--seqlens", default="2048,8192")
    ap.add_argument("--dtypes", default="bf16,e4m3")
    ap.add_argument("--causal", default="0,1")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    libs, use_env = load_builds(args.libs)
    print(f"device {torch.cuda.get_device_name()}; builds: {', '.join(n for n, _ in libs)}", flush=True)
    gen = torch.Generator(device="cuda").manual_seed(0)
    print("SUMMARY ab_sm90 (median TFLOP/s; ratio to the first build; ratio to the peer)")
    for d in map(int, args.hdims.split(",")):
        h = HIDDEN // d
        for s in map(int, args.seqlens.split(",")):
            b = max(1, TOKENS // s)
            q, k, v = (torch.randn(b, s, h, d, device="cuda", generator=gen).to(torch.bfloat16) for _ in range(3))
            out, lse = torch.empty_like(q), torch.empty(b, h, s, device="cuda")
            for causal in (c == "1" for c in args.causal.split(",")):
                flops = 4.0 * b * h * s * s * d / (2.0 if causal else 1.0)
                for dt in args.dtypes.split(","):
                    # "fa2": bf16 through the FA2 backend, against PyTorch's flash; "fa2bwd": the same,
                    # forward + backward (TFLOP/s of both, 3.5x the forward's FLOPs); else FA3 against cuDNN.
                    fa2 = dt in ("fa2", "fa2bwd")
                    peer_name = "flash" if fa2 else "cudnn"
                    peer = flash_fwd_bwd(q, k, v, causal) if dt == "fa2bwd" else sdpa(q, k, v, causal, peer_name)
                    backend = fa.FA_BACKEND_CUDA_SM80 if fa2 else fa.FA_BACKEND_CUDA_SM90
                    qq, kk, vv = (q, k, v) if dt != "e4m3" else (x.to(torch.float8_e4m3fn) for x in (q, k, v))
                    # Diagnostics of memory latency (bf16; the peer runs the ordinary shape): "bf16kv1" gives
                    # every query head one shared K/V head, so a batch's K/V stay in L2; "bf16q0" gives every
                    # head the same Q rows (head stride 0), so Q loads hit L2.
                    if dt == "bf16kv1":
                        kk, vv = k[:, :, :1].contiguous(), v[:, :, :1].contiguous()
                    elif dt == "bf16q0":
                        qq = q[:, :, :1].expand(-1, -1, h, -1)
                    fns = []
                    for n, lib in libs:
                        try:
                            fns.append((n, fa2_fwd_bwd(lib, q, k, v, out, lse, causal) if dt == "fa2bwd"
                                        else ours(lib, qq, kk, vv, out, lse, causal, backend)))
                        except RuntimeError:  # a build without this backend (e.g. FA2-only)
                            pass
                    if not fns:
                        continue
                    fns.append((peer_name, peer))
                    times = {n: [] for n, _ in fns}
                    # Each repetition starts one build later: identical builds measured 1-4 % apart
                    # when the same one always went first.
                    for r in range(args.reps):
                        for n, fn in fns[r % len(fns):] + fns[:r % len(fns)]:
                            use_env(n)
                            times[n].append(time_ms(fn, 2, args.iters))
                    use_env(None)
                    work = flops * (3.5 if dt == "fa2bwd" else 1.0)
                    tf = {n: work / statistics.median(t) / 1e9 for n, t in times.items()}
                    ran = [n for n, _ in fns[:-1]]
                    base = tf[ran[0]]
                    cells = "  ".join(f"{n} {tf[n]:6.1f} ({tf[n] / base:.3f})" for n in ran)
                    print(f"  d{d:<3} s{s:<5} {'causal' if causal else 'full  '} {dt:<4} {cells}  {peer_name} "
                          f"{tf[peer_name]:6.1f}  best/{peer_name} {max(tf[n] for n in ran) / tf[peer_name]:.3f}",
                          flush=True)


if __name__ == "__main__":
    main()
