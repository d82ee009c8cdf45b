namespace FlashAttn;

/// <summary>
/// A borrowed, strided view of memory that FlashAttn reads or writes: a data pointer, an element type,
/// a shape and strides counted in elements, and the device the memory lives on.
/// </summary>
/// <remarks>
/// Attention tensors are (batch, seqlen, heads, head_dim), or (total, heads, head_dim) in
/// variable-length mode; the softmax LSE is (batch, heads_q, seqlen_q), or (heads_q, total_q). The view
/// owns nothing: the caller keeps the memory alive (and pinned) for the duration of the call.
/// </remarks>
public sealed class TensorView
{
    private readonly long[] _shape;
    private readonly long[] _strides;

    /// <summary>Creates a view with explicit strides (in elements).</summary>
    public TensorView(nint data, ScalarType dtype, long[] shape, long[] strides, Device device = default)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(strides);
        if (!Enum.IsDefined(dtype))
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Expected a defined ScalarType.");
        if (strides.Length != shape.Length)
            throw new ArgumentException(
                $"strides must have one entry per dimension: shape has {shape.Length}, strides has {strides.Length}.",
                nameof(strides));
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
                throw new ArgumentOutOfRangeException(nameof(shape), shape[i], $"shape[{i}] must be >= 0.");
        }
        Data = data;
        DType = dtype;
        _shape = (long[])shape.Clone();
        _strides = (long[])strides.Clone();
        Device = device;
    }

    /// <summary>Creates a row-major contiguous view.</summary>
    public static TensorView Contiguous(nint data, ScalarType dtype, long[] shape, Device device = default)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return new TensorView(data, dtype, shape, ContiguousStrides(shape), device);
    }

    /// <summary>Row-major strides (in elements) of <paramref name="shape"/>.</summary>
    public static long[] ContiguousStrides(ReadOnlySpan<long> shape)
    {
        var strides = new long[shape.Length];
        long step = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = step;
            step *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    /// <summary>Address of element (0, ..., 0).</summary>
    public nint Data { get; }

    /// <summary>Element type.</summary>
    public ScalarType DType { get; }

    /// <summary>Sizes of each dimension.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>Strides of each dimension, in elements.</summary>
    public ReadOnlySpan<long> Strides => _strides;

    /// <summary>Where the memory lives.</summary>
    public Device Device { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Product of the shape.</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long s in _shape) n *= s;
            return n;
        }
    }

    /// <summary>True when the strides are the row-major strides of the shape.</summary>
    public bool IsContiguous
    {
        get
        {
            long step = 1;
            for (int i = _shape.Length - 1; i >= 0; i--)
            {
                if (_shape[i] != 1 && _strides[i] != step) return false;
                step *= _shape[i];
            }
            return true;
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"TensorView({DType}, shape [{string.Join(", ", _shape)}], strides [{string.Join(", ", _strides)}], {Device})";
}
