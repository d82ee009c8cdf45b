using FlashAttn.Interop;
using FlashAttn.Internal;

namespace FlashAttn;

/// <summary>
/// Thin wrappers of the library's CUDA memory helpers, for callers without another CUDA binding.
/// Each throws <see cref="FlashAttnNativeException"/> (BackendUnavailable) when CUDA is not compiled in.
/// </summary>
public static unsafe class CudaMemory
{
    /// <summary>cudaMalloc on <paramref name="deviceIndex"/>.</summary>
    public static nint Allocate(int deviceIndex, ulong bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceIndex);
        ArgumentOutOfRangeException.ThrowIfZero(bytes);
        NativeLayout.EnsureLoaded();
        void* ptr;
        Native.Check(NativeMethods.fa_cuda_malloc(deviceIndex, bytes, &ptr), "fa_cuda_malloc");
        return (nint)ptr;
    }

    /// <summary>cudaFree of memory from <see cref="Allocate"/>; a null pointer is a no-op.</summary>
    public static void Free(int deviceIndex, nint pointer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceIndex);
        if (pointer == 0) return;
        NativeLayout.EnsureLoaded();
        Native.Check(NativeMethods.fa_cuda_free(deviceIndex, (void*)pointer), "fa_cuda_free");
    }

    /// <summary>Synchronous copy in any direction (cudaMemcpyDefault).</summary>
    public static void Copy(nint destination, nint source, ulong bytes)
    {
        if (bytes == 0) return;
        if (destination == 0) throw new ArgumentNullException(nameof(destination), "destination is a null pointer.");
        if (source == 0) throw new ArgumentNullException(nameof(source), "source is a null pointer.");
        NativeLayout.EnsureLoaded();
        Native.Check(NativeMethods.fa_cuda_memcpy((void*)destination, (void*)source, bytes), "fa_cuda_memcpy");
    }

    /// <summary>Waits for all work on the device.</summary>
    public static void Synchronize(int deviceIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceIndex);
        NativeLayout.EnsureLoaded();
        Native.Check(NativeMethods.fa_cuda_synchronize(deviceIndex), "fa_cuda_synchronize");
    }
}
