"""Correctness grid of the CUDA_SM80 backend against PyTorch references on the GPU.

Each case: fresh random inputs; outputs poisoned with NaN (and written through padded views, so a
write outside the tensor shows up as a changed pad); forward out + LSE and backward dq/dk/dv compared
with a float32 reference (TF32 off). Tolerance as in flash-attn's tests: our max error must be at most
2x the error of the same computation done by PyTorch in the input dtype, plus a rounding floor.

  python3 check.py [--quick] [--filter SUBSTR] [--bwd-backend sm90]

--bwd-backend sm90 runs every backward on the Hopper (FA3) backward instead, skipping the cases it does
not take (head_dim > 128, deterministic), on the grid and a few longer and variable-length shapes.
"""
import argparse
import math
import os
import sys
import time

import torch

import flashattn_ctypes as fa

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
DEV = "cuda"

# ---------------------------------------------------------------- references


def attention_ref(q, k, v, causal, scale, upcast, seqlen_q=None, seqlen_k=None):
    """q (b, sq, hq, d), k/v (b, sk, hkv, d) -> out (b, sq, hq, d), lse (b, hq, sq).
    upcast: float32 math; else the input dtype for both products (softmax in float32, P rounded)."""
    dtype = q.dtype
    if upcast:
        q, k, v = q.float(), k.float(), v.float()
    g = q.shape[2] // k.shape[2]
    k = k.repeat_interleave(g, dim=2)
    v = v.repeat_interleave(g, dim=2)
    s = torch.einsum("bqhd,bkhd->bhqk", q, k).float() * scale
    sq, sk = q.shape[1], k.shape[1]
    if causal:
        row = torch.arange(sq, device=q.device)[:, None]
        col = torch.arange(sk, device=q.device)[None, :]
        s = s.masked_fill(col > row + sk - sq, float("-inf"))
    lse = torch.logsumexp(s, dim=-1)
    p = torch.softmax(s, dim=-1).nan_to_num(0.0)
    out = torch.einsum("bhqk,bkhd->bqhd", p.to(v.dtype), v)
    return out.to(dtype) if not upcast else out, lse


def padded_like(shape, dtype, pad=8):
    """A NaN-filled buffer with `pad` extra columns; returns (view of `shape`, whole buffer)."""
    buf = torch.full(shape[:-1] + (shape[-1] + pad,), float("nan"), dtype=dtype, device=DEV)
    return buf[..., : shape[-1]], buf


def pad_intact(buf, d):
    return bool(torch.isnan(buf[..., d:].float()).all())


def rounding_floor(ref, dtype):
    r = ref.to(dtype)
    return 2 * ((r + 0.3 - 0.3) - r).abs().max().item() + 1e-6


class Tally:
    def __init__(self):
        self.passed, self.failed, self.lines = 0, 0, []

    def record(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.lines.append(f"FAIL {name} {detail}")
            print(f"FAIL {name} {detail}", flush=True)


T = Tally()
LIB = None
BWD_BACKEND = fa.FA_BACKEND_CUDA_SM80
SKIPPED = []  # backward cases the chosen backend does not take

# ---------------------------------------------------------------- one case


def make_inputs(b, sq, sk, hq, hkv, d, dtype, layout):
    """layout 'contig': separate tensors; 'packed': q, k, v are slices of one (b, s, hq+2hkv, d) buffer
    (needs sq == sk), so row strides exceed heads*d; 'transposed': (b, h, s, d) storage viewed as
    (b, s, h, d) (row stride d, head stride s*d)."""
    if layout == "packed" and sq == sk:
        qkv = torch.randn(b, sq, hq + 2 * hkv, d, dtype=dtype, device=DEV)
        return qkv[:, :, :hq], qkv[:, :, hq:hq + hkv], qkv[:, :, hq + hkv:]
    if layout == "transposed":
        mk = lambda s, h: torch.randn(b, h, s, d, dtype=dtype, device=DEV).transpose(1, 2)
        return mk(sq, hq), mk(sk, hkv), mk(sk, hkv)
    return (torch.randn(b, sq, hq, d, dtype=dtype, device=DEV), torch.randn(b, sk, hkv, d, dtype=dtype, device=DEV),
            torch.randn(b, sk, hkv, d, dtype=dtype, device=DEV))


def compare(name, ours, ref, lowp, dtype, mult=2.0):
    if torch.isnan(ours.float()).any():
        T.record(name, False, "NaN in output (unwritten or poisoned)")
        return False
    err = (ours.float() - ref.float()).abs().max().item()
    err_pt = (lowp.float() - ref.float()).abs().max().item()
    tol = mult * err_pt + rounding_floor(ref, dtype)
    ok = err <= tol
    T.record(name, ok, f"err {err:.3e} > tol {tol:.3e} (torch {dtype} err {err_pt:.3e})")
    return ok


def compare_lse(name, ours, ref, lowp):
    inf_ref = torch.isinf(ref)
    if not torch.equal(torch.isinf(ours) & (ours < 0), inf_ref):
        T.record(name, False, "-inf pattern of lse differs")
        return False
    fin = ~inf_ref
    if not fin.any():
        T.record(name, True)
        return True
    err = (ours[fin] - ref[fin]).abs().max().item()
    err_pt = (lowp[fin] - ref[fin]).abs().max().item()
    tol = 2 * err_pt + 2e-3
    ok = err <= tol and not torch.isnan(ours).any()
    T.record(name, ok, f"lse err {err:.3e} > tol {tol:.3e}")
    return ok


def run_case(b, sq, sk, hq, hkv, d, dtype, causal, layout="contig", bwd=True, deterministic=False,
             user_workspace=False):
    tag = (f"{str(dtype)[6:]} d{d} b{b} sq{sq} sk{sk} h{hq}/{hkv} {'causal' if causal else 'full'} {layout}"
           f"{' det' if deterministic else ''}{' ws' if user_workspace else ''}")
    scale = 1.0 / math.sqrt(d)
    q, k, v = make_inputs(b, sq, sk, hq, hkv, d, dtype, layout)
    out, out_buf = padded_like((b, sq, hq, d), dtype)
    lse = torch.full((b, hq, sq), float("nan"), dtype=torch.float32, device=DEV)
    p = fa.make_params(LIB, q, k, v, out, lse, causal=causal, scale=scale)
    st = LIB.fwd(p)
    if st != fa.FA_OK:
        T.record(f"fwd {tag}", False, f"status {fa.STATUS_NAMES[st]}: {LIB.last_error()}")
        return
    qr, kr, vr = (t.detach().float().requires_grad_(bwd) for t in (q, k, v))
    out_ref, lse_ref = attention_ref(qr, kr, vr, causal, scale, upcast=True)
    ql, kl, vl = (t.detach().clone().requires_grad_(bwd) for t in (q, k, v))
    out_pt, lse_pt = attention_ref(ql, kl, vl, causal, scale, upcast=False)
    torch.cuda.synchronize()
    compare(f"fwd out {tag}", out, out_ref, out_pt, dtype)
    compare_lse(f"fwd lse {tag}", lse, lse_ref, lse_pt)
    T.record(f"fwd pad {tag}", pad_intact(out_buf, d), "write outside out")
    if not bwd:
        return

    dout = torch.randn(b, sq, hq, d, dtype=dtype, device=DEV)
    dq, dq_buf = padded_like((b, sq, hq, d), dtype)
    dk, dk_buf = padded_like((b, sk, hkv, d), dtype)
    dv, dv_buf = padded_like((b, sk, hkv, d), dtype)
    kw = dict(causal=causal, scale=scale, dout=dout, dq=dq, dk=dk, dv=dv, deterministic=deterministic,
              backend=BWD_BACKEND)
    p = fa.make_params(LIB, q, k, v, out, lse, **kw)
    if BWD_BACKEND != fa.FA_BACKEND_CUDA_SM80 and LIB.select_backend(p, True)[0] != fa.FA_OK:
        SKIPPED.append(tag)
        return
    ws = None
    if user_workspace:
        st, nbytes = LIB.workspace_size(p)
        ws = torch.empty(nbytes, dtype=torch.uint8, device=DEV)
        p = fa.make_params(LIB, q, k, v, out, lse, workspace=ws, **kw)
    st = LIB.bwd(p)
    if st != fa.FA_OK:
        T.record(f"bwd {tag}", False, f"status {fa.STATUS_NAMES[st]}: {LIB.last_error()}")
        return
    g_ref = torch.autograd.grad(out_ref, (qr, kr, vr), dout.float())
    g_pt = torch.autograd.grad(out_pt, (ql, kl, vl), dout)
    torch.cuda.synchronize()
    for name, ours, ref, lowp, buf in (("dq", dq, g_ref[0], g_pt[0], dq_buf), ("dk", dk, g_ref[1], g_pt[1], dk_buf),
                                        ("dv", dv, g_ref[2], g_pt[2], dv_buf)):
        compare(f"bwd {name} {tag}", ours, ref, lowp, dtype)
        T.record(f"bwd {name} pad {tag}", pad_intact(buf, d), "write outside the gradient")
    if deterministic:
        grads1 = [t.clone() for t in (dq, dk, dv)]
        for t in (dq, dk, dv):
            t.fill_(float("nan"))
        st = LIB.bwd(p)
        torch.cuda.synchronize()
        same = st == fa.FA_OK and all(torch.equal(a, b_) for a, b_ in zip(grads1, (dq, dk, dv)))
        T.record(f"bwd deterministic rerun {tag}", same, "second run differs bitwise")


def run_varlen(seqlens_q, seqlens_k, hq, hkv, d, dtype, causal):
    tag = f"varlen {str(dtype)[6:]} d{d} q{seqlens_q} k{seqlens_k} h{hq}/{hkv} {'causal' if causal else 'full'}"
    scale = 1.0 / math.sqrt(d)
    cu_q = torch.tensor([0] + list(torch.tensor(seqlens_q).cumsum(0)), dtype=torch.int32, device=DEV)
    cu_k = torch.tensor([0] + list(torch.tensor(seqlens_k).cumsum(0)), dtype=torch.int32, device=DEV)
    tq, tk = int(cu_q[-1]), int(cu_k[-1])
    q = torch.randn(tq, hq, d, dtype=dtype, device=DEV)
    k = torch.randn(tk, hkv, d, dtype=dtype, device=DEV)
    v = torch.randn(tk, hkv, d, dtype=dtype, device=DEV)
    out, out_buf = padded_like((tq, hq, d), dtype)
    lse = torch.full((hq, tq), float("nan"), dtype=torch.float32, device=DEV)
    dout = torch.randn(tq, hq, d, dtype=dtype, device=DEV)
    dq, dq_buf = padded_like((tq, hq, d), dtype)
    dk, dk_buf = padded_like((tk, hkv, d), dtype)
    dv, dv_buf = padded_like((tk, hkv, d), dtype)
    kw = dict(causal=causal, scale=scale, cu_seqlens_q=cu_q, cu_seqlens_k=cu_k, max_seqlen_q=max(seqlens_q),
              max_seqlen_k=max(seqlens_k))
    st = LIB.fwd(fa.make_params(LIB, q, k, v, out, lse, **kw))
    if st != fa.FA_OK:
        T.record(f"fwd {tag}", False, f"status {fa.STATUS_NAMES[st]}: {LIB.last_error()}")
        return
    pb = fa.make_params(LIB, q, k, v, out, lse, dout=dout, dq=dq, dk=dk, dv=dv, backend=BWD_BACKEND, **kw)
    if BWD_BACKEND != fa.FA_BACKEND_CUDA_SM80 and LIB.select_backend(pb, True)[0] != fa.FA_OK:
        SKIPPED.append(tag)
        return
    st = LIB.bwd(pb)
    if st != fa.FA_OK:
        T.record(f"bwd {tag}", False, f"status {fa.STATUS_NAMES[st]}: {LIB.last_error()}")
        return
    torch.cuda.synchronize()
    outs, lses, dqs, dks, dvs = [], [], [], [], []
    outs_pt, lses_pt, dqs_pt, dks_pt, dvs_pt = [], [], [], [], []
    for i, (lq, lk) in enumerate(zip(seqlens_q, seqlens_k)):
        a, c = int(cu_q[i]), int(cu_k[i])
        qi, ki, vi = q[a:a + lq][None], k[c:c + lk][None], v[c:c + lk][None]
        qr, kr, vr = (t.detach().float().requires_grad_() for t in (qi, ki, vi))
        ql, kl, vl = (t.detach().clone().requires_grad_() for t in (qi, ki, vi))
        o_r, l_r = attention_ref(qr, kr, vr, causal, scale, True)
        o_p, l_p = attention_ref(ql, kl, vl, causal, scale, False)
        g_r = torch.autograd.grad(o_r, (qr, kr, vr), dout[a:a + lq][None].float()) if lq and lk else (qr * 0, kr * 0, vr * 0)
        g_p = torch.autograd.grad(o_p, (ql, kl, vl), dout[a:a + lq][None]) if lq and lk else (ql * 0, kl * 0, vl * 0)
        outs.append(o_r[0]); lses.append(l_r[0]); dqs.append(g_r[0][0]); dks.append(g_r[1][0]); dvs.append(g_r[2][0])
        outs_pt.append(o_p[0]); lses_pt.append(l_p[0]); dqs_pt.append(g_p[0][0]); dks_pt.append(g_p[1][0])
        dvs_pt.append(g_p[2][0])
    cat = lambda xs, dim=0: torch.cat(xs, dim)
    compare(f"fwd out {tag}", out, cat(outs), cat(outs_pt), dtype)
    compare_lse(f"fwd lse {tag}", lse, cat(lses, 1), cat(lses_pt, 1))
    for name, ours, ref, lowp, buf in (("dq", dq, cat(dqs), cat(dqs_pt), dq_buf), ("dk", dk, cat(dks), cat(dks_pt), dk_buf),
                                        ("dv", dv, cat(dvs), cat(dvs_pt), dv_buf)):
        compare(f"bwd {name} {tag}", ours, ref, lowp, dtype)
        T.record(f"bwd {name} pad {tag}", pad_intact(buf, d), "write outside the gradient")


# ---------------------------------------------------------------- bad arguments


def bad_arguments():
    def expect(name, status, want):
        T.record(f"badarg {name}", status == want,
                 f"status {fa.STATUS_NAMES.get(status, status)}, want {fa.STATUS_NAMES[want]}: {LIB.last_error()}")
        if status == want:
            print(f"  badarg {name}: {fa.STATUS_NAMES[status]}: {LIB.last_error()}")

    dtype = torch.float16
    q = torch.randn(1, 64, 2, 64, dtype=dtype, device=DEV)
    k, v = torch.randn_like(q), torch.randn_like(q)
    out, lse = torch.empty_like(q), torch.empty(1, 2, 64, device=DEV)
    q_cpu = q.cpu()
    p = fa.make_params(LIB, q, k, v, out, lse)
    p.q = q_cpu.data_ptr()
    expect("host q pointer", LIB.fwd(p), fa.FA_ERR_INVALID_ARGUMENT)

    q100 = torch.randn(1, 64, 2, 100, dtype=dtype, device=DEV)
    o100 = torch.empty_like(q100)
    p = fa.make_params(LIB, q100, q100.clone(), q100.clone(), o100, lse)
    expect("head_dim 100", LIB.fwd(p), fa.FA_ERR_UNSUPPORTED)

    big = torch.randn(1, 64, 2, 72, dtype=dtype, device=DEV)
    qs = big[..., 4:68]  # 8-byte offset start: misaligned for 16-byte loads
    p = fa.make_params(LIB, qs, k, v, out, lse)
    expect("misaligned q", LIB.fwd(p), fa.FA_ERR_UNSUPPORTED)

    q32 = q.float()
    p = fa.make_params(LIB, q32, k.float(), v.float(), out.float(), lse)
    expect("float32 on sm80", LIB.fwd(p), fa.FA_ERR_UNSUPPORTED)

    p = fa.make_params(LIB, q, k, v, out, lse)
    p.device_index = 57
    expect("device_index 57", LIB.fwd(p), fa.FA_ERR_BACKEND_UNAVAILABLE)

    dout, dq, dk, dv = torch.randn_like(q), torch.empty_like(q), torch.empty_like(q), torch.empty_like(q)
    LIB.fwd(fa.make_params(LIB, q, k, v, out, lse))
    ws = torch.empty(64, dtype=torch.uint8, device=DEV)
    p = fa.make_params(LIB, q, k, v, out, lse, dout=dout, dq=dq, dk=dk, dv=dv, workspace=ws)
    expect("workspace too small", LIB.bwd(p), fa.FA_ERR_INVALID_ARGUMENT)
    p = fa.make_params(LIB, q, k, v, out, lse, dout=dout, dq=dq, dk=dk, dv=dv)
    dk_cpu = torch.empty(1, 64, 2, 64, dtype=dtype)
    p.dk = dk_cpu.data_ptr()
    expect("host dk pointer (bwd)", LIB.bwd(p), fa.FA_ERR_INVALID_ARGUMENT)
    st, backend = LIB.select_backend(fa.make_params(LIB, q, k, v, out, lse, backend=fa.FA_BACKEND_AUTO), False)
    T.record("select_backend auto", st == fa.FA_OK and backend in (fa.FA_BACKEND_CUDA_SM80, fa.FA_BACKEND_CUDA_SM90),
             f"status {st} backend {backend}: {LIB.last_error()}")
    torch.cuda.synchronize()


# ---------------------------------------------------------------- the grid


def main():
    global LIB
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--filter", default="")
    ap.add_argument("--lib", default=None)
    ap.add_argument("--bwd-backend", choices=("sm80", "sm90"), default="sm80")
    args = ap.parse_args()
    LIB = fa.Library(args.lib)
    global BWD_BACKEND
    BWD_BACKEND = fa.FA_BACKEND_CUDA_SM90 if args.bwd_backend == "sm90" else fa.FA_BACKEND_CUDA_SM80
    print(f"library: {LIB.version()}  device: {torch.cuda.get_device_name()}  torch {torch.__version__}", flush=True)
    torch.manual_seed(0)
    t0 = time.time()

    dims = [32, 40, 64, 96, 128, 160, 192, 224, 256]
    seqs = [(1, 1), (17, 17), (113, 203), (203, 113), (255, 255), (1000, 1000), (2048, 2048), (1, 1000), (1000, 1)]
    heads = [(4, 4), (6, 2), (4, 1)]
    layouts = ["contig", "packed", "transposed"]
    if args.quick:
        dims = [40, 64, 128, 256]
        seqs = [(1, 1), (113, 203), (203, 113), (1000, 1000)]
    i = 0
    for dtype in (torch.float16, torch.bfloat16):
        for d in dims:
            for causal in (False, True):
                for sq, sk in seqs:
                    hq, hkv = heads[i % 3]
                    layout = layouts[(i // 3) % 3]
                    i += 1
                    b = 1 if sq * sk >= 1000 * 1000 else 2
                    tag = f"{dtype} {d} {sq} {sk}"
                    if args.filter and args.filter not in tag:
                        continue
                    run_case(b, sq, sk, hq, hkv, d, dtype, causal, layout=layout)
        print(f"  {dtype} grid done: {T.passed} passed, {T.failed} failed ({time.time() - t0:.0f} s)", flush=True)

    if BWD_BACKEND != fa.FA_BACKEND_CUDA_SM80:
        # Shapes past the grid's: every head layout, a caller's workspace, long and unequal lengths; then packed
        # variable-length batches (also alone, with --filter varlen).
        for dtype in (torch.float16, torch.bfloat16):
            if not args.filter:
                for hq, hkv in heads:
                    for causal in (False, True):
                        run_case(2, 257, 257, hq, hkv, 128, dtype, causal, layout="packed")
                run_case(2, 333, 333, 4, 2, 128, dtype, True, user_workspace=True)
                run_case(1, 4096, 4096, 2, 1, 64, dtype, True)
                run_case(1, 3000, 1500, 4, 2, 128, dtype, True)
                run_case(1, 1500, 3000, 4, 4, 72, dtype, True)
            if args.filter and args.filter != "varlen":
                continue
            for d in (40, 64, 128):
                for causal in (False, True):
                    run_varlen([5, 130, 0, 257], [7, 100, 33, 257], 4, 2, d, dtype, causal)
                    run_varlen([1, 64, 300], [200, 64, 129], 4, 4, d, dtype, causal)
        print(f"checks: {T.passed + T.failed}, PASS {T.passed}, FAIL {T.failed}, {len(SKIPPED)} backward cases "
              f"not taken by {args.bwd_backend} ({time.time() - t0:.0f} s)")
        for line in T.lines[:40]:
            print(line)
        return 0 if T.failed == 0 else 1

    # Every head layout at one size per dtype, deterministic mode, and a caller-provided workspace.
    for dtype in (torch.float16, torch.bfloat16):
        for hq, hkv in heads:
            for causal in (False, True):
                run_case(2, 257, 257, hq, hkv, 128, dtype, causal, layout="packed")
        for d in ([64, 128, 256] if args.quick else [32, 64, 96, 128, 160, 192, 224, 256]):
            run_case(2, 300, 190, 6, 2, d, dtype, True, deterministic=True)
            run_case(1, 190, 300, 4, 4, d, dtype, False, deterministic=True)
        run_case(2, 333, 333, 4, 2, 128, dtype, True, user_workspace=True)
        run_case(2, 333, 333, 4, 2, 64, dtype, False, deterministic=True, user_workspace=True)

    for dtype in (torch.float16, torch.bfloat16):
        for d in (64, 128) if args.quick else (40, 64, 128, 256):
            for causal in (False, True):
                run_varlen([5, 130, 0, 257], [7, 100, 33, 257], 4, 2, d, dtype, causal)
                run_varlen([1, 64, 300], [200, 64, 129], 4, 4, d, dtype, causal)

    # The single-stage pipelines (what devices with less shared memory than an H100 run).
    os.environ["FLASHATTN_SM80_STAGES"] = "1"
    for d in (64, 128, 256):
        run_case(2, 203, 331, 4, 2, d, torch.bfloat16, True)
        run_case(1, 331, 203, 4, 4, d, torch.float16, False, deterministic=True)
    del os.environ["FLASHATTN_SM80_STAGES"]

    bad_arguments()
    print(f"checks: {T.passed + T.failed}, PASS {T.passed}, FAIL {T.failed} ({time.time() - t0:.0f} s)")
    for line in T.lines[:40]:
        print(line)
    return 0 if T.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
