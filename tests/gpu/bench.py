"""TFLOP/s of the CUDA_SM80 backend next to PyTorch's SDPA backends (flash = FlashAttention-2, cuDNN,
memory-efficient), measured in one run on one GPU, plus a dense bf16 GEMM as the ceiling.

bf16, 16384 tokens per call (batch = 16384 / seqlen), heads 32 at hdim 64 and 16 otherwise.
FLOPs: forward 4*b*h*s^2*d (halved when causal), backward 2.5x forward; backward time is
(forward + backward) - forward. Each number is the median over --reps repetitions that time every
implementation of a shape in turn (triton.testing.do_bench medians inside). Our calls go through ctypes
(a few microseconds each, included). Writes bench.md (table, raw numbers in a comment) to $OUT when set.

  python3 bench.py [--quick] [--dims 64,128,256] [--seqlens 512,2048,8192,16384] [--layout bhsd|bshd]

Every implementation reads q/k/v from the same memory layout: by default the peers' contiguous
(batch, heads, seqlen, head_dim), which ours takes as a strided (batch, seqlen, heads, head_dim) view.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import triton
from torch.nn.attention import SDPBackend, sdpa_kernel

import flashattn_ctypes as fa

TOKENS = 16384
PEERS = [("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION),
         ("efficient", SDPBackend.EFFICIENT_ATTENTION)]


def bench_ms(fn):
    return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median")


def gemm_ceiling():
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    ms = bench_ms(lambda: a @ b)
    return 2 * 8192 ** 3 / ms / 1e9


class Ours:
    def __init__(self, lib, b, s, h, d, causal, layout="bhsd"):
        # Our API takes (batch, seqlen, heads, head_dim) views with any strides: "bhsd" stores them as the
        # peers' tensors are stored (heads outer, each head's rows contiguous), "bshd" heads interleaved.
        if layout == "bhsd":
            mk = lambda: torch.randn(b, h, s, d, dtype=torch.bfloat16, device="cuda").transpose(1, 2)
        else:
            mk = lambda: torch.randn(b, s, h, d, dtype=torch.bfloat16, device="cuda")
        self.q, self.k, self.v, self.dout = mk(), mk(), mk(), mk()
        self.out, self.dq, self.dk, self.dv = (torch.empty_like(self.q) for _ in range(4))
        self.lse = torch.empty(b, h, s, dtype=torch.float32, device="cuda")
        self.lib = lib
        self.pf = fa.make_params(lib, self.q, self.k, self.v, self.out, self.lse, causal=causal)
        kw = dict(causal=causal, dout=self.dout, dq=self.dq, dk=self.dk, dv=self.dv)
        pb = fa.make_params(lib, self.q, self.k, self.v, self.out, self.lse, **kw)
        st, self.ws_bytes = lib.workspace_size(pb)
        assert st == fa.FA_OK, lib.last_error()
        self.ws = torch.empty(self.ws_bytes, dtype=torch.uint8, device="cuda")
        self.pb = fa.make_params(lib, self.q, self.k, self.v, self.out, self.lse, workspace=self.ws, **kw)
        for st in (lib.fwd(self.pf), lib.bwd(self.pb)):
            if st != fa.FA_OK:
                raise RuntimeError(lib.last_error())

    def fwd(self):
        self.lib.fwd(self.pf)

    def fwd_bwd(self):
        self.lib.fwd(self.pf)
        self.lib.bwd(self.pb)


class Peer:
    def __init__(self, backend, b, s, h, d, causal, layout="bhsd"):
        # SDPA takes (batch, heads, seqlen, head_dim): contiguous for "bhsd", a view of (b, s, h, d) storage
        # for "bshd", so that both sides of a row read the same memory layout.
        if layout == "bhsd":
            mk = lambda: torch.randn(b, h, s, d, dtype=torch.bfloat16, device="cuda", requires_grad=True)
        else:
            mk = lambda: (torch.randn(b, s, h, d, dtype=torch.bfloat16, device="cuda")
                          .transpose(1, 2).detach().requires_grad_())
        self.q, self.k, self.v = mk(), mk(), mk()
        self.dout = torch.randn(b, h, s, d, dtype=torch.bfloat16, device="cuda")
        self.backend, self.causal = backend, causal
        self.fwd_bwd()  # raises when the backend cannot run this shape

    def fwd(self):
        with torch.no_grad(), sdpa_kernel(self.backend):
            F.scaled_dot_product_attention(self.q, self.k, self.v, is_causal=self.causal)

    def fwd_bwd(self):
        with sdpa_kernel(self.backend):
            out = F.scaled_dot_product_attention(self.q, self.k, self.v, is_causal=self.causal)
        torch.autograd.grad(out, (self.q, self.k, self.v), self.dout)


def measure_interleaved(makers, flops_fwd, reps):
    """TFLOP/s (fwd, bwd, error) per implementation. Every repetition times each implementation in turn,
    starting one later each time, so that clock and thermal drift over the run hit all of them alike;
    the medians over the repetitions are reported."""
    runners, result = {}, {}
    for name, make in makers:
        try:
            runners[name] = make()
        except Exception as e:  # noqa: BLE001 - a peer that cannot run a shape is reported as such
            result[name] = (None, None, str(e).splitlines()[0][:80])
    order = list(runners)
    t_f, t_fb = {n: [] for n in order}, {n: [] for n in order}
    for r in range(reps if order else 0):
        first = r % len(order)
        for n in order[first:] + order[:first]:
            t_f[n].append(bench_ms(runners[n].fwd))
            t_fb[n].append(bench_ms(runners[n].fwd_bwd))
    for n in order:
        f, fb = statistics.median(t_f[n]), statistics.median(t_fb[n])
        result[n] = (flops_fwd / f / 1e9, 2.5 * flops_fwd / max(fb - f, 1e-6) / 1e9, None)
    del runners
    torch.cuda.empty_cache()
    return result


def peak_memory(lib, s=16384, h=16, d=128):
    """Extra device memory of one forward+backward at seqlen s, counted by PyTorch's allocator with the
    workspace allocated through it; an S x S score matrix alone would be h*s*s*2 bytes."""
    r = Ours(lib, 1, s, h, d, causal=False)
    del r.ws
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    ws = torch.empty(r.ws_bytes, dtype=torch.uint8, device="cuda")
    r.pb.workspace, r.pb.workspace_bytes = ws.data_ptr(), r.ws_bytes
    r.fwd_bwd()
    torch.cuda.synchronize()
    ours = torch.cuda.max_memory_allocated() - base
    del ws, r
    torch.cuda.empty_cache()
    p = Peer(SDPBackend.FLASH_ATTENTION, 1, s, h, d, False)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    p.fwd_bwd()
    torch.cuda.synchronize()
    flash = torch.cuda.max_memory_allocated() - base
    return ours, flash, h * s * s * 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dims", default="64,128,256")
    ap.add_argument("--seqlens", default="512,2048,8192,16384")
    ap.add_argument("--lib", default=None)
    ap.add_argument("--only-ours", action="store_true", help="no peers, GEMM or memory (tuning runs)")
    ap.add_argument("--causal", default="0,1")
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions per shape (medians reported)")
    ap.add_argument("--layout", choices=("bhsd", "bshd"), default="bhsd",
                    help="memory layout of q/k/v for every implementation (default: the peers' contiguous one)")
    args = ap.parse_args()
    lib = fa.Library(args.lib)
    dims = [int(x) for x in args.dims.split(",")]
    seqlens = [int(x) for x in args.seqlens.split(",")]
    if args.quick:
        seqlens = [2048, 8192]
    dev = torch.cuda.get_device_name()
    print(f"device: {dev}; torch {torch.__version__}; cuDNN {torch.backends.cudnn.version()}; {lib.version()}",
          flush=True)
    ceiling = 0.0 if args.only_ours else gemm_ceiling()
    print(f"dense bf16 8192^3 GEMM: {ceiling:.0f} TFLOP/s", flush=True)

    rows, records = [], []
    t0 = time.time()
    for d in dims:
        h = 32 if d == 64 else 16
        for s in seqlens:
            b = TOKENS // s
            for causal in [c == "1" for c in args.causal.split(",")]:
                flops = 4 * b * h * s * s * d / (2 if causal else 1)
                rec = {"hdim": d, "seqlen": s, "batch": b, "heads": h, "causal": causal}
                makers = [("ours", lambda: Ours(lib, b, s, h, d, causal, args.layout))]
                if not args.only_ours:
                    makers += [(name, lambda be=backend: Peer(be, b, s, h, d, causal, args.layout))
                               for name, backend in PEERS]
                rec.update({name: (None, None, None) for name, _ in PEERS})
                rec.update(measure_interleaved(makers, flops, args.reps))
                records.append(rec)
                f = lambda x: "-" if x is None else f"{x:.0f}"
                of, ob = rec["ours"][0], rec["ours"][1]
                ff, fb = rec["flash"][0], rec["flash"][1]
                ratio = lambda a, c: "-" if a is None or c is None else f"{a / c:.2f}"
                rows.append(f"| {d} | {s} | {b}x{h} | {'yes' if causal else 'no'} | {f(of)} | {f(ob)} | {f(ff)} | "
                            f"{f(fb)} | {f(rec['cudnn'][0])} | {f(rec['cudnn'][1])} | {f(rec['efficient'][0])} | "
                            f"{f(rec['efficient'][1])} | {ratio(of, ff)} | {ratio(ob, fb)} |")
                print(rows[-1], flush=True)
                for k in ("ours", "flash", "cudnn", "efficient"):
                    if rec[k][2]:
                        print(f"    {k}: {rec[k][2]}")
    print(f"bench time {time.time() - t0:.0f} s", flush=True)
    if args.only_ours:
        return 0

    ours_mem, flash_mem, sxs = peak_memory(lib)
    mem_line = (f"Peak extra memory, fwd+bwd, hdim 128, seqlen 16384, 1x16 heads: ours {ours_mem / 2**20:.0f} MiB "
                f"(the backward workspace), PyTorch flash {flash_mem / 2**20:.0f} MiB; one bf16 S x S matrix per head "
                f"set would be {sxs / 2**20:.0f} MiB.")
    header = ("| hdim | seqlen | batch×heads | causal | ours fwd | ours bwd | flash fwd | flash bwd | cuDNN fwd | "
              "cuDNN bwd | efficient fwd | efficient bwd | ours/flash fwd | ours/flash bwd |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    table = "\n".join([header] + rows)
    text = (f"Device: {dev}; PyTorch {torch.__version__}; cuDNN {torch.backends.cudnn.version()}; {time.strftime('%Y-%m-%d')}; "
            f"q/k/v stored {args.layout.upper()} for every implementation\n"
            f"Dense bf16 8192^3 GEMM in the same run: {ceiling:.0f} TFLOP/s. TFLOP/s below.\n\n{table}\n\n{mem_line}\n")
    out = os.environ.get("OUT")
    if out:
        name = "bench.md" if args.layout == "bhsd" else f"bench_{args.layout}.md"
        with open(os.path.join(out, name), "w") as fh:
            fh.write(text)
        with open(os.path.join(out, name), "a") as fh:
            fh.write("\n<!-- raw: " + json.dumps({"gemm": ceiling, "records": records,
                                                 "memory": [ours_mem, flash_mem, sxs]}) + " -->\n")
    print()
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
