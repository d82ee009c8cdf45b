#!/usr/bin/env python3
"""A/B timing of several builds of the library (and cuDNN) on the same shapes, interleaved: every
repetition times each build in turn, so clock and thermal drift hit all of them alike. Prints the
median TFLOP/s per build and its ratio to the first build and to cuDNN.

  python3 ab_sm90.py --libs NAME=PATH,NAME=PATH [--hdims 128,256] [--seqlens 2048,8192] [--dtypes bf16,e4m3]
"""
import argparse
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fa_ctypes as fa  # noqa: E402
from bench_sm90 import HIDDEN, TOKENS, ours, sdpa, time_ms  # noqa: E402


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
    libs = [(n, fa.Library(p)) for n, p in (x.split("=", 1) for x in args.libs.split(","))]
    print(f"device {torch.cuda.get_device_name()}; builds: {', '.join(n for n, _ in libs)}", flush=True)
    gen = torch.Generator(device="cuda").manual_seed(0)
    print("SUMMARY ab_sm90 (median TFLOP/s; ratio to the first build; ratio to cuDNN bf16)")
    for d in map(int, args.hdims.split(",")):
        h = HIDDEN // d
        for s in map(int, args.seqlens.split(",")):
            b = max(1, TOKENS // s)
            q, k, v = (torch.randn(b, s, h, d, device="cuda", generator=gen).to(torch.bfloat16) for _ in range(3))
            out, lse = torch.empty_like(q), torch.empty(b, h, s, device="cuda")
            for causal in (c == "1" for c in args.causal.split(",")):
                flops = 4.0 * b * h * s * s * d / (2.0 if causal else 1.0)
                cudnn = sdpa(q, k, v, causal, "cudnn")
                for dt in args.dtypes.split(","):
                    qq, kk, vv = (q, k, v) if dt == "bf16" else (x.to(torch.float8_e4m3fn) for x in (q, k, v))
                    fns = [(n, ours(lib, qq, kk, vv, out, lse, causal, fa.FA_BACKEND_CUDA_SM90)) for n, lib in libs]
                    fns.append(("cudnn", cudnn))
                    times = {n: [] for n, _ in fns}
                    for _ in range(args.reps):
                        for n, fn in fns:
                            times[n].append(time_ms(fn, 2, args.iters))
                    tf = {n: flops / statistics.median(t) / 1e9 for n, t in times.items()}
                    base = tf[libs[0][0]]
                    cells = "  ".join(f"{n} {tf[n]:6.1f} ({tf[n] / base:.3f})" for n, _ in libs)
                    print(f"  d{d:<3} s{s:<5} {'causal' if causal else 'full  '} {dt:<4} {cells}  cudnn {tf['cudnn']:6.1f}"
                          f"  best/cudnn {max(tf[n] for n, _ in libs) / tf['cudnn']:.3f}", flush=True)


if __name__ == "__main__":
    main()
