#!/usr/bin/env python3
"""Forward throughput on packed variable-length batches: the Hopper (FA3) kernels against this library's FA2
path on the same call, and PyTorch's flash / cuDNN SDPA on the same sequences padded to the longest one
(what a caller without a varlen kernel runs). bf16, 16 heads at head_dim 128 (2048 / head_dim heads in
general), sequence lengths drawn uniformly from [lo, hi] until about 16k tokens.

TFLOP/s counts the useful work only: sum over sequences of 4 * heads * len_q * len_k * head_dim (halved when
causal), for every implementation, padded or not."""
import argparse
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fa_ctypes as fa  # noqa: E402
from bench_sm90 import HIDDEN, TOKENS, sdpa, time_ms  # noqa: E402


def lengths(lo, hi, seed):
    rng = random.Random(seed)
    out = []
    while sum(out) < TOKENS:
        out.append(rng.randint(lo, hi))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--hdims", default="64,128,256")
    ap.add_argument("--ranges", default="128-1024,512-4096,2048-8192")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--e4m3", action="store_true", help="the fa3 rows take e4m3 casts of q, k, v (descales 1)")
    ap.add_argument("--envs", default="",
                    help="extra fa3 rows under FLASHATTN_SM90_* settings (fwd_knobs.h): NAME=VAR=VALUE[&VAR=VALUE],...")
    args = ap.parse_args()
    variants = [(f"fa3 {spec.split('=', 1)[0]}", dict(kv.split("=", 1) for kv in spec.split("=", 1)[1].split("&")))
                for spec in args.envs.split(",") if spec]

    lib = fa.Library(args.lib)
    print(f"library {lib.version()}, device {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    gen = torch.Generator(device="cuda").manual_seed(0)
    print("SUMMARY bench_varlen (TFLOP/s of useful work; fa3 / best other)", flush=True)
    for d in map(int, args.hdims.split(",")):
        h = HIDDEN // d
        for rng in args.ranges.split(","):
            lo, hi = map(int, rng.split("-"))
            lens = lengths(lo, hi, seed=lo * 7 + hi)
            cu = torch.tensor([0] + [sum(lens[:i + 1]) for i in range(len(lens))], dtype=torch.int32, device="cuda")
            total, longest = sum(lens), max(lens)
            q, k, v = (torch.randn(total, h, d, device="cuda", generator=gen).to(torch.bfloat16) for _ in range(3))
            q8k8v8 = tuple(x.to(torch.float8_e4m3fn) for x in (q, k, v)) if args.e4m3 else None
            out = torch.empty_like(q)
            lse = torch.empty(h, total, device="cuda")
            # The padded batch the SDPA backends get: (batch, longest, heads, d), zeros past each sequence.
            pad = [torch.zeros(len(lens), longest, h, d, device="cuda", dtype=torch.bfloat16) for _ in range(3)]
            for b, (s0, n) in enumerate(zip(cu.tolist(), lens)):
                for dst, src in zip(pad, (q, k, v)):
                    dst[b, :n] = src[s0:s0 + n]
            for causal in (False, True):
                flops = sum(4.0 * h * n * n * d for n in lens) / (2.0 if causal else 1.0)
                row = {}
                for name, backend, env in ([("fa3", fa.FA_BACKEND_CUDA_SM90, {})]
                                           + [(n, fa.FA_BACKEND_CUDA_SM90, e) for n, e in variants]
                                           + [("fa2", fa.FA_BACKEND_CUDA_SM80, {})]):
                    os.environ.update(env)
                    try:
                        qq, kk, vv = (q, k, v) if not (args.e4m3 and backend == fa.FA_BACKEND_CUDA_SM90) else q8k8v8
                        p = fa.fill_fwd_varlen(lib, torch, qq, kk, vv, out, lse, cu, cu, longest, longest,
                                               causal=causal, backend=backend)
                        if lib.fwd(p) != fa.FA_OK:
                            raise RuntimeError(lib.last_error())
                        row[name] = flops / time_ms(lambda: lib.fwd(p), 3, args.iters) / 1e9
                    finally:
                        for key in env:
                            os.environ.pop(key)
                for name in ("flash", "cudnn"):
                    row[f"padded {name}"] = flops / time_ms(sdpa(*pad, causal, name), 3, args.iters) / 1e9
                best = max(val for key, val in row.items() if not key.startswith("fa3"))
                cells = "  ".join(f"{key} {val:6.1f}" for key, val in row.items())
                print(f"  d{d:<3} lens {lo}-{hi} ({len(lens)} seqs) {'causal' if causal else 'full  '}  {cells}  "
                      f"ratio {row['fa3'] / best:.2f}", flush=True)


if __name__ == "__main__":
    main()
