#!/usr/bin/env python3
"""Forward throughput of the Hopper (FA3) kernel against torch SDPA (flash and cuDNN backends) and this
library's FA2 path, at 16384 tokens per call (batch = 16384 / seqlen), hidden size 2048
(heads = 2048 / head_dim), bf16, causal and not; FP8 e4m3 for the FA3 kernel as well.

TFLOP/s counts 4 * batch * heads * seqlen^2 * head_dim (halved when causal), as FlashAttention reports."""
import argparse
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fa_ctypes as fa  # noqa: E402

TOKENS = 16384
HIDDEN = 2048
# fa3 bf16 variants that native/src/cuda/sm90/fwd_knobs.h selects: (row name, environment, rows it
# applies to). "pairs" is the static order of causal m-block pairs that the dynamic order replaced from 2048
# keys on (fwd_launch.cuh); N128 / N192 force the
# key-block width that fwd_api.cu picks by seqlen for non-causal hdim 64; M128 / M192 the tile height
# (two or three consumer warpgroups) at hdim 64, whichever fwd_api.cu would pick.
VARIANTS = [
    ("fa3 pairs", {"FLASHATTN_SM90_GRID": "persistent"}, lambda d, causal: causal),
    ("fa3 N128", {"FLASHATTN_SM90_BLOCK_N": "narrow"}, lambda d, causal: not causal and d == 64),
    ("fa3 N192", {"FLASHATTN_SM90_BLOCK_N": "wide"}, lambda d, causal: not causal and d == 64),
    ("fa3 M128", {"FLASHATTN_SM90_BLOCK_M": "128"}, lambda d, causal: d == 64),
    ("fa3 M192", {"FLASHATTN_SM90_BLOCK_M": "192"}, lambda d, causal: d == 64),
]


def time_ms(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    stop.record()
    torch.cuda.synchronize()
    return start.elapsed_time(stop) / iters


def ours(lib, q, k, v, out, lse, causal, backend, descales=(1.0, 1.0, 1.0)):
    p = fa.fill_fwd(lib, torch, q, k, v, out, lse, causal=causal, backend=backend, descales=descales)
    st = lib.fwd(p)  # also validates once before timing
    if st != fa.FA_OK:
        raise RuntimeError(f"status {st}: {lib.last_error()}")
    return lambda: lib.fwd(p)


def sdpa(q, k, v, causal, backend):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    b = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}[backend]
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))

    def fn():
        with sdpa_kernel(b):
            return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=causal)

    fn()
    return fn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--hdims", default="64,128,256")
    ap.add_argument("--seqlens", default="512,1024,2048,4096,8192,16384")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--impls", default=None,
                    help="comma-separated row names to run (e.g. 'fa3 bf16,fa3 e4m3' when timing a variant build)")
    ap.add_argument("--tag", default="", help="prefix for the row names (the variant being timed)")
    args = ap.parse_args()

    lib = fa.Library(args.lib)
    print(f"library {lib.version()}, device {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    print(f"{'hdim':>4} {'seqlen':>6} {'batch':>5} {'heads':>5} {'causal':>6} | "
          f"{'impl':<14} {'ms':>8} {'TFLOP/s':>8}", flush=True)
    gen = torch.Generator(device="cuda").manual_seed(0)
    summary = []
    for d in map(int, args.hdims.split(",")):
        h = HIDDEN // d
        for s in map(int, args.seqlens.split(",")):
            b = max(1, TOKENS // s)
            q, k, v = (torch.randn(b, s, h, d, device="cuda", generator=gen).to(torch.bfloat16) for _ in range(3))
            out = torch.empty_like(q)
            lse = torch.empty(b, h, s, device="cuda")
            q8, k8, v8 = (x.to(torch.float8_e4m3fn) for x in (q, k, v))
            for causal in (False, True):
                flops = 4.0 * b * h * s * s * d / (2.0 if causal else 1.0)
                fa3 = lambda: ours(lib, q, k, v, out, lse, causal, fa.FA_BACKEND_CUDA_SM90)  # noqa: E731
                # Variants run right after the default, while out still holds its result to compare with.
                variants = [(name, fa3, env) for name, env, applies in VARIANTS if applies(d, causal)]
                impls = [("fa3 bf16", fa3, {})] + variants + [
                    ("fa3 e4m3", lambda: ours(lib, q8, k8, v8, out, lse, causal, fa.FA_BACKEND_CUDA_SM90), {}),
                    ("fa2 bf16", lambda: ours(lib, q, k, v, out, lse, causal, fa.FA_BACKEND_CUDA_SM80), {}),
                    ("sdpa flash", lambda: sdpa(q, k, v, causal, "flash"), {}),
                    ("sdpa cudnn", lambda: sdpa(q, k, v, causal, "cudnn"), {}),
                ]
                if args.impls:
                    wanted = set(args.impls.split(","))
                    impls = [i for i in impls if i[0] in wanted]
                row = {}
                ref = None
                for name, make, env in impls:
                    saved = {key: os.environ.get(key) for key in env}
                    os.environ.update(env)
                    try:
                        fn = make()
                        ms = time_ms(fn, args.warmup, args.iters)
                        tf = flops / ms / 1e9
                        row[args.tag + name] = tf
                        note = ""
                        if name == "fa3 bf16":
                            ref = out.clone()
                        elif env and ref is not None:
                            note = f"  max|diff| vs fa3 bf16 {(out.float() - ref.float()).abs().max().item():.3g}"
                        print(f"{d:>4} {s:>6} {b:>5} {h:>5} {str(causal):>6} | {args.tag + name:<14} {ms:>8.3f} {tf:>8.1f}{note}",
                              flush=True)
                    except Exception as e:  # an unsupported combination must not stop the sweep
                        print(f"{d:>4} {s:>6} {b:>5} {h:>5} {str(causal):>6} | {name:<14} {'n/a':>8} "
                              f"{'':>8}  ({str(e).splitlines()[0][:100]})", flush=True)
                        torch.cuda.synchronize()
                    finally:
                        for key, value in saved.items():
                            if value is None:
                                os.environ.pop(key, None)
                            else:
                                os.environ[key] = value
                summary.append((d, s, causal, row))
    print("SUMMARY bench_sm90 (TFLOP/s; fa3 bf16 / best torch SDPA):", flush=True)
    for d, s, causal, row in summary:
        best = max([row.get("sdpa flash", 0.0), row.get("sdpa cudnn", 0.0)])
        ratio = row.get("fa3 bf16", 0.0) / best if best > 0 else math.nan
        cells = "  ".join(f"{k} {v:6.1f}" for k, v in row.items())
        print(f"  d{d:<3} s{s:<5} {'causal' if causal else 'full  '}  {cells}  ratio {ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
