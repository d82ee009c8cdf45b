using FlashAttn;
using FlashAttn.Tests.Support;

namespace FlashAttn.Tests;

/// <summary>Strided layouts, variable length, determinism and masking on the CPU backend.</summary>
[TestFixture]
public class CpuLayoutTests
{
    [TestCase(ScalarType.Float32, false)]
    [TestCase(ScalarType.Float16, true)]
    [TestCase(ScalarType.BFloat16, true)]
    public void PackedQkvPaddedOutputTransposedGradients(ScalarType type, bool causal)
    {
        switch (type)
        {
            case ScalarType.Float32: PackedQkv<float>(type, causal); break;
            case ScalarType.Float16: PackedQkv<Half>(type, causal); break;
            default: PackedQkv<BFloat16>(type, causal); break;
        }
    }

    private static void PackedQkv<T>(ScalarType type, bool causal) where T : unmanaged
    {
        const int b = 2, s = 37, h = 3, d = 24;
        var shape = new AttentionShape(b, s, s, h, h, d);
        var c = new AttentionCase(shape, type, causal, seed: 123);
        long[] dims = [b, s, h, d];
        // q, k, v interleaved as (b, s, 3, h, d), the layout of a fused qkv projection.
        long[] qkvStrides = [s * 3L * h * d, 3L * h * d, d, 1];
        var qkv = new T[b * s * 3 * h * d];
        using var q = new StridedBuffer<T>(qkv, 0, dims, qkvStrides);
        using var k = new StridedBuffer<T>(qkv, h * d, dims, qkvStrides);
        using var v = new StridedBuffer<T>(qkv, 2 * h * d, dims, qkvStrides);
        q.Scatter(c.Q); k.Scatter(c.K); v.Scatter(c.V);
        // Output with padding between heads and rows; dOutput stored (b, h, s, d) and viewed transposed.
        long headStride = d + 3, rowStride = h * headStride + 5;
        var outStorage = Num.Poisoned<T>(b * s * rowStride);
        using var o = new StridedBuffer<T>(outStorage, 0, dims, [s * rowStride, rowStride, headStride, 1]);
        using var dOut = new StridedBuffer<T>(new T[b * h * s * d], 0, dims, [h * s * d, d, s * d, 1]);
        dOut.Scatter(c.DOut);
        var dqkv = Num.Poisoned<T>(b * s * 3 * h * d);
        using var dq = new StridedBuffer<T>(dqkv, 0, dims, qkvStrides);
        using var dk = new StridedBuffer<T>(dqkv, h * d, dims, qkvStrides);
        using var dv = new StridedBuffer<T>(dqkv, 2 * h * d, dims, qkvStrides);
        var lseStorage = Num.Poisoned<float>(shape.LseElements);
        using var lse = new StridedBuffer<float>(lseStorage, 0, shape.LseShape, TensorView.ContiguousStrides(shape.LseShape));

        AttentionOptions options = c.Options();
        FlashAttention.Forward(q.View(), k.View(), v.View(), o.View(), lse.View(), options);
        c.CheckForward(o.Gather(), Num.ToDoubles<float>(lseStorage));
        FlashAttention.Backward(q.View(), k.View(), v.View(), o.View(), lse.View(), dOut.View(), dq.View(), dk.View(), dv.View(), options);
        c.CheckBackward(dq.Gather(), dk.Gather(), dv.Gather());
        // The padding between heads and rows must be untouched.
        var written = new HashSet<long>(o.StorageIndices());
        for (long i = 0; i < outStorage.Length; i++)
            if (!written.Contains(i))
                Assert.That(double.IsNaN(Num.ToDouble(outStorage[i])), Is.True, $"padding element {i} of output was overwritten");
    }

    [Test]
    public void StridedMatchesContiguousBitwise()
    {
        var c = new AttentionCase(new AttentionShape(1, 29, 41, 4, 2, 32), ScalarType.Float32, causal: true, seed: 8);
        CpuRunner.Result contiguous = CpuRunner.Run(c, backward: false);
        long[] dims = [1, 29, 4, 32];
        using var q = new StridedBuffer<float>(new float[4 * 29 * 32], 0, dims, [4 * 29 * 32, 32, 29 * 32, 1]);
        q.Scatter(c.Q);
        using var k = new StridedBuffer<float>(Num.Convert<float>(c.K), 0, [1, 41, 2, 32], [41 * 64, 64, 32, 1]);
        using var v = new StridedBuffer<float>(Num.Convert<float>(c.V), 0, [1, 41, 2, 32], [41 * 64, 64, 32, 1]);
        using var o = new StridedBuffer<float>(Num.Poisoned<float>(4 * 29 * 32), 0, dims, [4 * 29 * 32, 32, 29 * 32, 1]);
        var lseStorage = Num.Poisoned<float>(4 * 29);
        using var lse = new StridedBuffer<float>(lseStorage, 0, [1, 4, 29], [116, 29, 1]);
        FlashAttention.Forward(q.View(), k.View(), v.View(), o.View(), lse.View(), c.Options());
        Assert.That(o.Gather(), Is.EqualTo(contiguous.Output).Within(1e-6));
        Assert.That(Num.ToDoubles<float>(lseStorage), Is.EqualTo(contiguous.Lse).Within(1e-6));
    }

    [TestCase(ScalarType.Float32, false)]
    [TestCase(ScalarType.Float32, true)]
    [TestCase(ScalarType.Float16, true)]
    [TestCase(ScalarType.BFloat16, false)]
    public void VarlenMatchesPerSequenceReference(ScalarType type, bool causal)
    {
        switch (type)
        {
            case ScalarType.Float32: Varlen<float>(type, causal); break;
            case ScalarType.Float16: Varlen<Half>(type, causal); break;
            default: Varlen<BFloat16>(type, causal); break;
        }
    }

    private static void Varlen<T>(ScalarType type, bool causal) where T : unmanaged
    {
        int[] lensQ = [5, 0, 17, 1, 30], lensK = [7, 3, 17, 9, 12];
        const int hq = 4, hk = 2, d = 40;
        int[] cuQ = Prefix(lensQ), cuK = Prefix(lensK);
        var shape = new VarlenShape(cuQ, cuK, hq, hk, d);
        var rng = new Random(Seeds.Of(99));
        double[] q = Num.RandomNormal(rng, shape.QElements, type);
        double[] k = Num.RandomNormal(rng, shape.KElements, type);
        double[] v = Num.RandomNormal(rng, shape.KElements, type);
        double[] dOut = Num.RandomNormal(rng, shape.QElements, type);
        float scale = (float)(1 / Math.Sqrt(d));
        var options = new AttentionOptions { Causal = causal };

        AttentionResult<T> fwd = FlashAttention.Forward<T>(Num.Convert<T>(q), Num.Convert<T>(k), Num.Convert<T>(v), shape, options);
        AttentionGradients<T> grads = FlashAttention.Backward<T>(Num.Convert<T>(q), Num.Convert<T>(k), Num.Convert<T>(v),
            fwd.Output, fwd.SoftmaxLse, Num.Convert<T>(dOut), shape, options);
        double[] o = Num.ToDoubles<T>(fwd.Output), lse = Num.ToDoubles<float>(fwd.SoftmaxLse);
        double[] dq = Num.ToDoubles<T>(grads.Dq), dk = Num.ToDoubles<T>(grads.Dk), dv = Num.ToDoubles<T>(grads.Dv);

        for (int b = 0; b < lensQ.Length; b++)
        {
            if (lensQ[b] == 0) continue;
            var s = new AttentionShape(1, lensQ[b], lensK[b], hq, hk, d);
            double[] Rows(double[] x, int start, int count, int heads) => x[(start * heads * d)..((start + count) * heads * d)];
            double[] sq = Rows(q, cuQ[b], lensQ[b], hq), sk = Rows(k, cuK[b], lensK[b], hk), sv = Rows(v, cuK[b], lensK[b], hk);
            double[] sdo = Rows(dOut, cuQ[b], lensQ[b], hq);
            var exact = AttentionMath.Exact.Forward(sq, sk, sv, s, scale, causal);
            var naive = AttentionMath.Naive(type).Forward(sq, sk, sv, s, scale, causal);
            Tolerance.AssertClose($"output of sequence {b}", Rows(o, cuQ[b], lensQ[b], hq), exact.Output, naive.Output, type, d);
            // Varlen LSE is (heads, total_q).
            var ourLse = new double[hq * lensQ[b]];
            for (int h = 0; h < hq; h++)
                for (int i = 0; i < lensQ[b]; i++)
                    ourLse[h * lensQ[b] + i] = lse[h * shape.TotalQ + cuQ[b] + i];
            Tolerance.AssertLseClose(ourLse, exact.Lse, naive.Lse);
            var ge = AttentionMath.Exact.Backward(sq, sk, sv, exact.Output, sdo, s, scale, causal);
            var gn = AttentionMath.Naive(type).Backward(sq, sk, sv, naive.Output, sdo, s, scale, causal);
            Tolerance.AssertClose($"dq of sequence {b}", Rows(dq, cuQ[b], lensQ[b], hq), ge.Dq, gn.Dq, type, d);
            Tolerance.AssertClose($"dk of sequence {b}", Rows(dk, cuK[b], lensK[b], hk), ge.Dk, gn.Dk, type, d);
            Tolerance.AssertClose($"dv of sequence {b}", Rows(dv, cuK[b], lensK[b], hk), ge.Dv, gn.Dv, type, d);
        }
        // Keys of a sequence with no queries get zero gradients.
        Assert.That(Rows0(dk, cuK[1], lensK[1], hk * d), Is.All.EqualTo(0.0));
        Assert.That(Rows0(dv, cuK[1], lensK[1], hk * d), Is.All.EqualTo(0.0));
    }

    private static double[] Rows0(double[] x, int start, int count, int rowElems) => x[(start * rowElems)..((start + count) * rowElems)];

    private static int[] Prefix(int[] lens)
    {
        var cu = new int[lens.Length + 1];
        for (int i = 0; i < lens.Length; i++) cu[i + 1] = cu[i] + lens[i];
        return cu;
    }

    [TestCase(ScalarType.Float32)]
    [TestCase(ScalarType.BFloat16)]
    public void DeterministicRunsAreBitwiseEqual(ScalarType type)
    {
        var c = new AttentionCase(new AttentionShape(2, 65, 47, 6, 2, 64), type, causal: true, seed: 31);
        AttentionOptions options = c.Options(deterministic: true);
        CpuRunner.Result a = CpuRunner.Run(c, backward: true, options);
        CpuRunner.Result b = CpuRunner.Run(c, backward: true, options);
        Assert.That(b.Output, Is.EqualTo(a.Output));
        Assert.That(b.Lse, Is.EqualTo(a.Lse));
        Assert.That(b.Dq, Is.EqualTo(a.Dq));
        Assert.That(b.Dk, Is.EqualTo(a.Dk));
        Assert.That(b.Dv, Is.EqualTo(a.Dv));
    }

    [TestCase(ScalarType.Float32)]
    [TestCase(ScalarType.Float16)]
    public void FullyMaskedRowsGiveZerosAndNoNaN(ScalarType type)
    {
        // Causal with seqlen_q = 9 > seqlen_k = 4: query rows 0..4 see no key at all.
        var c = new AttentionCase(new AttentionShape(2, 9, 4, 2, 1, 16), type, causal: true, seed: 17);
        CpuRunner.Result r = CpuRunner.Run(c, backward: true);
        c.CheckForward(r.Output, r.Lse);
        c.CheckBackward(r.Dq!, r.Dk!, r.Dv!);
        var s = c.Shape;
        for (int b = 0; b < s.Batch; b++)
            for (int i = 0; i < 5; i++)
                for (int h = 0; h < s.NumHeadsQ; h++)
                {
                    Assert.That(r.Lse[(b * s.NumHeadsQ + h) * s.SeqlenQ + i], Is.EqualTo(double.NegativeInfinity));
                    for (int e = 0; e < s.HeadDim; e++)
                    {
                        long at = ((b * s.SeqlenQ + i) * (long)s.NumHeadsQ + h) * s.HeadDim + e;
                        Assert.That(r.Output[at], Is.EqualTo(0.0), $"output[{b},{i},{h},{e}]");
                        Assert.That(r.Dq![at], Is.EqualTo(0.0), $"dq[{b},{i},{h},{e}]");
                    }
                }
    }

    [Test]
    public void AllocatingOverloadsMatchSpanOverloads()
    {
        var c = new AttentionCase(new AttentionShape(1, 12, 12, 2, 2, 8), ScalarType.Float32, causal: false, seed: 2);
        float[] q = Num.Convert<float>(c.Q), k = Num.Convert<float>(c.K), v = Num.Convert<float>(c.V), dOut = Num.Convert<float>(c.DOut);
        AttentionResult<float> fwd = FlashAttention.Forward<float>(q, k, v, c.Shape, c.Options());
        AttentionGradients<float> g = FlashAttention.Backward<float>(q, k, v, fwd.Output, fwd.SoftmaxLse, dOut, c.Shape, c.Options());
        CpuRunner.Result r = CpuRunner.Run(c, backward: true);
        Assert.That(Num.ToDoubles<float>(fwd.Output), Is.EqualTo(r.Output));
        Assert.That(Num.ToDoubles<float>(g.Dq), Is.EqualTo(r.Dq));
        Assert.That(Num.ToDoubles<float>(g.Dk), Is.EqualTo(r.Dk));
    }
}
