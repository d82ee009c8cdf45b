using FlashAttn;

namespace FlashAttn.Tests.Support;

/// <summary>Runs an <see cref="AttentionCase"/> on CUDA through <see cref="DeviceBuffer"/>s, outputs poisoned with NaN first.</summary>
internal static class GpuRunner
{
    public const int DeviceIndex = 0;

    /// <summary>Ignores the calling test unless the library has CUDA and a device is visible.</summary>
    public static void RequireCuda()
    {
        if (!FlashAttention.HasCuda)
            Assert.Ignore($"No CUDA device: the flashattn library was built without CUDA ({FlashAttention.Version}).");
        int count = FlashAttention.CudaDeviceCount;
        if (count == 0)
            Assert.Ignore("No CUDA device: the library has CUDA kernels but no device (or driver) is visible.");
    }

    public static int ComputeCapability => FlashAttention.CudaComputeCapability(DeviceIndex);

    public static CpuRunner.Result Run(AttentionCase c, bool backward, AttentionOptions? options = null) => c.Type switch
    {
        ScalarType.Float16 => Run<Half>(c, backward, options),
        ScalarType.BFloat16 => Run<BFloat16>(c, backward, options),
        ScalarType.Float32 => Run<float>(c, backward, options),
        _ => throw new NotSupportedException(c.Type.ToString()),
    };

    public static CpuRunner.Result Run<T>(AttentionCase c, bool backward, AttentionOptions? options = null) where T : unmanaged
    {
        options ??= c.Options();
        AttentionShape s = c.Shape;
        ScalarType dt = FlashAttention.ManagedDtype<T>();
        using var q = DeviceBuffer.FromSpan<T>(DeviceIndex, Num.Convert<T>(c.Q));
        using var k = DeviceBuffer.FromSpan<T>(DeviceIndex, Num.Convert<T>(c.K));
        using var v = DeviceBuffer.FromSpan<T>(DeviceIndex, Num.Convert<T>(c.V));
        using var o = DeviceBuffer.FromSpan<T>(DeviceIndex, Num.Poisoned<T>(s.QElements));
        using var lse = DeviceBuffer.FromSpan<float>(DeviceIndex, Num.Poisoned<float>(s.LseElements));
        FlashAttention.Forward(q.View(dt, s.QShape), k.View(dt, s.KShape), v.View(dt, s.KShape), o.View(dt, s.QShape),
            lse.View(ScalarType.Float32, s.LseShape), options);
        CudaMemory.Synchronize(DeviceIndex);
        double[] output = Num.ToDoubles<T>(o.ToArray<T>());
        double[] lseOut = Num.ToDoubles<float>(lse.ToArray<float>());
        if (!backward)
            return new CpuRunner.Result(output, lseOut, null, null, null);

        using var dOut = DeviceBuffer.FromSpan<T>(DeviceIndex, Num.Convert<T>(c.DOut));
        using var dq = DeviceBuffer.FromSpan<T>(DeviceIndex, Num.Poisoned<T>(s.QElements));
        using var dk = DeviceBuffer.FromSpan<T>(DeviceIndex, Num.Poisoned<T>(s.KElements));
        using var dv = DeviceBuffer.FromSpan<T>(DeviceIndex, Num.Poisoned<T>(s.KElements));
        FlashAttention.Backward(q.View(dt, s.QShape), k.View(dt, s.KShape), v.View(dt, s.KShape), o.View(dt, s.QShape),
            lse.View(ScalarType.Float32, s.LseShape), dOut.View(dt, s.QShape), dq.View(dt, s.QShape), dk.View(dt, s.KShape),
            dv.View(dt, s.KShape), options);
        CudaMemory.Synchronize(DeviceIndex);
        return new CpuRunner.Result(output, lseOut,
            Num.ToDoubles<T>(dq.ToArray<T>()), Num.ToDoubles<T>(dk.ToArray<T>()), Num.ToDoubles<T>(dv.ToArray<T>()));
    }
}
