using System.Numerics;
using FlashAttn;

namespace FlashAttn.Demo;

/// <summary>
/// Attention as an eager framework computes it: the whole (batch, heads, seqlen_q, seqlen_k) score matrix is
/// materialized, softmaxed in place and multiplied by V; the backward keeps P and builds dP and dS of the
/// same size. Instantiated with float it is the baseline the flash kernels are compared with; with double
/// it is the float64 reference the errors are measured against. Inputs are contiguous (batch, seqlen,
/// heads, head_dim) arrays.
/// </summary>
public static class NaiveAttention<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Bytes the materialized matrices need: P in the forward; P, dP/dS in the backward.</summary>
    public static long MatrixBytes(AttentionShape s, bool backward) =>
        (long)s.Batch * s.NumHeadsQ * s.SeqlenQ * s.SeqlenK * System.Runtime.CompilerServices.Unsafe.SizeOf<T>() * (backward ? 2 : 1);

    public sealed record Forward(T[] Output, T[] Lse, T[] Probabilities);

    public static Forward Run(T[] q, T[] k, T[] v, AttentionShape s, T scale, bool causal)
    {
        int d = s.HeadDim, sq = s.SeqlenQ, sk = s.SeqlenK, group = s.NumHeadsQ / s.NumHeadsKv;
        var p = new T[(long)s.Batch * s.NumHeadsQ * sq * sk];
        var output = new T[s.QElements];
        var lse = new T[s.LseElements];
        Parallel.For(0, s.Batch * s.NumHeadsQ * sq, row =>
        {
            int i = row % sq, bh = row / sq, b = bh / s.NumHeadsQ, h = bh % s.NumHeadsQ, hk = h / group;
            long pRow = (long)row * sk;
            int visible = causal ? Math.Clamp(i + sk - sq + 1, 0, sk) : sk;
            long qOff = Index(b, i, h, sq, s.NumHeadsQ, d);
            T max = T.NegativeInfinity;
            for (int j = 0; j < sk; j++)
            {
                T dot = Dot(q.AsSpan((int)qOff, d), k.AsSpan((int)Index(b, j, hk, sk, s.NumHeadsKv, d), d));
                p[pRow + j] = j < visible ? dot * scale : T.NegativeInfinity;
                max = T.Max(max, p[pRow + j]);
            }
            T sum = T.Zero;
            for (int j = 0; j < visible; j++) sum += p[pRow + j] = T.Exp(p[pRow + j] - max);
            for (int j = 0; j < sk; j++) p[pRow + j] = j < visible ? p[pRow + j] / sum : T.Zero;
            lse[((long)b * s.NumHeadsQ + h) * sq + i] = visible == 0 ? T.NegativeInfinity : max + T.Log(sum);
            Span<T> o = output.AsSpan((int)qOff, d);
            for (int j = 0; j < visible; j++) Axpy(p[pRow + j], v.AsSpan((int)Index(b, j, hk, sk, s.NumHeadsKv, d), d), o);
        });
        return new Forward(output, lse, p);
    }

    /// <summary>dq, dk, dv from the stored P: dP = dO·Vᵀ, dS = P∘(dP − rowsum(dO∘O)), dq = scale·dS·K, dk = scale·dSᵀ·Q, dv = Pᵀ·dO.</summary>
    public static (T[] Dq, T[] Dk, T[] Dv) Backward(T[] q, T[] k, T[] v, Forward fwd, T[] dOut, AttentionShape s, T scale)
    {
        int d = s.HeadDim, sq = s.SeqlenQ, sk = s.SeqlenK, group = s.NumHeadsQ / s.NumHeadsKv;
        var ds = new T[fwd.Probabilities.LongLength];
        var dq = new T[s.QElements];
        var dk = new T[s.KElements];
        var dv = new T[s.KElements];
        T[] p = fwd.Probabilities;
        Parallel.For(0, s.Batch * s.NumHeadsQ * sq, row =>
        {
            int i = row % sq, bh = row / sq, b = bh / s.NumHeadsQ, h = bh % s.NumHeadsQ, hk = h / group;
            long pRow = (long)row * sk, qOff = Index(b, i, h, sq, s.NumHeadsQ, d);
            ReadOnlySpan<T> dO = dOut.AsSpan((int)qOff, d);
            T rowD = Dot(dO, fwd.Output.AsSpan((int)qOff, d));
            Span<T> dqRow = dq.AsSpan((int)qOff, d);
            for (int j = 0; j < sk; j++)
            {
                long kvOff = Index(b, j, hk, sk, s.NumHeadsKv, d);
                ds[pRow + j] = p[pRow + j] * (Dot(dO, v.AsSpan((int)kvOff, d)) - rowD);
                Axpy(ds[pRow + j] * scale, k.AsSpan((int)kvOff, d), dqRow);
            }
        });
        // Each (batch, kv head, key row) is owned by one iteration, which sums over the whole query group.
        Parallel.For(0, s.Batch * s.NumHeadsKv * sk, col =>
        {
            int j = col % sk, bhk = col / sk, b = bhk / s.NumHeadsKv, hk = bhk % s.NumHeadsKv;
            long kOff = Index(b, j, hk, sk, s.NumHeadsKv, d);
            for (int h = hk * group; h < (hk + 1) * group; h++)
                for (int i = 0; i < sq; i++)
                {
                    long at = (((long)b * s.NumHeadsQ + h) * sq + i) * sk + j, qOff = Index(b, i, h, sq, s.NumHeadsQ, d);
                    Axpy(p[at], dOut.AsSpan((int)qOff, d), dv.AsSpan((int)kOff, d));
                    Axpy(ds[at] * scale, q.AsSpan((int)qOff, d), dk.AsSpan((int)kOff, d));
                }
        });
        return (dq, dk, dv);
    }

    private static T Dot(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
    {
        var acc = Vector<T>.Zero;
        int e = 0;
        for (; e <= a.Length - Vector<T>.Count; e += Vector<T>.Count)
            acc += new Vector<T>(a[e..]) * new Vector<T>(b[e..]);
        T sum = Vector.Sum(acc);
        for (; e < a.Length; e++) sum += a[e] * b[e];
        return sum;
    }

    /// <summary>y += alpha·x.</summary>
    private static void Axpy(T alpha, ReadOnlySpan<T> x, Span<T> y)
    {
        var a = new Vector<T>(alpha);
        int e = 0;
        for (; e <= x.Length - Vector<T>.Count; e += Vector<T>.Count)
            (new Vector<T>(y[e..]) + a * new Vector<T>(x[e..])).CopyTo(y[e..]);
        for (; e < x.Length; e++) y[e] += alpha * x[e];
    }

    private static long Index(int b, int row, int head, int seqlen, int heads, int d) =>
        (((long)b * seqlen + row) * heads + head) * d;
}
