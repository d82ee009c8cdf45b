#!/usr/bin/env python3
"""Host time of one forward call (validation, backend choice, TMA descriptors, launch), which bounds the
call rate of small problems: n calls back to back without synchronising, timed on the host, against the
GPU time of the same calls. bf16, batch 1, 128 tokens, causal, per backend and head_dim. The calls stay
under the launch queue's depth (a full queue makes the host wait for the GPU); best of --reps rounds.

  python3 host_cost.py [--calls 200] [--reps 20]"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fa_ctypes as fa  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    lib = fa.Library()
    print(f"device {torch.cuda.get_device_name()}")
    print("| backend | hdim | heads | host µs per call | GPU µs per call |")
    print("|---|---|---|---|---|")
    t0 = time.perf_counter()
    for _ in range(args.calls):
        lib.lib.fa_version_string()
    print(f"| (ctypes: fa_version_string) | | | {(time.perf_counter() - t0) / args.calls * 1e6:.1f} | |")
    for backend, name in ((fa.FA_BACKEND_AUTO, "AUTO"), (fa.FA_BACKEND_CUDA_SM90, "SM90"),
                          (fa.FA_BACKEND_CUDA_SM80, "SM80")):
        for d, h in ((64, 8), (128, 16)):
            q, k, v = (torch.randn(1, 128, h, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            out, lse = torch.empty_like(q), torch.empty(1, h, 128, device="cuda")
            p = fa.fill_fwd(lib, torch, q, k, v, out, lse, causal=True, backend=backend)
            assert lib.fwd(p) == fa.FA_OK, lib.last_error()
            host = gpu = float("inf")
            for _ in range(args.reps):
                torch.cuda.synchronize()
                start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                t0 = time.perf_counter()
                for _ in range(args.calls):
                    lib.fwd(p)
                host = min(host, (time.perf_counter() - t0) / args.calls * 1e6)
                stop.record()
                torch.cuda.synchronize()
                gpu = min(gpu, start.elapsed_time(stop) / args.calls * 1e3)
            print(f"| {name} | {d} | {h} | {host:.1f} | {gpu:.1f} |", flush=True)
    # The same calls through PyTorch (its own Python and dispatcher overhead included).
    from torch.nn.attention import SDPBackend, sdpa_kernel
    for be, name in ((SDPBackend.FLASH_ATTENTION, "torch SDPA flash"), (SDPBackend.CUDNN_ATTENTION, "torch SDPA cuDNN")):
        for d, h in ((64, 8), (128, 16)):
            q, k, v = (torch.randn(1, h, 128, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            with sdpa_kernel(be):
                torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
                torch.cuda.synchronize()
                host = float("inf")
                for _ in range(args.reps):
                    torch.cuda.synchronize()
                    t0 = time.perf_counter()
                    for _ in range(args.calls):
                        torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
                    host = min(host, (time.perf_counter() - t0) / args.calls * 1e6)
            print(f"| {name} | {d} | {h} | {host:.1f} | |", flush=True)


if __name__ == "__main__":
    main()
