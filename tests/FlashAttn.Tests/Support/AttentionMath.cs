using FlashAttn;

namespace FlashAttn.Tests.Support;

/// <summary>
/// Plain attention, forward and analytic backward, over contiguous (batch, seqlen, heads, head_dim)
/// arrays. Two modes: <see cref="Exact"/> works in float64 (the ground truth); <see cref="Naive"/>
/// mimics a same-precision eager implementation (float32 accumulation, every stored intermediate
/// rounded to the dtype, as torch's matmul/softmax chain does). Its error against Exact calibrates how
/// much error a correct implementation of that precision is entitled to.
/// </summary>
internal sealed class AttentionMath
{
    private readonly Func<double, double> _store;
    private readonly bool _floatAccumulate;

    private AttentionMath(Func<double, double> store, bool floatAccumulate)
    {
        _store = store;
        _floatAccumulate = floatAccumulate;
    }

    public static AttentionMath Exact { get; } = new(x => x, floatAccumulate: false);

    public static AttentionMath Naive(ScalarType type) => new(Num.Rounder(type), floatAccumulate: true);

    public sealed record ForwardResult(double[] Output, double[] Lse);

    public sealed record Gradients(double[] Dq, double[] Dk, double[] Dv);

    /// <summary>Query row i sees key j iff j ≤ i + seqlen_k − seqlen_q (bottom-right aligned).</summary>
    public static int VisibleKeys(int i, int seqlenQ, int seqlenK, bool causal) =>
        causal ? Math.Clamp(i + seqlenK - seqlenQ + 1, 0, seqlenK) : seqlenK;

    private double Acc(double sum, double a, double b) => _floatAccumulate ? (float)(sum + (float)(a * b)) : sum + a * b;

    private double Fl(double x) => _floatAccumulate ? (float)x : x;

    /// <summary>Probabilities P (as stored), the LSE, and the row's visible-key count for one (batch, head, row).</summary>
    private int Probabilities(double[] q, double[] k, AttentionShape s, int b, int h, int i, double scale, bool causal,
        double[] p, out double lse)
    {
        int group = s.NumHeadsQ / s.NumHeadsKv;
        int hk = h / group;
        int d = s.HeadDim;
        int visible = VisibleKeys(i, s.SeqlenQ, s.SeqlenK, causal);
        if (visible == 0)
        {
            lse = double.NegativeInfinity;
            return 0;
        }
        long qOff = (((long)b * s.SeqlenQ + i) * s.NumHeadsQ + h) * d;
        double max = double.NegativeInfinity;
        for (int j = 0; j < visible; j++)
        {
            long kOff = (((long)b * s.SeqlenK + j) * s.NumHeadsKv + hk) * d;
            double dot = 0;
            for (int e = 0; e < d; e++) dot = Acc(dot, q[qOff + e], k[kOff + e]);
            p[j] = Fl(_store(dot) * scale);
            max = Math.Max(max, p[j]);
        }
        double sum = 0;
        for (int j = 0; j < visible; j++)
        {
            p[j] = Fl(Math.Exp(p[j] - max));
            sum = Fl(sum + p[j]);
        }
        for (int j = 0; j < visible; j++) p[j] = _store(Fl(p[j] / sum));
        lse = Fl(max + Math.Log(sum));
        return visible;
    }

    public ForwardResult Forward(double[] q, double[] k, double[] v, AttentionShape s, double scale, bool causal)
    {
        var output = new double[s.QElements];
        var lse = new double[s.LseElements];
        int d = s.HeadDim, group = s.NumHeadsQ / s.NumHeadsKv;
        Parallel.For(0, s.Batch * s.NumHeadsQ, bh =>
        {
            int b = bh / s.NumHeadsQ, h = bh % s.NumHeadsQ, hk = h / group;
            var p = new double[s.SeqlenK];
            var acc = new double[d];
            for (int i = 0; i < s.SeqlenQ; i++)
            {
                int visible = Probabilities(q, k, s, b, h, i, scale, causal, p, out double rowLse);
                lse[((long)b * s.NumHeadsQ + h) * s.SeqlenQ + i] = rowLse;
                Array.Clear(acc);
                for (int j = 0; j < visible; j++)
                {
                    long vOff = (((long)b * s.SeqlenK + j) * s.NumHeadsKv + hk) * d;
                    for (int e = 0; e < d; e++) acc[e] = Acc(acc[e], p[j], v[vOff + e]);
                }
                long oOff = (((long)b * s.SeqlenQ + i) * s.NumHeadsQ + h) * d;
                for (int e = 0; e < d; e++) output[oOff + e] = _store(acc[e]);
            }
        });
        return new ForwardResult(output, lse);
    }

    /// <summary>
    /// dS = P ∘ (dP − rowsum(dO ∘ O)), dq = scale·dS·K, dk = scale·dSᵀ·Q, dv = Pᵀ·dO, with dk/dv summed over
    /// each GQA group. <paramref name="output"/> is this mode's own forward output.
    /// </summary>
    public Gradients Backward(double[] q, double[] k, double[] v, double[] output, double[] dOut,
        AttentionShape s, double scale, bool causal)
    {
        var dq = new double[s.QElements];
        var dk = new double[s.KElements];
        var dv = new double[s.KElements];
        int d = s.HeadDim, group = s.NumHeadsQ / s.NumHeadsKv;
        // One task per (batch, kv head) owns that head's dk/dv rows, so no two tasks write the same element.
        Parallel.For(0, s.Batch * s.NumHeadsKv, bhk =>
        {
            int b = bhk / s.NumHeadsKv, hk = bhk % s.NumHeadsKv;
            var p = new double[s.SeqlenK];
            var ds = new double[s.SeqlenK];
            var dkAcc = new double[(long)s.SeqlenK * d];
            var dvAcc = new double[(long)s.SeqlenK * d];
            for (int h = hk * group; h < (hk + 1) * group; h++)
            {
                for (int i = 0; i < s.SeqlenQ; i++)
                {
                    int visible = Probabilities(q, k, s, b, h, i, scale, causal, p, out _);
                    long qOff = (((long)b * s.SeqlenQ + i) * s.NumHeadsQ + h) * d;
                    double rowD = 0;
                    for (int e = 0; e < d; e++) rowD = Acc(rowD, dOut[qOff + e], output[qOff + e]);
                    for (int j = 0; j < visible; j++)
                    {
                        long vOff = (((long)b * s.SeqlenK + j) * s.NumHeadsKv + hk) * d;
                        double dp = 0;
                        for (int e = 0; e < d; e++) dp = Acc(dp, dOut[qOff + e], v[vOff + e]);
                        ds[j] = _store(Fl(p[j] * Fl(_store(dp) - rowD)));
                        for (int e = 0; e < d; e++) dvAcc[(long)j * d + e] = Acc(dvAcc[(long)j * d + e], p[j], dOut[qOff + e]);
                    }
                    for (int e = 0; e < d; e++)
                    {
                        double acc = 0;
                        for (int j = 0; j < visible; j++)
                            acc = Acc(acc, ds[j], k[(((long)b * s.SeqlenK + j) * s.NumHeadsKv + hk) * d + e]);
                        dq[qOff + e] = _store(Fl(acc * scale));
                    }
                    for (int j = 0; j < visible; j++)
                        for (int e = 0; e < d; e++)
                            dkAcc[(long)j * d + e] = Acc(dkAcc[(long)j * d + e], ds[j], q[qOff + e]);
                }
            }
            for (int j = 0; j < s.SeqlenK; j++)
            {
                long kOff = (((long)b * s.SeqlenK + j) * s.NumHeadsKv + hk) * d;
                for (int e = 0; e < d; e++)
                {
                    dk[kOff + e] = _store(Fl(dkAcc[(long)j * d + e] * scale));
                    dv[kOff + e] = _store(dvAcc[(long)j * d + e]);
                }
            }
        });
        return new Gradients(dq, dk, dv);
    }
}
