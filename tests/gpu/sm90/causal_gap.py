#!/usr/bin/env python3
"""Where the causal forward loses against the non-causal one (FA3, bf16).

Geometry alone costs a causal call (M + 1) / M of the non-causal rate (M = m-blocks per head: the diagonal
blocks are computed whole), under 2% from 8k keys on. This times, interleaved, for each head_dim and seqlen:
  nc         seqlen_q = seqlen_k = S, no mask
  nc k/2     seqlen_k = S / 2, no mask: the causal call's FLOPs in tiles of one length
  causal     the default (m-block pairs, persistent grid)
  + every FLASHATTN_SM90_* environment variant given with --envs (fwd_knobs.h)
and prints TFLOP/s of useful work (4·b·h·Sq·Sk·d, halved when causal), medians of --reps.

  python3 causal_gap.py [--hdims 64,128,256] [--seqlens 8192,16384] [--envs static=FLASHATTN_SM90_SCHEDULER=static]"""
import argparse
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fa_ctypes as fa  # noqa: E402
from bench_sm90 import HIDDEN, TOKENS, ours, time_ms  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hdims", default="64,128,256")
    ap.add_argument("--seqlens", default="8192,16384")
    ap.add_argument("--envs", default="static=FLASHATTN_SM90_SCHEDULER=static,per_unit=FLASHATTN_SM90_GRID=per_unit")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    lib = fa.Library()
    envs = [e.split("=", 1) for e in args.envs.split(",") if e]
    print(f"device {torch.cuda.get_device_name()}, torch {torch.__version__}")
    print("| hdim | seqlen | nc | nc k/2 | causal | " + " | ".join(f"causal {n}" for n, _ in envs)
          + " | causal/nc | (M+1)/M bound |")
    print("|---" * (7 + len(envs)) + "|")
    for d in (int(x) for x in args.hdims.split(",")):
        for s in (int(x) for x in args.seqlens.split(",")):
            h, b = HIDDEN // d, max(1, TOKENS // s)
            q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            out, lse = torch.empty_like(q), torch.empty(b, h, s, device="cuda")
            half = s // 2
            be = fa.FA_BACKEND_CUDA_SM90
            full_flops = 4.0 * b * h * s * s * d
            cases = [("nc", ours(lib, q, k, v, out, lse, False, be), None, full_flops),
                     ("nc k/2", ours(lib, q, k[:, :half], v[:, :half], out, lse, False, be), None, full_flops / 2),
                     ("causal", ours(lib, q, k, v, out, lse, True, be), None, full_flops / 2)]
            for name, setting in envs:
                var, val = setting.split("=", 1)
                cases.append((f"causal {name}", cases[2][1], (var, val), full_flops / 2))
            times = {c[0]: [] for c in cases}
            for _ in range(args.reps):
                for name, fn, env, _ in cases:
                    if env:
                        os.environ[env[0]] = env[1]
                    try:
                        times[name].append(time_ms(fn, 2, args.iters))
                    finally:
                        if env:
                            del os.environ[env[0]]
            tf = {name: flops / statistics.median(times[name]) / 1e9 for name, _, _, flops in cases}
            m = (s + 127) // 128
            cells = [f"{tf[c[0]]:.0f}" for c in cases]
            print(f"| {d} | {s} | " + " | ".join(cells) + f" | {tf['causal'] / tf['nc']:.3f} | {m / (m + 1):.3f} |",
                  flush=True)


if __name__ == "__main__":
    main()
