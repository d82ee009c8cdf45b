using System.Diagnostics;
using FlashAttn;

namespace FlashAttn.Demo;

/// <summary>What one implementation produced for a scenario: timings, memory, and its results in float64.</summary>
public sealed record Measurement(
    double ForwardMs, double BackwardMs, long? ForwardExtraBytes, long? BackwardExtraBytes,
    double[] Output, double[] Lse, double[] Dq, double[] Dk, double[] Dv);

/// <summary>Runs the library's forward and backward on the CPU (managed arrays) or a CUDA device (device buffers).</summary>
public static class FlashRunner
{
    public static Measurement Run(Scenario scenario, Inputs inputs, Device device, int repeats) => scenario.DType switch
    {
        ScalarType.Float32 => Run<float>(scenario, inputs, device, repeats),
        ScalarType.Float16 => Run<Half>(scenario, inputs, device, repeats),
        ScalarType.BFloat16 => Run<BFloat16>(scenario, inputs, device, repeats),
        _ => throw new ArgumentException($"Unsupported dtype {scenario.DType}.", nameof(scenario)),
    };

    private static Measurement Run<T>(Scenario scenario, Inputs inputs, Device device, int repeats) where T : unmanaged
    {
        AttentionShape s = scenario.Shape;
        var options = new AttentionOptions { Causal = scenario.Causal, SoftmaxScale = (float)scenario.Scale };
        T[] q = Storage.To<T>(inputs.Q), k = Storage.To<T>(inputs.K), v = Storage.To<T>(inputs.V);
        T[] dOut = Storage.To<T>(inputs.DOut);
        var output = new T[s.QElements];
        var lse = new float[s.LseElements];
        var dq = new T[s.QElements];
        var dk = new T[s.KElements];
        var dv = new T[s.KElements];

        double fwdMs, bwdMs;
        long? fwdBytes, bwdBytes;
        if (!device.IsCuda)
        {
            void Forward() => FlashAttention.Forward<T>(q, k, v, output, lse, s, options);
            void Backward() => FlashAttention.Backward<T>(q, k, v, output, lse, dOut, dq, dk, dv, s, options);
            fwdBytes = PeakMemory.Measure(Forward);
            bwdBytes = PeakMemory.Measure(Backward);
            fwdMs = MedianMs(Forward, repeats);
            bwdMs = MedianMs(Backward, repeats);
        }
        else
        {
            int ordinal = device.Index;
            using DeviceBuffer bq = DeviceBuffer.FromSpan<T>(ordinal, q), bk = DeviceBuffer.FromSpan<T>(ordinal, k),
                bv = DeviceBuffer.FromSpan<T>(ordinal, v), bdo = DeviceBuffer.FromSpan<T>(ordinal, dOut),
                bo = new DeviceBuffer(ordinal, output.LongLength * Elem<T>()), bl = new DeviceBuffer(ordinal, lse.LongLength * 4),
                bdq = new DeviceBuffer(ordinal, dq.LongLength * Elem<T>()), bdk = new DeviceBuffer(ordinal, dk.LongLength * Elem<T>()),
                bdv = new DeviceBuffer(ordinal, dv.LongLength * Elem<T>());
            ScalarType t = scenario.DType;
            TensorView vq = bq.View(t, s.QShape), vk = bk.View(t, s.KShape), vv = bv.View(t, s.KShape),
                vo = bo.View(t, s.QShape), vl = bl.View(ScalarType.Float32, s.LseShape), vdo = bdo.View(t, s.QShape),
                vdq = bdq.View(t, s.QShape), vdk = bdk.View(t, s.KShape), vdv = bdv.View(t, s.KShape);
            // Device scratch is the only memory the call adds beyond its inputs and outputs.
            ulong workspace = FlashAttention.BackwardWorkspaceSize(vq, vk, vv, vo, vl, vdo, vdq, vdk, vdv, options);
            using var scratch = new DeviceBuffer(ordinal, (long)Math.Max(workspace, 1));
            var bwdOptions = options.Clone();
            bwdOptions.Workspace = scratch.Pointer;
            bwdOptions.WorkspaceBytes = workspace;
            void Forward() { FlashAttention.Forward(vq, vk, vv, vo, vl, options); CudaMemory.Synchronize(ordinal); }
            void Backward() { FlashAttention.Backward(vq, vk, vv, vo, vl, vdo, vdq, vdk, vdv, bwdOptions); CudaMemory.Synchronize(ordinal); }
            Forward();
            Backward();
            fwdMs = MedianMs(Forward, repeats);
            bwdMs = MedianMs(Backward, repeats);
            fwdBytes = 0;
            bwdBytes = (long)workspace;
            bo.CopyTo<T>(output);
            bl.CopyTo<float>(lse);
            bdq.CopyTo<T>(dq);
            bdk.CopyTo<T>(dk);
            bdv.CopyTo<T>(dv);
        }
        return new Measurement(fwdMs, bwdMs, fwdBytes, bwdBytes, Storage.ToDouble(output), Storage.ToDouble(lse),
            Storage.ToDouble(dq), Storage.ToDouble(dk), Storage.ToDouble(dv));
    }

    /// <summary>Median wall time of <paramref name="repeats"/> runs after the measured first one warmed caches.</summary>
    public static double MedianMs(Action work, int repeats)
    {
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            work();
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }

    private static long Elem<T>() where T : unmanaged => System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
}
