"""Per-kernel GPU time of our forward + backward and PyTorch flash's, in a sustained loop (torch.profiler),
for shapes where the end-to-end timing and a single-launch Nsight Compute profile disagree: it shows which
kernel of the sequence (preprocess, main kernel, dQ conversion, memsets, PyTorch's own ops) takes the time
when the calls run back to back as in bench.py.

  python3 kernel_times.py [--dims 128,256] [--seqlens 16384] [--causal 0] [--iters 20]
"""
import argparse
import collections

import torch
from torch.profiler import ProfilerActivity, profile

import flashattn_ctypes as fa
from bench import TOKENS, Ours, Peer, SDPBackend, bench_ms


def kernel_table(fn, iters):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
    per_kernel = collections.defaultdict(float)
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            per_kernel[e.name[:90]] += e.device_time_total / iters / 1000.0
    return per_kernel, bench_ms(fn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dims", default="128,256")
    ap.add_argument("--seqlens", default="16384")
    ap.add_argument("--causal", default="0")
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args()
    lib = fa.Library()
    print(f"device {torch.cuda.get_device_name()}; ms per call of each kernel, {args.iters} calls back to back")
    for d in map(int, args.dims.split(",")):
        h = 32 if d == 64 else 16  # as in bench.py
        for s in map(int, args.seqlens.split(",")):
            b = max(1, TOKENS // s)
            for causal in (c == "1" for c in args.causal.split(",")):
                for name, make in (("ours", lambda: Ours(lib, b, s, h, d, causal)),
                                   ("flash", lambda: Peer(SDPBackend.FLASH_ATTENTION, b, s, h, d, causal))):
                    runner = make()
                    for phase, fn in (("fwd", runner.fwd), ("fwd+bwd", runner.fwd_bwd)):
                        t, wall = kernel_table(fn, args.iters)
                        print(f"d{d} s{s} {'causal' if causal else 'full'} {name} {phase}: kernels "
                              f"{sum(t.values()):.3f} ms, call (bench.py's timing, unprofiled) {wall:.3f} ms")
                        for k, ms in sorted(t.items(), key=lambda kv: -kv[1]):
                            print(f"    {ms:8.3f}  {k}")
                    del runner
                    torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
