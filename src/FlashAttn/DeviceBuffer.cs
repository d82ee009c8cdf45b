using System.Runtime.InteropServices;

namespace FlashAttn;

/// <summary>An owned CUDA allocation with typed host↔device copies; dispose to free it.</summary>
/// <remarks>
/// No finalizer on purpose: freeing device memory from the finalizer thread after the context may be
/// gone is a crash risk, so an undisposed buffer leaks until process exit instead.
/// </remarks>
public sealed unsafe class DeviceBuffer : IDisposable
{
    private nint _pointer;

    /// <summary>Allocates <paramref name="bytes"/> bytes on CUDA device <paramref name="deviceIndex"/>.</summary>
    public DeviceBuffer(int deviceIndex, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceIndex);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        _pointer = CudaMemory.Allocate(deviceIndex, (ulong)bytes);
        DeviceIndex = deviceIndex;
        Bytes = bytes;
    }

    /// <summary>Allocates a buffer the size of <paramref name="data"/> and uploads it.</summary>
    public static DeviceBuffer FromSpan<T>(int deviceIndex, ReadOnlySpan<T> data) where T : unmanaged
    {
        if (data.IsEmpty)
            throw new ArgumentException("data must not be empty.", nameof(data));
        var buffer = new DeviceBuffer(deviceIndex, (long)data.Length * sizeof(T));
        try
        {
            buffer.CopyFrom(data);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        return buffer;
    }

    /// <summary>Device address.</summary>
    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == 0, this);
            return _pointer;
        }
    }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>CUDA ordinal.</summary>
    public int DeviceIndex { get; }

    /// <summary>The device as a <see cref="FlashAttn.Device"/>.</summary>
    public Device Device => Device.Cuda(DeviceIndex);

    /// <summary>Uploads <paramref name="source"/> to the start of the buffer.</summary>
    public void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        long bytes = (long)source.Length * sizeof(T);
        if (bytes > Bytes)
            throw new ArgumentException($"source holds {bytes} bytes but the buffer only {Bytes}.", nameof(source));
        fixed (T* p = source)
            CudaMemory.Copy(Pointer, (nint)p, (ulong)bytes);
    }

    /// <summary>Downloads the start of the buffer into <paramref name="destination"/>.</summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        long bytes = (long)destination.Length * sizeof(T);
        if (bytes > Bytes)
            throw new ArgumentException($"destination wants {bytes} bytes but the buffer holds {Bytes}.", nameof(destination));
        fixed (T* p = destination)
            CudaMemory.Copy((nint)p, Pointer, (ulong)bytes);
    }

    /// <summary>Downloads the whole buffer as T[].</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (Bytes % sizeof(T) != 0)
            throw new InvalidOperationException($"The buffer's {Bytes} bytes are not a whole number of {typeof(T).Name} elements.");
        var result = new T[Bytes / sizeof(T)];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>A contiguous view of the buffer; throws when the shape needs more bytes than it holds.</summary>
    public TensorView View(ScalarType dtype, params long[] shape) =>
        View(dtype, shape, TensorView.ContiguousStrides(shape ?? throw new ArgumentNullException(nameof(shape))));

    /// <summary>A strided view of the buffer (strides in elements); throws when it reaches past the end.</summary>
    public TensorView View(ScalarType dtype, long[] shape, long[] strides, long elementOffset = 0)
    {
        var view = new TensorView(Pointer + (nint)(elementOffset * dtype.ElementSize()), dtype, shape, strides, Device);
        long last = elementOffset;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 0) return view;
            last += (shape[i] - 1) * strides[i];
        }
        if (elementOffset < 0 || (last + 1) * dtype.ElementSize() > Bytes)
            throw new ArgumentException(
                $"The view reaches element {last} (offset {elementOffset}) but the buffer holds {Bytes / dtype.ElementSize()} {dtype} elements.",
                nameof(shape));
        return view;
    }

    /// <summary>Frees the device memory.</summary>
    public void Dispose()
    {
        nint p = Interlocked.Exchange(ref _pointer, 0);
        if (p != 0)
            CudaMemory.Free(DeviceIndex, p);
    }
}
