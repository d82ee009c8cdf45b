#!/usr/bin/env python3
"""Where a tile's time goes, from a trace build of the FA3 forward (-DFA_SM90_TRACE, native/src/cuda/sm90/trace.cuh):
the kernel stamps the SM clock at each stage of every CTA's first tiles into the LSE buffer. Prints, per
consumer warpgroup and number of key blocks per tile, the mean cycles of each stage:

  q wait->S0   from Q ready (q_full passed) to the first block's S ready (K wait, turn, Q·K^T)
  softmax0     the first block's mask and softmax
  loop         the other blocks (per block in brackets)
  last PV      the last block's P·V (V wait, turn-free issue, wait)
  finalize     row sums across the quad, 1 / sum, the LSE
  store        O (and the LSE) out: TMA store through the staging tile, or register stores
  gap          from the store to the next tile's Q ready
and, for the producer, its wait for Q to be freed and the time from its Q load to the consumers' Q ready.

  python3 tile_trace.py --lib build-trace/lib/libflashattn.so [--cases d64_s512_causal,d128_s512]"""
import argparse
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fa_ctypes as fa  # noqa: E402

TILES, EVENTS, PRODUCER = 48, 8, 3  # trace.cuh
SLOTS = 4 * EVENTS


def run_case(lib, name):
    m = re.fullmatch(r"d(\d+)_s(\d+)(_causal)?", name)
    d, s, causal = int(m.group(1)), int(m.group(2)), bool(m.group(3))
    h, b = 2048 // d, max(1, 16384 // s)
    q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    out, lse = torch.empty_like(q), torch.empty(b, h, s, device="cuda")
    grid = torch.cuda.get_device_properties(0).multi_processor_count
    assert lse.numel() >= grid * TILES * SLOTS, "LSE buffer too small for the trace"
    p = fa.fill_fwd(lib, torch, q, k, v, out, lse, causal=causal, backend=fa.FA_BACKEND_CUDA_SM90)
    for _ in range(3):
        lse.zero_()
        assert lib.fwd(p) == fa.FA_OK, lib.last_error()
    torch.cuda.synchronize()
    words = lse.view(torch.int32).flatten()[: grid * TILES * SLOTS].view(grid, TILES, SLOTS).to(torch.int64).cpu()
    return words & 0xFFFFFFFF


def delta(a, b):
    return (b - a) % (1 << 32)


def summarize(name, w):
    grid = w.shape[0]
    print(f"\n## {name}: mean cycles per tile stage (tiles 2..{TILES - 2} of each of {grid} CTAs)")
    print("| warpgroup | blocks | tiles | q wait->S0 | softmax0 | loop (per block) | last PV | finalize | store | gap | "
          "tile total |")
    print("|---" * 11 + "|")
    for wg in (0, 1, 2):
        rows = {}
        for c in range(grid):
            for t in range(2, TILES - 1):
                e = w[c, t, wg * EVENTS: (wg + 1) * EVENTS].tolist()
                nxt = w[c, t + 1, wg * EVENTS].item()
                if e[0] == 0 or nxt == 0 or e[5] == 0:
                    continue
                n = e[7]
                st = [delta(e[0], e[1]), delta(e[1], e[2]), delta(e[2], e[3]), delta(e[3], e[4]), delta(e[4], e[6]),
                      delta(e[6], e[5]), delta(e[5], nxt), delta(e[0], nxt)]
                if max(st) > 1 << 24:  # a stage that was not stamped
                    continue
                rows.setdefault(n, []).append(st)
        for n in sorted(rows):
            r = rows[n]
            mean = [sum(x[i] for x in r) / len(r) for i in range(8)]
            per = f" ({mean[2] / (n - 1):.0f})" if n > 1 else ""
            print(f"| {wg} | {n} | {len(r)} | {mean[0]:.0f} | {mean[1]:.0f} | {mean[2]:.0f}{per} | {mean[3]:.0f} | "
                  + " | ".join(f"{x:.0f}" for x in mean[4:]) + " |")
    waits, lat = [], []
    for c in range(grid):
        for t in range(2, TILES - 1):
            p = w[c, t, PRODUCER * EVENTS: PRODUCER * EVENTS + 3].tolist()
            q_ready = w[c, t, 0].item()
            if p[0] == 0 or p[1] == 0 or q_ready == 0:
                continue
            waits.append(delta(p[0], p[1]))
            lat.append(delta(p[1], q_ready))
    if waits:
        ok = [x for x in lat if x < 1 << 24]
        print(f"producer: waits {sum(waits) / len(waits):.0f} cycles for Q to be freed; its Q load to the consumers' "
              f"Q ready: {sum(ok) / max(1, len(ok)):.0f} cycles (mean of {len(ok)})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--cases", default="d64_s512,d64_s512_causal,d128_s512_causal,d64_s4096")
    args = ap.parse_args()
    lib = fa.Library(args.lib)
    print(f"device {torch.cuda.get_device_name()}")
    for name in args.cases.split(","):
        summarize(name, run_case(lib, name))


if __name__ == "__main__":
    main()
