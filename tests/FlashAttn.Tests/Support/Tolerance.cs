using FlashAttn;

namespace FlashAttn.Tests.Support;

/// <summary>
/// The accuracy rule of flash-attn's own tests: our error against the float64 reference may be at most
/// twice the error of a same-precision naive implementation against it, plus a small absolute floor of
/// a couple of units in the last place of the result's magnitude (which covers cases where the naive
/// error happens to be ~0).
/// </summary>
/// <remarks>
/// Float32 gets a floor of 4·√head_dim ulps instead of 2: its naive baseline is unusually tight (when one
/// key is visible, or scores are very sharp, dP = dO·v and D = rowsum(dO∘O) cancel exactly because the
/// naive code sums both in the same order), while a blocked/SIMD implementation sums them in different
/// orders, leaving the rounding error of two length-head_dim dot products, which grows like √head_dim·ε.
/// FlashAttention also recomputes P as exp(s − lse) from the stored float32 LSE, adding about |s|·ε of
/// relative error per probability. flash-attn's own suite only grades fp16/bf16, where rounding P to the
/// storage type dominates and 2 ulps suffice.
/// </remarks>
internal static class Tolerance
{
    /// <summary>Set by a diagnostic run to see how close each check comes to its bound.</summary>
    public static Action<string, ScalarType, double, double>? Report { get; set; } =
        Environment.GetEnvironmentVariable("FLASHATTN_TEST_REPORT") == "1"
            ? (what, type, err, bound) => TestContext.Out.WriteLine($"{what} {type}: err {err:E2} bound {bound:E2} ratio {err / bound:F2}")
            : null;

    public static double MaxAbs(double[] values)
    {
        double m = 0;
        foreach (double x in values)
            if (!double.IsInfinity(x)) m = Math.Max(m, Math.Abs(x));
        return m;
    }

    /// <summary>Max |a − b|, treating equal infinities as 0 and any NaN or one-sided infinity as ∞.</summary>
    public static double MaxError(double[] a, double[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (double.IsNaN(a[i]) || double.IsNaN(b[i])) return double.PositiveInfinity;
            if (double.IsInfinity(a[i]) || double.IsInfinity(b[i]))
            {
                if (a[i] != b[i]) return double.PositiveInfinity;
                continue;
            }
            m = Math.Max(m, Math.Abs(a[i] - b[i]));
        }
        return m;
    }

    public static void AssertClose(string what, double[] ours, double[] reference, double[] naive, ScalarType type,
        int headDim, double naiveFactor = 2.0)
    {
        Assert.That(ours.Length, Is.EqualTo(reference.Length), $"{what}: length");
        int nan = Array.FindIndex(ours, double.IsNaN);
        Assert.That(nan, Is.EqualTo(-1), $"{what}: NaN at flat index {nan} (an element was not written, or the math broke)");
        double errOurs = MaxError(ours, reference);
        double errNaive = MaxError(naive, reference);
        double ulps = type == ScalarType.Float32 ? 4 * Math.Sqrt(headDim) : 2;
        double floor = ulps * Num.Epsilon(type) * Math.Max(1.0, MaxAbs(reference));
        double bound = naiveFactor * errNaive + floor;
        Report?.Invoke(what, type, errOurs, bound);
        Assert.That(errOurs, Is.LessThanOrEqualTo(bound),
            $"{what} ({type}): max |ours - ref| = {errOurs:E3}, max |naive - ref| = {errNaive:E3}, floor {floor:E3}, bound {bound:E3}");
    }

    /// <summary>The LSE is float32 whatever the dtype; -inf must match exactly.</summary>
    public static void AssertLseClose(double[] ours, double[] reference, double[] naive)
    {
        int nan = Array.FindIndex(ours, double.IsNaN);
        Assert.That(nan, Is.EqualTo(-1), $"softmax_lse: NaN at flat index {nan}");
        for (int i = 0; i < ours.Length; i++)
        {
            if (double.IsNegativeInfinity(reference[i]))
                Assert.That(ours[i], Is.EqualTo(double.NegativeInfinity), $"softmax_lse[{i}] of a fully masked row must be -inf");
        }
        double errOurs = MaxError(ours, reference);
        double errNaive = MaxError(naive, reference);
        double floor = 4 * Num.Epsilon(ScalarType.Float32) * Math.Max(1.0, MaxAbs(reference));
        Assert.That(errOurs, Is.LessThanOrEqualTo(2 * errNaive + floor),
            $"softmax_lse: max |ours - ref| = {errOurs:E3}, max |naive - ref| = {errNaive:E3}, floor {floor:E3}");
    }
}
