using TorchSharp;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests.Support;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

/// <summary>Compares a kernel's output and gradients with <see cref="ReferenceAttention"/> at the precision the device runs.</summary>
public static class AttentionCheck
{
    /// <summary>Random q/k/v of shape (b, s, h, d) in the device's kernel dtype; k and v share a shape.</summary>
    public static (Tensor Q, Tensor K, Tensor V) Inputs(Device device, long b, long sq, long sk, long hq, long hk, long d, long seed = 0)
    {
        Devices.Seed(seed, device);
        ScalarType dt = Devices.KernelDtype(device);
        return (randn([b, sq, hq, d], dt, device), randn([b, sk, hk, d], dt, device), randn([b, sk, hk, d], dt, device));
    }

    public static void Output(Tensor actual, Tensor q, Tensor k, Tensor v, bool causal, double? scale = null, string what = "out")
    {
        using var scope = NewDisposeScope();
        (Tensor expected, _) = ReferenceAttention.Forward(q, k, v, causal, scale);
        if (Devices.IsCuda(q.device))
        {
            (Tensor baseline, _) = ReferenceAttention.Forward(q, k, v, causal, scale, q.dtype);
            Close.CheckLike(actual, baseline, expected, 2e-3, what);
        }
        else
        {
            Close.Check(actual, expected, 1e-5, 2e-5, what);
        }
    }

    public static void Lse(Tensor actual, Tensor q, Tensor k, Tensor v, bool causal, double? scale = null)
    {
        using var scope = NewDisposeScope();
        (_, Tensor expected) = ReferenceAttention.Forward(q, k, v, causal, scale);
        Assert.That(actual.dtype, Is.EqualTo(ScalarType.Float32), "lse dtype");
        Close.Check(actual, expected, Devices.IsCuda(q.device) ? 2e-3 : 1e-5, 1e-5, "lse");
    }

    /// <summary>Output and gradients of sum(out * dout) against float64 (and, on CUDA, the half-precision baseline).</summary>
    public static void Gradients(Tensor q, Tensor k, Tensor v, Tensor dout, bool causal, double? scale,
        Tensor actualOut, Tensor actualDq, Tensor actualDk, Tensor actualDv)
    {
        using var scope = NewDisposeScope();
        var expected = ReferenceAttention.WithGradients(q, k, v, dout, causal, scale);
        if (Devices.IsCuda(q.device))
        {
            var baseline = ReferenceAttention.WithGradients(q, k, v, dout, causal, scale, q.dtype);
            Close.CheckLike(actualOut, baseline.Out, expected.Out, 2e-3, "out");
            Close.CheckLike(actualDq, baseline.Dq, expected.Dq, 5e-3, "dq");
            Close.CheckLike(actualDk, baseline.Dk, expected.Dk, 5e-3, "dk");
            Close.CheckLike(actualDv, baseline.Dv, expected.Dv, 5e-3, "dv");
        }
        else
        {
            Close.Check(actualOut, expected.Out, 1e-5, 2e-5, "out");
            Close.Check(actualDq, expected.Dq, 1e-5, 1e-4, "dq");
            Close.Check(actualDk, expected.Dk, 1e-5, 1e-4, "dk");
            Close.Check(actualDv, expected.Dv, 1e-5, 1e-4, "dv");
        }
    }
}
