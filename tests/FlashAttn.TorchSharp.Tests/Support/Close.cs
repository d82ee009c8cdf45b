using TorchSharp;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests.Support;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

/// <summary>Tolerance checks that report the worst element.</summary>
public static class Close
{
    public static double MaxAbsDiff(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        Tensor a = actual.detach().to(ScalarType.Float64, CPU), e = expected.detach().to(ScalarType.Float64, CPU);
        Tensor nonFinite = e.isfinite().logical_not();
        // Infinite references (LSE of rows that see no key) must match exactly; the rest by difference.
        // Tensor.equal is elementwise in TorchSharp; all() makes it one answer.
        Assert.That(a.masked_select(nonFinite).eq(e.masked_select(nonFinite)).all().item<bool>(), Is.True, "non-finite elements differ");
        Tensor diff = (a - e).abs().masked_select(nonFinite.logical_not());
        Assert.That(diff.isnan().any().item<bool>(), Is.False, "NaN where the reference is finite");
        return diff.numel() == 0 ? 0.0 : diff.max().item<double>();
    }

    private static double MaxAbs(Tensor t)
    {
        using var scope = NewDisposeScope();
        Tensor f = t.detach().to(ScalarType.Float64, CPU);
        Tensor finite = f.masked_select(f.isfinite());
        return finite.numel() == 0 ? 0.0 : finite.abs().max().item<double>();
    }

    /// <summary>|actual - expected| &lt;= atol + rtol · max|expected| everywhere.</summary>
    public static void Check(Tensor actual, Tensor expected, double atol, double rtol, string what)
    {
        Assert.That(actual.shape, Is.EqualTo(expected.shape), $"{what}: shape");
        double err = MaxAbsDiff(actual, expected);
        double tol = atol + rtol * MaxAbs(expected);
        Assert.That(err, Is.LessThanOrEqualTo(tol), $"{what}: max |actual - expected| = {err:G4} > {tol:G4}");
    }

    /// <summary>
    /// flash-attn's criterion for half precision: at most twice the error of the same math done plainly in the
    /// input precision (plus a floor), both measured against float64.
    /// </summary>
    public static void CheckLike(Tensor actual, Tensor baseline, Tensor reference, double floor, string what)
    {
        Assert.That(actual.shape, Is.EqualTo(reference.shape), $"{what}: shape");
        double err = MaxAbsDiff(actual, reference);
        double baseErr = MaxAbsDiff(baseline, reference);
        double tol = Math.Max(2 * baseErr, floor * Math.Max(1.0, MaxAbs(reference)));
        Assert.That(err, Is.LessThanOrEqualTo(tol),
            $"{what}: max error {err:G4} vs float64 exceeds {tol:G4} (plain low-precision math errs by {baseErr:G4})");
    }
}
