using System.Runtime.InteropServices;

namespace FlashAttn;

/// <summary>Managed-buffer convenience API: contiguous row-major spans on the CPU, T = float, Half or BFloat16.</summary>
public static unsafe partial class FlashAttention
{
    /// <summary>Forward on managed buffers; allocates and returns the output and LSE.</summary>
    public static AttentionResult<T> Forward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        AttentionShape shape, AttentionOptions? options = null) where T : unmanaged
    {
        CheckShape(shape);
        var output = new T[shape.QElements];
        var lse = new float[shape.LseElements];
        Forward(q, k, v, output, lse, shape, options);
        return new AttentionResult<T>(output, lse);
    }

    /// <summary>Forward on managed buffers into caller-provided output (shape of q) and LSE (Batch·NumHeadsQ·SeqlenQ).</summary>
    public static void Forward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<T> output,
        Span<float> softmaxLse, AttentionShape shape, AttentionOptions? options = null) where T : unmanaged
    {
        ScalarType dtype = ManagedDtype<T>();
        CheckShape(shape);
        RejectVarlen(options);
        Extents.Of(shape).RequireInputs(q, k, v).RequireForwardOutputs(output, softmaxLse);
        fixed (T* pq = q, pk = k, pv = v, po = output)
        fixed (float* pl = softmaxLse)
        {
            Forward(
                TensorView.Contiguous((nint)pq, dtype, shape.QShape),
                TensorView.Contiguous((nint)pk, dtype, shape.KShape),
                TensorView.Contiguous((nint)pv, dtype, shape.KShape),
                TensorView.Contiguous((nint)po, dtype, shape.QShape),
                TensorView.Contiguous((nint)pl, ScalarType.Float32, shape.LseShape),
                options);
        }
    }

    /// <summary>Backward on managed buffers; allocates and returns dq, dk, dv.</summary>
    public static AttentionGradients<T> Backward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> output, ReadOnlySpan<float> softmaxLse, ReadOnlySpan<T> dOutput,
        AttentionShape shape, AttentionOptions? options = null) where T : unmanaged
    {
        CheckShape(shape);
        var dq = new T[shape.QElements];
        var dk = new T[shape.KElements];
        var dv = new T[shape.KElements];
        Backward(q, k, v, output, softmaxLse, dOutput, dq, dk, dv, shape, options);
        return new AttentionGradients<T>(dq, dk, dv);
    }

    /// <summary>Backward on managed buffers into caller-provided gradients.</summary>
    public static void Backward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> output, ReadOnlySpan<float> softmaxLse, ReadOnlySpan<T> dOutput,
        Span<T> dq, Span<T> dk, Span<T> dv, AttentionShape shape, AttentionOptions? options = null) where T : unmanaged
    {
        ScalarType dtype = ManagedDtype<T>();
        CheckShape(shape);
        RejectVarlen(options);
        Extents.Of(shape).RequireInputs(q, k, v).RequireForwardOutputs(output, softmaxLse).RequireGradients(dOutput, dq, dk, dv);
        fixed (T* pq = q, pk = k, pv = v, po = output, pdo = dOutput, pdq = dq, pdk = dk, pdv = dv)
        fixed (float* pl = softmaxLse)
        {
            Backward(
                TensorView.Contiguous((nint)pq, dtype, shape.QShape),
                TensorView.Contiguous((nint)pk, dtype, shape.KShape),
                TensorView.Contiguous((nint)pv, dtype, shape.KShape),
                TensorView.Contiguous((nint)po, dtype, shape.QShape),
                TensorView.Contiguous((nint)pl, ScalarType.Float32, shape.LseShape),
                TensorView.Contiguous((nint)pdo, dtype, shape.QShape),
                TensorView.Contiguous((nint)pdq, dtype, shape.QShape),
                TensorView.Contiguous((nint)pdk, dtype, shape.KShape),
                TensorView.Contiguous((nint)pdv, dtype, shape.KShape),
                options);
        }
    }

    /// <summary>Variable-length forward on packed managed buffers; returns output (like q) and LSE (NumHeadsQ, total_q).</summary>
    public static AttentionResult<T> Forward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        VarlenShape shape, AttentionOptions? options = null) where T : unmanaged
    {
        ScalarType dtype = ManagedDtype<T>();
        CheckShape(shape);
        RejectVarlen(options);
        Extents.Of(shape).RequireInputs(q, k, v);
        var output = new T[shape.QElements];
        var lse = new float[shape.LseElements];
        long[] qShape = [shape.TotalQ, shape.NumHeadsQ, shape.HeadDim];
        long[] kShape = [shape.TotalK, shape.NumHeadsKv, shape.HeadDim];
        fixed (T* pq = q, pk = k, pv = v, po = output)
        fixed (float* pl = lse)
        fixed (int* cuq = shape.CuSeqlensQ, cuk = shape.CuSeqlensK)
        {
            Forward(
                TensorView.Contiguous((nint)pq, dtype, qShape),
                TensorView.Contiguous((nint)pk, dtype, kShape),
                TensorView.Contiguous((nint)pv, dtype, kShape),
                TensorView.Contiguous((nint)po, dtype, qShape),
                TensorView.Contiguous((nint)pl, ScalarType.Float32, [shape.NumHeadsQ, shape.TotalQ]),
                WithVarlen(options, shape, cuq, cuk));
        }
        return new AttentionResult<T>(output, lse);
    }

    /// <summary>Variable-length backward on packed managed buffers.</summary>
    public static AttentionGradients<T> Backward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> output, ReadOnlySpan<float> softmaxLse, ReadOnlySpan<T> dOutput,
        VarlenShape shape, AttentionOptions? options = null) where T : unmanaged
    {
        ScalarType dtype = ManagedDtype<T>();
        CheckShape(shape);
        RejectVarlen(options);
        Extents.Of(shape).RequireInputs(q, k, v).RequireForwardOutputs(output, softmaxLse).RequireQ(dOutput.Length, nameof(dOutput));
        var dq = new T[shape.QElements];
        var dk = new T[shape.KElements];
        var dv = new T[shape.KElements];
        long[] qShape = [shape.TotalQ, shape.NumHeadsQ, shape.HeadDim];
        long[] kShape = [shape.TotalK, shape.NumHeadsKv, shape.HeadDim];
        fixed (T* pq = q, pk = k, pv = v, po = output, pdo = dOutput, pdq = dq, pdk = dk, pdv = dv)
        fixed (float* pl = softmaxLse)
        fixed (int* cuq = shape.CuSeqlensQ, cuk = shape.CuSeqlensK)
        {
            Backward(
                TensorView.Contiguous((nint)pq, dtype, qShape),
                TensorView.Contiguous((nint)pk, dtype, kShape),
                TensorView.Contiguous((nint)pv, dtype, kShape),
                TensorView.Contiguous((nint)po, dtype, qShape),
                TensorView.Contiguous((nint)pl, ScalarType.Float32, [shape.NumHeadsQ, shape.TotalQ]),
                TensorView.Contiguous((nint)pdo, dtype, qShape),
                TensorView.Contiguous((nint)pdq, dtype, qShape),
                TensorView.Contiguous((nint)pdk, dtype, kShape),
                TensorView.Contiguous((nint)pdv, dtype, kShape),
                WithVarlen(options, shape, cuq, cuk));
        }
        return new AttentionGradients<T>(dq, dk, dv);
    }

    /// <summary>The <see cref="ScalarType"/> of a managed element type, or an ArgumentException naming T.</summary>
    public static ScalarType ManagedDtype<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return ScalarType.Float32;
        if (typeof(T) == typeof(Half)) return ScalarType.Float16;
        if (typeof(T) == typeof(BFloat16)) return ScalarType.BFloat16;
        throw new ArgumentException(
            $"The element type T must be float, System.Half or FlashAttn.BFloat16; got {typeof(T).FullName}.", "T");
    }

    private static AttentionOptions WithVarlen(AttentionOptions? options, VarlenShape shape, int* cuq, int* cuk)
    {
        AttentionOptions copy = options?.Clone() ?? new AttentionOptions();
        copy.Varlen = new VarlenLayout((nint)cuq, (nint)cuk, shape.Batch, Math.Max(shape.MaxSeqlenQ, 1), Math.Max(shape.MaxSeqlenK, 1));
        return copy;
    }

    private static void RejectVarlen(AttentionOptions? options)
    {
        if (options?.Varlen is not null)
            throw new ArgumentException(
                "options.Varlen must be null for managed buffers: pass a VarlenShape instead, which carries the prefix sums.",
                nameof(options));
    }

    /// <summary>Element counts a call's buffers must have, with the formulas the messages quote.</summary>
    private readonly record struct Extents(long Q, long K, long Lse, string QFormula, string KFormula, string LseFormula)
    {
        public static Extents Of(AttentionShape s) => new(s.QElements, s.KElements, s.LseElements,
            "batch*seqlen_q*num_heads_q*head_dim", "batch*seqlen_k*num_heads_kv*head_dim", "batch*num_heads_q*seqlen_q");

        public static Extents Of(VarlenShape s) => new(s.QElements, s.KElements, s.LseElements,
            "total_q*num_heads_q*head_dim", "total_k*num_heads_kv*head_dim", "num_heads_q*total_q");

        public Extents RequireQ(int actual, string name) { RequireLength(actual, Q, name, QFormula); return this; }

        public Extents RequireInputs<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v)
        {
            RequireLength(q.Length, Q, nameof(q), QFormula);
            RequireLength(k.Length, K, nameof(k), KFormula);
            RequireLength(v.Length, K, nameof(v), KFormula);
            return this;
        }

        public Extents RequireForwardOutputs<T>(ReadOnlySpan<T> output, ReadOnlySpan<float> softmaxLse)
        {
            RequireLength(output.Length, Q, nameof(output), QFormula);
            RequireLength(softmaxLse.Length, Lse, nameof(softmaxLse), LseFormula);
            return this;
        }

        public Extents RequireGradients<T>(ReadOnlySpan<T> dOutput, ReadOnlySpan<T> dq, ReadOnlySpan<T> dk, ReadOnlySpan<T> dv)
        {
            RequireLength(dOutput.Length, Q, nameof(dOutput), QFormula);
            RequireLength(dq.Length, Q, nameof(dq), QFormula);
            RequireLength(dk.Length, K, nameof(dk), KFormula);
            RequireLength(dv.Length, K, nameof(dv), KFormula);
            return this;
        }
    }

    private static void RequireLength(int actual, long expected, string name, string formula)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} must have exactly {formula} = {expected} elements; got {actual}.", name);
    }

    private static void CheckShape(AttentionShape shape)
    {
        const string name = nameof(shape);
        if (shape.Batch < 1)
            throw new ArgumentOutOfRangeException(name, shape.Batch, "shape.Batch must be >= 1.");
        if (shape.SeqlenQ < 1)
            throw new ArgumentOutOfRangeException(name, shape.SeqlenQ, "shape.SeqlenQ must be >= 1.");
        if (shape.SeqlenK < 1)
            throw new ArgumentOutOfRangeException(name, shape.SeqlenK, "shape.SeqlenK must be >= 1.");
        CheckHeads(shape.NumHeadsQ, shape.NumHeadsKv, shape.HeadDim);
        if (shape.QElements > int.MaxValue || shape.KElements > int.MaxValue)
            throw new ArgumentOutOfRangeException(name, "shape describes more than int.MaxValue elements, beyond a managed array.");
    }

    private static void CheckShape(VarlenShape? shape)
    {
        const string name = nameof(shape);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.CuSeqlensQ is null)
            throw new ArgumentNullException(name, "shape.CuSeqlensQ is null.");
        if (shape.CuSeqlensK is null)
            throw new ArgumentNullException(name, "shape.CuSeqlensK is null.");
        if (shape.CuSeqlensQ.Length < 2)
            throw new ArgumentException($"shape.CuSeqlensQ must have batch+1 >= 2 entries; got {shape.CuSeqlensQ.Length}.", name);
        if (shape.CuSeqlensK.Length != shape.CuSeqlensQ.Length)
            throw new ArgumentException(
                $"shape.CuSeqlensK must have as many entries as shape.CuSeqlensQ ({shape.CuSeqlensQ.Length}); got {shape.CuSeqlensK.Length}.", name);
        CheckPrefix(shape.CuSeqlensQ, "CuSeqlensQ");
        CheckPrefix(shape.CuSeqlensK, "CuSeqlensK");
        if (shape.TotalQ < 1)
            throw new ArgumentOutOfRangeException(name, shape.TotalQ, "shape.CuSeqlensQ describes no query rows (total_q must be >= 1).");
        if (shape.TotalK < 1)
            throw new ArgumentOutOfRangeException(name, shape.TotalK, "shape.CuSeqlensK describes no key rows (total_k must be >= 1).");
        CheckHeads(shape.NumHeadsQ, shape.NumHeadsKv, shape.HeadDim);
        if (shape.QElements > int.MaxValue || shape.KElements > int.MaxValue)
            throw new ArgumentOutOfRangeException(name, "shape describes more than int.MaxValue elements, beyond a managed array.");

        static void CheckPrefix(int[] cu, string field)
        {
            if (cu[0] != 0)
                throw new ArgumentException($"shape.{field}[0] must be 0; got {cu[0]}.", name);
            for (int i = 0; i + 1 < cu.Length; i++)
            {
                if (cu[i + 1] < cu[i])
                    throw new ArgumentException($"shape.{field} must be non-decreasing; [{i}] = {cu[i]} > [{i + 1}] = {cu[i + 1]}.", name);
            }
        }
    }

    private static void CheckHeads(int headsQ, int headsKv, int headDim)
    {
        const string name = "shape";
        if (headsQ < 1)
            throw new ArgumentOutOfRangeException(name, headsQ, "shape.NumHeadsQ must be >= 1.");
        if (headsKv < 1)
            throw new ArgumentOutOfRangeException(name, headsKv, "shape.NumHeadsKv must be >= 1.");
        if (headsQ % headsKv != 0)
            throw new ArgumentException($"shape.NumHeadsQ ({headsQ}) must be a multiple of shape.NumHeadsKv ({headsKv}).", name);
        if (headDim < 1 || headDim > MaxHeadDim)
            throw new ArgumentOutOfRangeException(name, headDim, $"shape.HeadDim must be between 1 and {MaxHeadDim}.");
    }
}
