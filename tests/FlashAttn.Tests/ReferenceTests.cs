using FlashAttn;
using FlashAttn.Tests.Support;

namespace FlashAttn.Tests;

/// <summary>The float64 reference must itself be right before it can judge anything else.</summary>
[TestFixture]
public class ReferenceTests
{
    private static double Loss(double[] q, double[] k, double[] v, double[] dOut, AttentionShape s, double scale, bool causal)
    {
        double[] o = AttentionMath.Exact.Forward(q, k, v, s, scale, causal).Output;
        double loss = 0;
        for (int i = 0; i < o.Length; i++) loss += o[i] * dOut[i];
        return loss;
    }

    [TestCase(false, 4, 4, 5, 5)]
    [TestCase(true, 4, 2, 3, 6)]
    [TestCase(true, 2, 1, 6, 3)]
    [TestCase(false, 3, 1, 1, 7)]
    public void AnalyticGradientsMatchFiniteDifferences(bool causal, int hq, int hk, int sq, int sk)
    {
        var s = new AttentionShape(2, sq, sk, hq, hk, 5);
        var c = new AttentionCase(s, ScalarType.Float32, causal, seed: 11 + sq * 7 + sk);
        AttentionMath.Gradients g = c.RefBackward;
        const double h = 1e-5;
        var rng = new Random(3);
        foreach (var (name, x, grad) in new[] { ("q", c.Q, g.Dq), ("k", c.K, g.Dk), ("v", c.V, g.Dv) })
        {
            for (int t = 0; t < 12; t++)
            {
                int idx = rng.Next(x.Length);
                double saved = x[idx];
                x[idx] = saved + h;
                double up = Loss(c.Q, c.K, c.V, c.DOut, s, c.ScaleF, causal);
                x[idx] = saved - h;
                double down = Loss(c.Q, c.K, c.V, c.DOut, s, c.ScaleF, causal);
                x[idx] = saved;
                double numeric = (up - down) / (2 * h);
                Assert.That(grad[idx], Is.EqualTo(numeric).Within(1e-6 + 1e-6 * Math.Abs(numeric)),
                    $"d{name}[{idx}] analytic vs central difference");
            }
        }
    }

    [Test]
    public void GqaEqualsMhaWithRepeatedKv()
    {
        var gqa = new AttentionShape(1, 4, 6, 6, 2, 8);
        var mha = gqa with { NumHeadsKv = 6 };
        var c = new AttentionCase(gqa, ScalarType.Float32, causal: true, seed: 5);
        double[] Repeat(double[] x)
        {
            var r = new double[mha.KElements];
            for (int j = 0; j < gqa.SeqlenK; j++)
                for (int h = 0; h < 6; h++)
                    Array.Copy(x, (j * 2 + h / 3) * 8, r, (j * 6 + h) * 8, 8);
            return r;
        }
        double[] k6 = Repeat(c.K), v6 = Repeat(c.V);
        var a = AttentionMath.Exact.Forward(c.Q, c.K, c.V, gqa, c.Scale, true);
        var b = AttentionMath.Exact.Forward(c.Q, k6, v6, mha, c.Scale, true);
        Assert.That(a.Output, Is.EqualTo(b.Output).Within(1e-12));
        var ga = AttentionMath.Exact.Backward(c.Q, c.K, c.V, a.Output, c.DOut, gqa, c.Scale, true);
        var gb = AttentionMath.Exact.Backward(c.Q, k6, v6, b.Output, c.DOut, mha, c.Scale, true);
        Assert.That(ga.Dq, Is.EqualTo(gb.Dq).Within(1e-12));
        // dk of a shared kv head is the sum over its group.
        for (int j = 0; j < gqa.SeqlenK; j++)
            for (int e = 0; e < 8; e++)
            {
                double sum = 0;
                for (int h = 0; h < 3; h++) sum += gb.Dk[(j * 6 + h) * 8 + e];
                Assert.That(ga.Dk[(j * 2) * 8 + e], Is.EqualTo(sum).Within(1e-12));
            }
    }

    [Test]
    public void CausalMaskIsBottomRightAligned()
    {
        // seqlen_q = 2, seqlen_k = 5: row 0 sees keys 0..3, row 1 sees 0..4.
        Assert.That(AttentionMath.VisibleKeys(0, 2, 5, true), Is.EqualTo(4));
        Assert.That(AttentionMath.VisibleKeys(1, 2, 5, true), Is.EqualTo(5));
        // seqlen_q = 5, seqlen_k = 2: rows 0..2 see nothing, row 3 sees key 0.
        Assert.That(AttentionMath.VisibleKeys(2, 5, 2, true), Is.EqualTo(0));
        Assert.That(AttentionMath.VisibleKeys(3, 5, 2, true), Is.EqualTo(1));
        Assert.That(AttentionMath.VisibleKeys(0, 5, 2, false), Is.EqualTo(2));
    }

    [Test]
    public void SingleKeyGivesItsValue()
    {
        var s = new AttentionShape(1, 3, 1, 2, 2, 4);
        var c = new AttentionCase(s, ScalarType.Float32, causal: false, seed: 1);
        var r = AttentionMath.Exact.Forward(c.Q, c.K, c.V, s, c.Scale, false);
        for (int i = 0; i < 3; i++)
            for (int h = 0; h < 2; h++)
                for (int e = 0; e < 4; e++)
                    Assert.That(r.Output[(i * 2 + h) * 4 + e], Is.EqualTo(c.V[h * 4 + e]).Within(1e-15));
    }

    [Test]
    public void NaiveErrorIsSmallButNonzeroForHalf()
    {
        var c = new AttentionCase(new AttentionShape(1, 33, 47, 2, 2, 32), ScalarType.Float16, causal: false, seed: 9);
        double err = Tolerance.MaxError(c.NaiveForward.Output, c.RefForward.Output);
        Assert.That(err, Is.GreaterThan(0).And.LessThan(1e-2));
    }
}
