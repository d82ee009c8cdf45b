using System.Runtime.InteropServices;

namespace Gpt.Training;

/// <summary>
/// GPU memory in use, read from the CUDA runtime already loaded by libtorch (cudaMemGetInfo), or from
/// the driver's NVML when the runtime cannot be found.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 exposes no allocator statistics (no max_memory_allocated), so this measures what
/// the process holds on the device: PyTorch's caching allocator keeps freed blocks reserved, so the
/// figure after training is the peak the run needed, at allocator granularity. Baseline (context,
/// kernels) is subtracted. Runs that should be compared run in separate processes (see --compare).
/// </remarks>
public sealed unsafe class DeviceMemory
{
    private readonly delegate* unmanaged<nuint*, nuint*, int> _cudaMemGetInfo;
    private readonly Func<(ulong Free, ulong Total)?>? _nvml;
    private readonly long _baseline;

    private DeviceMemory(delegate* unmanaged<nuint*, nuint*, int> cudaMemGetInfo, Func<(ulong, ulong)?>? nvml, string source)
    {
        _cudaMemGetInfo = cudaMemGetInfo;
        _nvml = nvml;
        Source = source;
        _baseline = UsedBytes() ?? 0;
    }

    public string Source { get; }

    /// <summary>Largest used-minus-baseline seen by <see cref="Sample"/>.</summary>
    public long PeakBytes { get; private set; }

    public static DeviceMemory? TryCreate()
    {
        foreach (string name in new[] { "libcudart.so.13", "libcudart.so.12", "libcudart.so", "cudart64_13.dll", "cudart64_12.dll" })
        {
            if (NativeLibrary.TryLoad(name, out IntPtr lib) && NativeLibrary.TryGetExport(lib, "cudaMemGetInfo", out IntPtr fn))
                return new DeviceMemory((delegate* unmanaged<nuint*, nuint*, int>)fn, null, name);
        }
        return Nvml.TryCreate() is { } nvml ? new DeviceMemory(null, nvml, "NVML") : null;
    }

    public long? Sample()
    {
        long? used = UsedBytes();
        if (used is long u)
            PeakBytes = Math.Max(PeakBytes, u - _baseline);
        return used is long v ? v - _baseline : null;
    }

    private long? UsedBytes()
    {
        if (_cudaMemGetInfo != null)
        {
            nuint free, total;
            return _cudaMemGetInfo(&free, &total) == 0 ? (long)(total - free) : null;
        }
        return _nvml?.Invoke() is { } info ? (long)(info.Total - info.Free) : null;
    }

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        _ => $"{bytes / 1024.0:F0} KiB",
    };

    private static class Nvml
    {
        [StructLayout(LayoutKind.Sequential)]
        private struct MemoryInfo { public ulong Total, Free, Used; }

        internal static Func<(ulong, ulong)?>? TryCreate()
        {
            if (!NativeLibrary.TryLoad("libnvidia-ml.so.1", out IntPtr lib)) return null;
            if (!NativeLibrary.TryGetExport(lib, "nvmlInit_v2", out IntPtr init)
                || !NativeLibrary.TryGetExport(lib, "nvmlDeviceGetHandleByIndex_v2", out IntPtr byIndex)
                || !NativeLibrary.TryGetExport(lib, "nvmlDeviceGetMemoryInfo", out IntPtr memInfo))
                return null;
            if (((delegate* unmanaged<int>)init)() != 0) return null;
            IntPtr handle;
            if (((delegate* unmanaged<uint, IntPtr*, int>)byIndex)(0, &handle) != 0) return null;
            IntPtr device = handle;
            return () =>
            {
                MemoryInfo info;
                return ((delegate* unmanaged<IntPtr, MemoryInfo*, int>)memInfo)(device, &info) == 0 ? (info.Free, info.Total) : null;
            };
        }
    }
}
