using System.Runtime.InteropServices;
using FlashAttn;

namespace FlashAttn.Tests.Support;

/// <summary>
/// A host buffer with a strided 4-D (or 3-D) view into it, pinned for the test's lifetime, to exercise
/// layouts a contiguous span cannot express (packed qkv, transposed heads, padded rows).
/// </summary>
internal sealed class StridedBuffer<T> : IDisposable where T : unmanaged
{
    private GCHandle _handle;

    public StridedBuffer(T[] storage, long offset, long[] shape, long[] strides)
    {
        Storage = storage;
        Offset = offset;
        Shape = shape;
        Strides = strides;
        _handle = GCHandle.Alloc(storage, GCHandleType.Pinned);
    }

    public T[] Storage { get; }
    public long Offset { get; }
    public long[] Shape { get; }
    public long[] Strides { get; }

    public unsafe TensorView View() =>
        new(_handle.AddrOfPinnedObject() + (nint)(Offset * sizeof(T)), FlashAttention.ManagedDtype<T>(), Shape, Strides);

    /// <summary>Flat row-major indices of the view, mapped to storage indices.</summary>
    public IEnumerable<long> StorageIndices()
    {
        long count = 1;
        foreach (long s in Shape) count *= s;
        var idx = new long[Shape.Length];
        for (long n = 0; n < count; n++)
        {
            long rem = n, off = Offset;
            for (int dim = Shape.Length - 1; dim >= 0; dim--)
            {
                idx[dim] = rem % Shape[dim];
                rem /= Shape[dim];
                off += idx[dim] * Strides[dim];
            }
            yield return off;
        }
    }

    public void Scatter(double[] values)
    {
        long i = 0;
        foreach (long off in StorageIndices()) Storage[off] = Num.FromDouble<T>(values[i++]);
    }

    public double[] Gather()
    {
        var result = new List<double>();
        foreach (long off in StorageIndices()) result.Add(Num.ToDouble(Storage[off]));
        return result.ToArray();
    }

    public void Dispose()
    {
        if (_handle.IsAllocated) _handle.Free();
    }
}
