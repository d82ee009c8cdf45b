#!/usr/bin/env python3
"""Correctness check of the Hopper (FA3) forward: fa_mha_fwd forced to backend CUDA_SM90 on bf16/fp16
(and FP8 e4m3) shapes, against a float32 torch reference of out and LSE.

Every case uses fresh random inputs, NaN-poisoned outputs, and a guard band of rows after `out` that
must stay untouched. A kernel that does not finish within --hang-timeout seconds is reported as a hang
and the process exits at once (a wedged context cannot run further cases).

  python3 check_sm90.py            full matrix (head_dim 64/96/128/192/256 bf16+fp16, causal or not; FP8 64/128/256;
                                   head dims between the compiled ones, run padded)
  python3 check_sm90.py --quick    a representative subset
  python3 check_sm90.py --tiny     a few tiny shapes per path: for compute-sanitizer runs
"""
import argparse
import itertools
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fa_ctypes as fa  # noqa: E402

GUARD = 3  # rows of guard band after out

TOL = {  # max |err| <= atol + rtol * |ref|, and mean |err| <= mean_tol
    torch.bfloat16: dict(atol=2e-2, rtol=2e-2, mean=2e-3, lse=2e-3),
    torch.float16: dict(atol=3e-3, rtol=3e-3, mean=3e-4, lse=2e-3),
    "fp8": dict(atol=0.15, rtol=0.1, mean=2e-2, lse=5e-3),
}


def reference(q, k, v, causal, scale):
    """float32 attention with GQA and bottom-right causal alignment; rows with no key: out 0, lse -inf."""
    b, sq, hq, d = q.shape
    sk, hkv = k.shape[1], k.shape[2]
    g = hq // hkv
    out = torch.empty(b, sq, hq, d, dtype=torch.float32, device=q.device)
    lse = torch.empty(b, hq, sq, dtype=torch.float32, device=q.device)
    hidden = None
    if causal:
        rows = torch.arange(sq, device=q.device)[:, None]
        cols = torch.arange(sk, device=q.device)[None, :]
        hidden = cols > rows + (sk - sq)
    for bi in range(b):
        for h in range(hq):
            qf = q[bi, :, h].float()
            kf = k[bi, :, h // g].float()
            vf = v[bi, :, h // g].float()
            s = (qf @ kf.T) * scale
            if hidden is not None:
                s.masked_fill_(hidden, float("-inf"))
            l = torch.logsumexp(s, dim=-1)
            p = torch.exp(s - l[:, None])
            p = torch.nan_to_num(p, nan=0.0)
            out[bi, :, h] = p @ vf
            lse[bi, h] = l
    return out, lse


def make_qkv(shape, dtype, layout, device, gen):
    b, sq, sk, hq, hkv, d = shape
    if layout == "packed":  # one (b, s, 3, h, d) buffer, like a fused qkv projection
        assert sq == sk and hq == hkv
        qkv = torch.randn(b, sq, 3, hq, d, device=device, generator=gen).to(dtype)
        return qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    if layout == "bhsd":  # (b, h, s, d) storage seen as (b, s, h, d)
        q = torch.randn(b, hq, sq, d, device=device, generator=gen).to(dtype).transpose(1, 2)
        k = torch.randn(b, hkv, sk, d, device=device, generator=gen).to(dtype).transpose(1, 2)
        v = torch.randn(b, hkv, sk, d, device=device, generator=gen).to(dtype).transpose(1, 2)
        return q, k, v
    q = torch.randn(b, sq, hq, d, device=device, generator=gen).to(dtype)
    k = torch.randn(b, sk, hkv, d, device=device, generator=gen).to(dtype)
    v = torch.randn(b, sk, hkv, d, device=device, generator=gen).to(dtype)
    return q, k, v


def poisoned_out(b, sq, hq, d, dtype, device, shift=0, pad=0):
    """NaN-poisoned out inside a buffer with sentinel guard rows after it. shift / pad: out starts `shift`
    elements into each (row, head) slot of d + shift + pad elements, so that it is not 16-byte aligned or
    its strides are not multiples of 8 elements (the epilogue's 4-byte path)."""
    big = torch.full((b, sq + GUARD, hq, d + shift + pad), float("nan"), dtype=dtype, device=device)
    big[:, sq:] = 7.0  # guard band sentinel
    return big, big[:, :sq, :, shift:shift + d]


def wait_or_die(what, timeout):
    ev = torch.cuda.Event()
    ev.record()
    t0 = time.time()
    while not ev.query():
        if time.time() - t0 > timeout:
            print(f"HANG: {what} did not finish within {timeout:.0f} s", flush=True)
            os._exit(3)
        time.sleep(0.001)


def run_fwd(lib, q, k, v, out, lse, causal, backend, descales=(1.0, 1.0, 1.0), timeout=30.0, what=""):
    p = fa.fill_fwd(lib, torch, q, k, v, out, lse, causal=causal, backend=backend, descales=descales)
    st = lib.fwd(p)
    if st != fa.FA_OK:
        return st, lib.last_error()
    wait_or_die(what, timeout)
    torch.cuda.synchronize()
    return st, ""


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def report(self, name, ok, detail):
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)


def compare(out_big, out, lse, ref_out, ref_lse, sq, tol):
    problems = []
    if torch.isnan(out).any():
        problems.append(f"{int(torch.isnan(out).sum())} NaN in out")
    guard = out_big[:, sq:]
    if not bool((guard == 7.0).all()):
        problems.append("guard rows after out were written")
    o = out.float()
    err = (o - ref_out).abs()
    err = torch.nan_to_num(err, nan=float("inf"))
    bound = tol["atol"] + tol["rtol"] * ref_out.abs()
    max_err = float(err.max()) if err.numel() else 0.0
    mean_err = float(err.mean()) if err.numel() else 0.0
    if bool((err > bound).any()):
        problems.append(f"max|err| {max_err:.3g} over atol {tol['atol']} + rtol {tol['rtol']}")
    if mean_err > tol["mean"]:
        problems.append(f"mean|err| {mean_err:.3g} > {tol['mean']}")
    lse_detail = ""
    if lse is not None:
        ref_inf = torch.isinf(ref_lse)
        if bool((torch.isinf(lse) != ref_inf).any()) or torch.isnan(lse).any():
            problems.append("lse: -inf/NaN pattern differs from the reference (empty rows must be -inf)")
        finite = ~ref_inf
        lse_err = float((lse[finite] - ref_lse[finite]).abs().max()) if bool(finite.any()) else 0.0
        if lse_err > tol["lse"]:
            problems.append(f"lse max|err| {lse_err:.3g} > {tol['lse']}")
        lse_detail = f", lse max|err| {lse_err:.2e}"
    detail = f"max|err| {max_err:.2e}, mean|err| {mean_err:.2e}{lse_detail}"
    return not problems, detail + ("" if not problems else " -- " + "; ".join(problems))


def untouched_beside(out_big, sq, d, shift, pad):
    """Whether the poisoned columns around out (poisoned_out's shift / pad) are still all NaN."""
    if not shift and not pad:
        return True
    beside = torch.cat([out_big[:, :sq, :, :shift], out_big[:, :sq, :, shift + d:]], dim=-1)
    return bool(torch.isnan(beside).all())


def check_16bit(lib, res, dtype, d, shape, causal, layout, gen, timeout, tag="", out_shift=0, out_pad=0):
    b, sq, sk, hq, hkv = shape
    dev = torch.device("cuda")
    q, k, v = make_qkv((b, sq, sk, hq, hkv, d), dtype, layout, dev, gen)
    out_big, out = poisoned_out(b, sq, hq, d, dtype, dev, out_shift, out_pad)
    lse = torch.full((b, hq, sq), float("nan"), dtype=torch.float32, device=dev)
    name = f"{str(dtype)[6:]} d{d} b{b} sq{sq} sk{sk} h{hq}/{hkv} {'causal' if causal else 'full'} {layout}{tag}"
    st, msg = run_fwd(lib, q, k, v, out, lse, causal, fa.FA_BACKEND_CUDA_SM90, timeout=timeout, what=name)
    if st != fa.FA_OK:
        res.report(name, False, f"status {st}: {msg}")
        return
    ref_out, ref_lse = reference(q, k, v, causal, 1.0 / math.sqrt(d))
    ok, detail = compare(out_big, out, lse, ref_out, ref_lse, sq, TOL[dtype])
    if not untouched_beside(out_big, sq, d, out_shift, out_pad):
        ok, detail = False, detail + " -- columns beside out were written"
    res.report(name, ok, detail)


def quantize_e4m3(x):
    amax = float(x.float().abs().max().clamp(min=1e-6))
    scale = amax / 448.0
    return (x.float() / scale).to(torch.float8_e4m3fn), scale


def check_fp8(lib, res, d, shape, causal, gen, timeout, tag="", out_pad=0):
    b, sq, sk, hq, hkv = shape
    dev = torch.device("cuda")
    q, k, v = make_qkv((b, sq, sk, hq, hkv, d), torch.float32, "bshd", dev, gen)
    (q8, sq_), (k8, sk_), (v8, sv_) = quantize_e4m3(q), quantize_e4m3(k), quantize_e4m3(v)
    out_big, out = poisoned_out(b, sq, hq, d, torch.bfloat16, dev, pad=out_pad)
    lse = torch.full((b, hq, sq), float("nan"), dtype=torch.float32, device=dev)
    name = f"e4m3 d{d} b{b} sq{sq} sk{sk} h{hq}/{hkv} {'causal' if causal else 'full'}{tag}"
    st, msg = run_fwd(lib, q8, k8, v8, out, lse, causal, fa.FA_BACKEND_CUDA_SM90, descales=(sq_, sk_, sv_),
                      timeout=timeout, what=name)
    if st != fa.FA_OK:
        res.report(name, False, f"status {st}: {msg}")
        return
    qd, kd, vd = q8.float() * sq_, k8.float() * sk_, v8.float() * sv_
    ref_out, ref_lse = reference(qd, kd, vd, causal, 1.0 / math.sqrt(d))
    ok, detail = compare(out_big, out, lse, ref_out, ref_lse, sq, TOL["fp8"])
    if not untouched_beside(out_big, sq, d, 0, out_pad):
        ok, detail = False, detail + " -- columns beside out were written"
    # The same dequantized inputs through the bf16 kernel: how far FP8 P·V lands from the 16-bit path.
    qb, kb, vb = qd.to(torch.bfloat16), kd.to(torch.bfloat16), vd.to(torch.bfloat16)
    ob_big, ob = poisoned_out(b, sq, hq, d, torch.bfloat16, dev)
    lse16 = torch.empty(b, hq, sq, device=dev)
    st, msg = run_fwd(lib, qb, kb, vb, ob, lse16, causal, fa.FA_BACKEND_CUDA_SM90, timeout=timeout, what=name + " (bf16)")
    if st == fa.FA_OK:
        vs16 = float((out.float() - ob.float()).abs().max())
        detail += f", vs bf16 path max|diff| {vs16:.2e}"
    res.report(name, ok, detail)


def check_varlen(lib, res, dtype, d, lens_q, lens_k, hq, hkv, causal, gen, timeout, tag=""):
    """Packed variable-length batch (sequences of lens_q / lens_k rows, zeros included) against the float32
    reference per sequence; out sits in a NaN-poisoned buffer with guard rows after it and 8 spare columns
    per (row, head), which must stay untouched, as must the guard entries after the (heads_q, total_q) LSE."""
    dev = torch.device("cuda")
    fp8 = dtype == "fp8"
    cu_q = torch.tensor([0] + list(itertools.accumulate(lens_q)), dtype=torch.int32, device=dev)
    cu_k = torch.tensor([0] + list(itertools.accumulate(lens_k)), dtype=torch.int32, device=dev)
    tq, tk = int(cu_q[-1]), int(cu_k[-1])
    base = torch.float32 if fp8 else dtype
    q = torch.randn(tq, hq, d, device=dev, generator=gen).to(base)
    k = torch.randn(tk, hkv, d, device=dev, generator=gen).to(base)
    v = torch.randn(tk, hkv, d, device=dev, generator=gen).to(base)
    descales = (1.0, 1.0, 1.0)
    if fp8:
        (q, sq_), (k, sk_), (v, sv_) = quantize_e4m3(q), quantize_e4m3(k), quantize_e4m3(v)
        descales = (sq_, sk_, sv_)
    out_dtype = torch.bfloat16 if fp8 else dtype
    big = torch.full((tq + GUARD, hq, d + 8), float("nan"), dtype=out_dtype, device=dev)
    big[tq:] = 7.0
    out = big[:tq, :, :d]
    lse_big = torch.full((hq * tq + GUARD,), float("nan"), dtype=torch.float32, device=dev)
    lse = lse_big[:hq * tq].view(hq, tq)
    name = (f"varlen {'e4m3' if fp8 else str(dtype)[6:]} d{d} lens_q {lens_q} lens_k {lens_k} h{hq}/{hkv} "
            f"{'causal' if causal else 'full'}{tag}")
    p = fa.fill_fwd_varlen(lib, torch, q, k, v, out, lse, cu_q, cu_k, max(lens_q), max(lens_k), causal=causal,
                           backend=fa.FA_BACKEND_CUDA_SM90, descales=descales)
    st = lib.fwd(p)
    if st != fa.FA_OK:
        res.report(name, False, f"status {st}: {lib.last_error()}")
        return
    wait_or_die(name, timeout)
    torch.cuda.synchronize()
    deq = [x.float() * s_ for x, s_ in zip((q, k, v), descales)] if fp8 else [q, k, v]
    ref_out = torch.zeros(tq, hq, d, device=dev)
    ref_lse = torch.full((hq, tq), float("-inf"), device=dev)
    for b in range(len(lens_q)):
        q0, q1, k0, k1 = int(cu_q[b]), int(cu_q[b + 1]), int(cu_k[b]), int(cu_k[b + 1])
        if q1 == q0 or k1 == k0:
            continue  # no row, or rows that see no key: out 0, lse -inf
        o_b, l_b = reference(deq[0][None, q0:q1], deq[1][None, k0:k1], deq[2][None, k0:k1], causal, 1.0 / math.sqrt(d))
        ref_out[q0:q1], ref_lse[:, q0:q1] = o_b[0], l_b[0]
    # compare() takes (batch, seqlen, heads, d) and (batch, heads, seqlen): one batch of tq rows.
    ok, detail = compare(big[None], out[None], lse[None], ref_out[None], ref_lse[None], tq,
                         TOL["fp8"] if fp8 else TOL[dtype])
    if not bool(torch.isnan(big[:tq, :, d:]).all()):
        ok, detail = False, detail + " -- columns beside out were written"
    if not bool(torch.isnan(lse_big[hq * tq:]).all()):
        ok, detail = False, detail + " -- LSE past (heads_q, total_q) was written"
    res.report(name, ok, detail)


VARLEN_CASES = [  # (lens_q, lens_k): self-attention, cross lengths, empty sequences, one long one among short ones
    ([130, 1, 300, 129, 700], [130, 1, 300, 129, 700]),
    ([64, 0, 257, 3, 1000], [500, 17, 0, 3, 128]),
    ([2000, 5, 130], [2000, 5, 130]),
]


def check_api(lib, res, timeout):
    """Calls the Hopper backend must refuse cleanly, and AUTO's choice for a plain bf16 call."""
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(1)
    # head_dim 12: rows of 24 bytes, not whole 8-column blocks of the epilogue (the strides are TMA-legal).
    big = torch.randn(1, 64, 2, 16, device=dev, generator=gen).to(torch.bfloat16)
    q = k = v = big[..., :12]
    _, out = poisoned_out(1, 64, 2, 12, torch.bfloat16, dev, pad=4)
    lse = torch.empty(1, 2, 64, device=dev)
    p = fa.fill_fwd(lib, torch, q, k, v, out, lse, causal=False, backend=fa.FA_BACKEND_CUDA_SM90)
    st = lib.fwd(p)
    msg = lib.last_error()
    res.report("api: head_dim 12 forced to SM90 is refused", st == fa.FA_ERR_UNSUPPORTED and "head_dim (12)" in msg,
               f"status {st}: {msg}")

    # A row stride that TMA cannot take (132 elements = 264 bytes): refused when forced, AUTO falls back.
    big = torch.randn(1, 64, 1, 132, device=dev, generator=gen).to(torch.bfloat16)
    qm = big[..., :128]
    k2, v2 = (torch.randn(1, 64, 1, 128, device=dev, generator=gen).to(torch.bfloat16) for _ in range(2))
    _, out2 = poisoned_out(1, 64, 1, 128, torch.bfloat16, dev)
    lse2 = torch.empty(1, 1, 64, device=dev)
    p = fa.fill_fwd(lib, torch, qm, k2, v2, out2, lse2, causal=False, backend=fa.FA_BACKEND_CUDA_SM90)
    st = lib.fwd(p)
    msg = lib.last_error()
    res.report("api: 16-byte-misaligned q row stride forced to SM90 is refused", st == fa.FA_ERR_UNSUPPORTED,
               f"status {st}: {msg}")
    p.backend = fa.FA_BACKEND_AUTO
    st, chosen = lib.select_backend(p)
    # Whether SM80 takes this stride is the FA2 backend's business: informational only.
    print(f"INFO api: AUTO for that stride -> status {st}, backend {chosen} {lib.last_error()}", flush=True)

    q, k, v = make_qkv((1, 256, 256, 2, 2, 128), torch.bfloat16, "bshd", dev, gen)
    _, out = poisoned_out(1, 256, 2, 128, torch.bfloat16, dev)
    lse3 = torch.empty(1, 2, 256, device=dev)
    p = fa.fill_fwd(lib, torch, q, k, v, out, lse3, causal=True, backend=fa.FA_BACKEND_AUTO)
    st, chosen = lib.select_backend(p)
    res.report("api: AUTO picks SM90 for bf16 head_dim 128", st == fa.FA_OK and chosen == fa.FA_BACKEND_CUDA_SM90,
               f"status {st}, backend {chosen} {lib.last_error()}")
    q80, k80, v80 = make_qkv((1, 256, 256, 2, 2, 80), torch.bfloat16, "bshd", dev, gen)
    _, out80 = poisoned_out(1, 256, 2, 80, torch.bfloat16, dev)
    p = fa.fill_fwd(lib, torch, q80, k80, v80, out80, lse3, causal=False, backend=fa.FA_BACKEND_AUTO)
    st, chosen = lib.select_backend(p)
    res.report("api: AUTO picks SM90 for bf16 head_dim 80 (padded to 96)",
               st == fa.FA_OK and chosen == fa.FA_BACKEND_CUDA_SM90, f"status {st}, backend {chosen} {lib.last_error()}")
    # Variable length: the Hopper kernels need total_q / total_k; without them AUTO takes FA2.
    cu = torch.tensor([0, 100, 256], dtype=torch.int32, device=dev)
    qv, kv_, vv = (torch.randn(256, 2, 128, device=dev, generator=gen).to(torch.bfloat16) for _ in range(3))
    ov, lv = torch.empty_like(qv), torch.empty(2, 256, device=dev)
    for totals, backend, want_status, want_backend in ((False, fa.FA_BACKEND_CUDA_SM90, fa.FA_ERR_UNSUPPORTED, None),
                                                       (True, fa.FA_BACKEND_AUTO, fa.FA_OK, fa.FA_BACKEND_CUDA_SM90),
                                                       (False, fa.FA_BACKEND_AUTO, fa.FA_OK, fa.FA_BACKEND_CUDA_SM80)):
        p = fa.fill_fwd_varlen(lib, torch, qv, kv_, vv, ov, lv, cu, cu, 156, 156, causal=False, backend=backend,
                               totals=totals)
        st, chosen = lib.select_backend(p)
        msg = lib.last_error()
        ok = st == want_status and (want_backend is None or chosen == want_backend)
        if want_backend is None:
            ok = ok and "total_q" in msg
        res.report(f"api: varlen {'with' if totals else 'without'} totals, backend {backend}", ok,
                   f"status {st}, backend {chosen} {msg}")
    # Short packed sequences at head_dim 64 run on the Hopper kernels too (their dynamic order beats FA2 there).
    q64, k64, v64 = (torch.randn(256, 2, 64, device=dev, generator=gen).to(torch.bfloat16) for _ in range(3))
    o64 = torch.empty_like(q64)
    p = fa.fill_fwd_varlen(lib, torch, q64, k64, v64, o64, lv, cu, cu, 156, 156, causal=False, backend=fa.FA_BACKEND_AUTO)
    st, chosen = lib.select_backend(p)
    res.report("api: AUTO picks SM90 for short packed sequences at head_dim 64",
               st == fa.FA_OK and chosen == fa.FA_BACKEND_CUDA_SM90, f"status {st}, backend {chosen} {lib.last_error()}")
    # Captured into a CUDA graph, a causal call that runs the dynamic order eagerly takes the static one (no
    # counter pair is baked into the graph); replayed twice with fresh inputs copied in and out poisoned.
    qg, kg, vg = make_qkv((1, 2048, 2048, 4, 2, 128), torch.bfloat16, "bshd", dev, gen)
    og_big, og = poisoned_out(1, 2048, 4, 128, torch.bfloat16, dev)
    lg = torch.full((1, 4, 2048), float("nan"), dtype=torch.float32, device=dev)
    side = torch.cuda.Stream()
    pg = fa.fill_fwd(lib, torch, qg, kg, vg, og, lg, causal=True, backend=fa.FA_BACKEND_CUDA_SM90, stream=side)
    graph = torch.cuda.CUDAGraph()
    st = None
    with torch.cuda.graph(graph, stream=side):
        st = lib.fwd(pg)
    msg = lib.last_error()
    for replay in range(2):
        for x in (qg, kg, vg):
            x.copy_(torch.randn(x.shape, device=dev, generator=gen).to(x.dtype))
        og.fill_(float("nan"))
        lg.fill_(float("nan"))
        graph.replay()
        wait_or_die("api: graph replay", timeout)
        torch.cuda.synchronize()
        ref_out, ref_lse = reference(qg, kg, vg, True, 1.0 / math.sqrt(128))
        ok, detail = compare(og_big, og, lg, ref_out, ref_lse, 2048, TOL[torch.bfloat16])
        res.report(f"api: causal call captured in a CUDA graph, replay {replay}", st == fa.FA_OK and ok,
                   f"status {st} {msg}; {detail}")
    # The LSE is part of the forward's contract (the backward needs it): a NULL one is an argument error.
    p = fa.fill_fwd(lib, torch, q, k, v, out, None, causal=True, backend=fa.FA_BACKEND_CUDA_SM90)
    st = lib.fwd(p)
    msg = lib.last_error()
    res.report("api: softmax_lse = NULL is refused", st == fa.FA_ERR_INVALID_ARGUMENT and "softmax_lse" in msg,
               f"status {st}: {msg}")


FULL_SHAPES = [  # (batch, seqlen_q, seqlen_k, heads_q, heads_kv)
    (1, 128, 128, 1, 1),
    (2, 1, 1, 4, 4),
    (2, 17, 17, 4, 4),
    (2, 1000, 1000, 4, 2),
    (1, 2048, 2048, 4, 1),
    (1, 17, 1000, 4, 4),
    (1, 1000, 17, 4, 4),
    (1, 128, 2048, 2, 2),
    (1, 2048, 128, 2, 2),
    (3, 300, 700, 6, 3),
    (4, 1300, 1300, 8, 8),  # causal: 11 m-blocks (a middle one without a pair), more pairs than SMs
    (1, 8192, 8192, 2, 1),
]
QUICK_SHAPES = [(1, 128, 128, 1, 1), (2, 17, 17, 4, 4), (2, 1000, 1000, 4, 2), (1, 1000, 17, 4, 4), (1, 17, 1000, 4, 4),
                (4, 1300, 1300, 8, 8), (1, 300, 2100, 2, 2)]  # the last: hdim 64 non-causal takes 192-key blocks
TINY_SHAPES = [(1, 130, 200, 2, 1), (1, 200, 70, 2, 2), (1, 300, 300, 1, 1)]
# The kernels and schedules that native/src/cuda/sm90/fwd_knobs.h forces, each on the calls it changes:
# (environment, causal, head dims, dtypes). Forcing 192-key blocks covers them on short shapes too.
VARIANTS = [({"FLASHATTN_SM90_BLOCK_N": "wide"}, False, (64,), (torch.bfloat16, torch.float16)),
            ({"FLASHATTN_SM90_BLOCK_N": "wide"}, True, (64,), (torch.bfloat16, torch.float16)),
            ({"FLASHATTN_SM90_BLOCK_N": "narrow"}, False, (256,), (torch.bfloat16, torch.float16)),
            ({"FLASHATTN_SM90_BLOCK_N": "wide"}, True, (256,), (torch.bfloat16,)),
            ({"FLASHATTN_SM90_SCHEDULER": "static"}, True, (64, 128), (torch.bfloat16,)),
            ({"FLASHATTN_SM90_BLOCK_M": "192"}, False, (64,), (torch.bfloat16, torch.float16)),
            ({"FLASHATTN_SM90_BLOCK_M": "192"}, True, (64,), (torch.bfloat16, torch.float16)),
            ({"FLASHATTN_SM90_BLOCK_M": "128"}, False, (64,), (torch.bfloat16,)),
            ({"FLASHATTN_SM90_BLOCK_M": "128"}, True, (64,), (torch.bfloat16,)),
            ({"FLASHATTN_SM90_GRID": "dynamic"}, True, (64, 96, 128, 256), (torch.bfloat16, torch.float16)),
            ({"FLASHATTN_SM90_GRID": "dynamic"}, False, (64, 128), (torch.bfloat16,)),
            ({"FLASHATTN_SM90_GRID": "persistent"}, True, (64, 128), (torch.bfloat16,))]
# e4m3 with forced kernels (fwd_knobs.h) on every shape: head_dims 64 and 128 with the wide (192 / 224-key) and
# the 128-key blocks, head_dim 64 with the 192- and 128-row tiles, and the tile orders.
FP8_VARIANTS = [("FLASHATTN_SM90_BLOCK_N", "wide", (64, 128)), ("FLASHATTN_SM90_BLOCK_N", "narrow", (64, 128)),
                ("FLASHATTN_SM90_BLOCK_M", "192", (64,)), ("FLASHATTN_SM90_BLOCK_M", "128", (64,)),
                ("FLASHATTN_SM90_GRID", "dynamic", (64, 256)), ("FLASHATTN_SM90_GRID", "persistent", (128,))]
VARIANT_SHAPES = [(2, 1000, 1000, 4, 2), (4, 1300, 1300, 8, 8), (1, 1000, 17, 4, 4), (1, 17, 1000, 4, 4)]
# Head dims between the compiled ones run on the next larger kernel with zero columns (fwd_api.cu): (dtype, d).
PADDED = [(torch.bfloat16, 8), (torch.bfloat16, 32), (torch.float16, 80), (torch.bfloat16, 112), (torch.bfloat16, 160),
          (torch.float16, 224), ("fp8", 32), ("fp8", 96), ("fp8", 208)]
OUT_MISALIGNED = [(2, 6), (0, 2)]  # (elements before out, after it) in each (row, head) slot
FP8_SHAPES = [(1, 128, 128, 1, 1), (2, 17, 17, 2, 2), (1, 1000, 1000, 4, 2), (1, 1000, 17, 2, 2), (1, 17, 1000, 2, 2),
              (1, 2048, 2048, 2, 1), (1, 8192, 8192, 2, 1)]  # the last takes the wide kernels at d64 and d128


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--no-fp8", action="store_true")
    ap.add_argument("--only", default="", help="comma list of: 16bit, fp8, variants, varlen, api")
    ap.add_argument("--lib", default=None)
    ap.add_argument("--hang-timeout", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    lib = fa.Library(args.lib)
    torch.cuda.init()
    cc = torch.cuda.get_device_capability()
    print(f"library {lib.version()}, capabilities 0x{lib.lib.fa_capabilities():x}, device "
          f"{torch.cuda.get_device_name()} (sm_{cc[0]}{cc[1]}), torch {torch.__version__}", flush=True)
    gen = torch.Generator(device="cuda").manual_seed(args.seed)
    res = Results()
    only = set(filter(None, args.only.split(",")))
    want = lambda part: not only or part in only  # noqa: E731

    if args.tiny:
        dtypes, hdims, shapes, fp8_shapes, layouts = [torch.bfloat16], [64, 96, 128], TINY_SHAPES, TINY_SHAPES[:1], ["bshd"]
    elif args.quick:
        dtypes, hdims, shapes, fp8_shapes, layouts = [torch.bfloat16, torch.float16], [64, 96, 128, 192, 256], \
            QUICK_SHAPES, FP8_SHAPES[:3], ["bshd"]
    else:
        dtypes, hdims, shapes, fp8_shapes, layouts = [torch.bfloat16, torch.float16], [64, 96, 128, 192, 256], \
            FULL_SHAPES, FP8_SHAPES, ["bshd", "bhsd", "packed"]

    if want("16bit"):
        for dtype in dtypes:
            for d in hdims:
                for i, shape in enumerate(shapes):
                    for causal in (False, True):
                        layout = layouts[i % len(layouts)]
                        if layout == "packed" and not (shape[1] == shape[2] and shape[3] == shape[4]):
                            layout = "bshd"
                        check_16bit(lib, res, dtype, d, shape, causal, layout, gen, args.hang_timeout)
    if want("fp8") and not args.no_fp8:
        for d in [d for d in hdims if d not in (96, 192)] if not args.tiny else [128]:
            for shape in fp8_shapes:
                for causal in (False, True):
                    check_fp8(lib, res, d, shape, causal, gen, args.hang_timeout)
        for key, value, variant_hdims in FP8_VARIANTS:
            os.environ[key] = value
            for d in variant_hdims:
                for shape in fp8_shapes:
                    for causal in (False, True):
                        check_fp8(lib, res, d, shape, causal, gen, args.hang_timeout, f" {key}={value}")
            os.environ.pop(key)
    if want("variants"):
        for env, causal, variant_hdims, variant_dtypes in VARIANTS:
            os.environ.update(env)
            tag = " " + ",".join(f"{key}={value}" for key, value in env.items())
            for dtype in variant_dtypes:
                for d in variant_hdims:
                    for shape in TINY_SHAPES if args.tiny else VARIANT_SHAPES:
                        check_16bit(lib, res, dtype, d, shape, causal, "bshd", gen, args.hang_timeout, tag)
            for key in env:
                os.environ.pop(key)
        for dtype, d in PADDED:
            for shape in TINY_SHAPES[:1] if args.tiny else VARIANT_SHAPES[:2]:
                for causal in (False, True):
                    # 8 spare columns after out in every (row, head) slot: they must stay untouched.
                    if dtype == "fp8":
                        check_fp8(lib, res, d, shape, causal, gen, args.hang_timeout, " padded", out_pad=8)
                    else:
                        check_16bit(lib, res, dtype, d, shape, causal, "bshd", gen, args.hang_timeout, " padded", 0, 8)
        # out not 16-byte aligned, or with strides that are not multiples of 8 elements: the 4-byte stores.
        for shift, pad in OUT_MISALIGNED:
            for d in (96, 128, 256):
                for shape in TINY_SHAPES[:2] if args.tiny else VARIANT_SHAPES[:2]:
                    check_16bit(lib, res, torch.bfloat16, d, shape, True, "bshd", gen, args.hang_timeout,
                                f" out shift {shift} pad {pad}", shift, pad)
    if want("varlen"):
        for dtype, d in ([(torch.bfloat16, 64), (torch.bfloat16, 128)] if args.tiny else
                         [(torch.bfloat16, 64), (torch.float16, 96), (torch.bfloat16, 128), (torch.float16, 192),
                          (torch.bfloat16, 256), ("fp8", 64), ("fp8", 128), ("fp8", 256)]):
            for lens_q, lens_k in VARLEN_CASES[:1] if args.tiny else VARLEN_CASES:
                for causal in (False, True):
                    check_varlen(lib, res, dtype, d, lens_q, lens_k, 4, 2, causal, gen, args.hang_timeout)
        # The packed calls' grid is one CTA per unit; the persistent grid's static and dynamic orders skip the
        # tiles past each sequence's end.
        for grid in ("dynamic", "persistent"):
            os.environ["FLASHATTN_SM90_GRID"] = grid
            for dtype, d in [(torch.bfloat16, 64), (torch.float16, 128), (torch.bfloat16, 256), ("fp8", 128)]:
                for lens_q, lens_k in VARLEN_CASES[:1] if args.tiny else VARLEN_CASES:
                    for causal in (False, True):
                        check_varlen(lib, res, dtype, d, lens_q, lens_k, 4, 2, causal, gen, args.hang_timeout,
                                     f" grid={grid}")
            os.environ.pop("FLASHATTN_SM90_GRID")
    if want("api") and not args.tiny:
        check_api(lib, res, args.hang_timeout)

    print(f"SUMMARY check_sm90: {res.passed} passed, {len(res.failed)} failed", flush=True)
    for n in res.failed:
        print(f"  failed: {n}")
    sys.exit(0 if not res.failed else 1)


if __name__ == "__main__":
    main()
