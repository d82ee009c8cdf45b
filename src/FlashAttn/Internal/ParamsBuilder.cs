using FlashAttn.Interop;

namespace FlashAttn.Internal;

/// <summary>
/// Validates an attention call in managed code and fills <see cref="FaParams"/>. Every rejection names
/// the public parameter at fault, so callers see ArgumentException-family errors before any native code
/// runs; the native library re-checks, but its errors are a second line of defence.
/// </summary>
internal static unsafe class ParamsBuilder
{
    private static readonly AttentionOptions s_defaults = new();

    internal static FaParams Build(
        TensorView? q, TensorView? k, TensorView? v, TensorView? output, TensorView? softmaxLse,
        TensorView? dOutput, TensorView? dq, TensorView? dk, TensorView? dv,
        AttentionOptions? options, bool backward)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(softmaxLse);
        if (backward)
        {
            ArgumentNullException.ThrowIfNull(dOutput);
            ArgumentNullException.ThrowIfNull(dq);
            ArgumentNullException.ThrowIfNull(dk);
            ArgumentNullException.ThrowIfNull(dv);
        }
        options ??= s_defaults;
        VarlenLayout? varlen = options.Varlen;

        // Tensors like q (index 0) and like k (index 1); the LSE is handled apart.
        var likeQ = new List<(TensorView T, string Name)> { (q, nameof(q)), (output, nameof(output)) };
        var likeK = new List<(TensorView T, string Name)> { (k, nameof(k)), (v, nameof(v)) };
        if (backward)
        {
            likeQ.Add((dOutput!, nameof(dOutput)));
            likeQ.Add((dq!, nameof(dq)));
            likeK.Add((dk!, nameof(dk)));
            likeK.Add((dv!, nameof(dv)));
        }
        var all = likeQ.Concat(likeK).ToList();

        CheckRanks(all, softmaxLse, varlen is not null);
        ScalarType outDtype = CheckDtypes(q, k, v, likeQ, likeK, softmaxLse, backward);
        CheckDevices(q, all, softmaxLse);
        Sizes s = varlen is null ? PaddedSizes(q, k) : VarlenSizes(q, k, varlen);
        CheckShapes(q, k, likeQ, likeK, softmaxLse, s, varlen is not null);
        foreach (var (t, name) in all)
            CheckStrides(t, name, writable: name is not (nameof(q) or nameof(k) or nameof(v) or nameof(dOutput))
                                            && !(backward && name == nameof(output)));
        CheckLse(softmaxLse);
        foreach (var (t, name) in all)
            RequireData(t, name);
        RequireData(softmaxLse, nameof(softmaxLse));
        CheckOptions(options, q.Device, s.HeadDim, backward);
        if (varlen is not null)
            CheckVarlen(varlen, q, k);

        var p = new FaParams
        {
            struct_size = (uint)sizeof(FaParams),
            device_type = (int)q.Device.Type,
            device_index = q.Device.Index,
            backend = (int)options.Backend,
            q = (void*)q.Data,
            k = (void*)k.Data,
            v = (void*)v.Data,
            @out = (void*)output.Data,
            softmax_lse = (float*)softmaxLse.Data,
            cu_seqlens_q = varlen is null ? null : (int*)varlen.CuSeqlensQ,
            cu_seqlens_k = varlen is null ? null : (int*)varlen.CuSeqlensK,
            stream = (void*)options.Stream,
            workspace = (void*)options.Workspace,
            workspace_bytes = options.WorkspaceBytes,
            batch = s.Batch,
            seqlen_q = s.SeqlenQ,
            seqlen_k = s.SeqlenK,
            num_heads_q = s.HeadsQ,
            num_heads_kv = s.HeadsKv,
            head_dim = s.HeadDim,
            dtype = (int)q.DType,
            out_dtype = (int)outDtype,
            softmax_scale = options.SoftmaxScale ?? (float)(1.0 / Math.Sqrt(s.HeadDim)),
            causal = options.Causal ? 1 : 0,
            deterministic = options.Deterministic ? 1 : 0,
            q_descale = options.QDescale,
            k_descale = options.KDescale,
            v_descale = options.VDescale,
            total_q = varlen is null ? 0 : q.Shape[0],
            total_k = varlen is null ? 0 : k.Shape[0],
        };
        bool packed = varlen is not null;
        (p.q_batch_stride, p.q_row_stride, p.q_head_stride) = Strides(q, packed);
        (p.k_batch_stride, p.k_row_stride, p.k_head_stride) = Strides(k, packed);
        (p.v_batch_stride, p.v_row_stride, p.v_head_stride) = Strides(v, packed);
        (p.out_batch_stride, p.out_row_stride, p.out_head_stride) = Strides(output, packed);
        if (backward)
        {
            p.dout = (void*)dOutput!.Data;
            p.dq = (void*)dq!.Data;
            p.dk = (void*)dk!.Data;
            p.dv = (void*)dv!.Data;
            (p.dout_batch_stride, p.dout_row_stride, p.dout_head_stride) = Strides(dOutput, packed);
            (p.dq_batch_stride, p.dq_row_stride, p.dq_head_stride) = Strides(dq, packed);
            (p.dk_batch_stride, p.dk_row_stride, p.dk_head_stride) = Strides(dk, packed);
            (p.dv_batch_stride, p.dv_row_stride, p.dv_head_stride) = Strides(dv, packed);
        }
        return p;
    }

    private readonly record struct Sizes(int Batch, int SeqlenQ, int SeqlenK, int HeadsQ, int HeadsKv, int HeadDim);

    private static (long Batch, long Row, long Head) Strides(TensorView t, bool packed)
    {
        ReadOnlySpan<long> st = t.Strides;
        return packed ? (0, st[0], st[1]) : (st[0], st[1], st[2]);
    }

    private static string Fmt(ReadOnlySpan<long> values) => "[" + string.Join(", ", values.ToArray()) + "]";

    private static void CheckRanks(List<(TensorView T, string Name)> all, TensorView lse, bool packed)
    {
        int rank = packed ? 3 : 4;
        string layout = packed ? "(total, heads, head_dim) in variable-length mode" : "(batch, seqlen, heads, head_dim)";
        foreach (var (t, name) in all)
        {
            if (t.Rank != rank)
                throw new ArgumentException($"{name} must be {rank}-D {layout}; got shape {Fmt(t.Shape)}.", name);
        }
        int lseRank = packed ? 2 : 3;
        if (lse.Rank != lseRank)
        {
            string lseLayout = packed ? "(num_heads_q, total_q)" : "(batch, num_heads_q, seqlen_q)";
            throw new ArgumentException(
                $"softmaxLse must be {lseRank}-D {lseLayout}; got shape {Fmt(lse.Shape)}.", "softmaxLse");
        }
    }

    private static ScalarType CheckDtypes(TensorView q, TensorView k, TensorView v,
        List<(TensorView T, string Name)> likeQ, List<(TensorView T, string Name)> likeK, TensorView lse, bool backward)
    {
        ScalarType dt = q.DType;
        if (backward && dt == ScalarType.Float8E4M3)
            throw new ArgumentException("q has dtype Float8E4M3, which only the forward supports; the backward expects Float32, Float16 or BFloat16.", nameof(q));
        if (k.DType != dt)
            throw new ArgumentException($"k must have q's dtype {dt}; got {k.DType}.", nameof(k));
        if (v.DType != dt)
            throw new ArgumentException($"v must have q's dtype {dt}; got {v.DType}.", nameof(v));
        ScalarType outDt = dt == ScalarType.Float8E4M3 ? ScalarType.BFloat16 : dt;
        foreach (var (t, name) in likeQ.Concat(likeK))
        {
            if (name is "q" or "k" or "v") continue;
            if (t.DType != outDt)
                throw new ArgumentException($"{name} must have dtype {outDt} (the output dtype for {dt} inputs); got {t.DType}.", name);
        }
        if (lse.DType != ScalarType.Float32)
            throw new ArgumentException($"softmaxLse must have dtype Float32; got {lse.DType}.", "softmaxLse");
        return outDt;
    }

    private static void CheckDevices(TensorView q, List<(TensorView T, string Name)> all, TensorView lse)
    {
        foreach (var (t, name) in all.Append((lse, "softmaxLse")))
        {
            if (t.Device != q.Device)
                throw new ArgumentException($"{name} is on {t.Device} but q is on {q.Device}; all tensors must be on one device.", name);
        }
    }

    private static int ToInt(long value, string name, string what)
    {
        if (value > int.MaxValue)
            throw new ArgumentOutOfRangeException(name, value, $"{what} must fit in int32.");
        return (int)value;
    }

    private static void CheckHeadDim(long d, string name, string dim)
    {
        if (d < 1 || d > FlashAttention.MaxHeadDim)
            throw new ArgumentOutOfRangeException(name, d,
                $"head_dim ({name}.shape[{dim}]) must be between 1 and {FlashAttention.MaxHeadDim}; got {d}.");
    }

    private static Sizes PaddedSizes(TensorView q, TensorView k)
    {
        ReadOnlySpan<long> qs = q.Shape, ks = k.Shape;
        if (qs[0] < 1)
            throw new ArgumentOutOfRangeException(nameof(q), qs[0], $"batch (q.shape[0]) must be >= 1; q has shape {Fmt(qs)}.");
        if (qs[1] < 1)
            throw new ArgumentOutOfRangeException(nameof(q), qs[1], $"seqlen_q (q.shape[1]) must be >= 1; q has shape {Fmt(qs)}.");
        if (qs[2] < 1)
            throw new ArgumentOutOfRangeException(nameof(q), qs[2], $"num_heads_q (q.shape[2]) must be >= 1; q has shape {Fmt(qs)}.");
        CheckHeadDim(qs[3], nameof(q), "3");
        if (ks[0] != qs[0])
            throw new ArgumentException($"k.shape[0] (batch) must equal q.shape[0] = {qs[0]}; k has shape {Fmt(ks)}.", nameof(k));
        if (ks[1] < 1)
            throw new ArgumentOutOfRangeException(nameof(k), ks[1], $"seqlen_k (k.shape[1]) must be >= 1; k has shape {Fmt(ks)}.");
        if (ks[2] < 1)
            throw new ArgumentOutOfRangeException(nameof(k), ks[2], $"num_heads_kv (k.shape[2]) must be >= 1; k has shape {Fmt(ks)}.");
        if (ks[3] != qs[3])
            throw new ArgumentException($"k.shape[3] (head_dim) must equal q.shape[3] = {qs[3]}; k has shape {Fmt(ks)}.", nameof(k));
        if (qs[2] % ks[2] != 0)
            throw new ArgumentException(
                $"num_heads_q (q.shape[2] = {qs[2]}) must be a multiple of num_heads_kv (k.shape[2] = {ks[2]}).", nameof(k));
        return new Sizes(
            ToInt(qs[0], nameof(q), "batch"), ToInt(qs[1], nameof(q), "seqlen_q"), ToInt(ks[1], nameof(k), "seqlen_k"),
            ToInt(qs[2], nameof(q), "num_heads_q"), ToInt(ks[2], nameof(k), "num_heads_kv"), (int)qs[3]);
    }

    private static Sizes VarlenSizes(TensorView q, TensorView k, VarlenLayout varlen)
    {
        ReadOnlySpan<long> qs = q.Shape, ks = k.Shape;
        if (qs[0] < 1)
            throw new ArgumentOutOfRangeException(nameof(q), qs[0], $"total_q (q.shape[0]) must be >= 1; q has shape {Fmt(qs)}.");
        if (qs[1] < 1)
            throw new ArgumentOutOfRangeException(nameof(q), qs[1], $"num_heads_q (q.shape[1]) must be >= 1; q has shape {Fmt(qs)}.");
        CheckHeadDim(qs[2], nameof(q), "2");
        if (ks[0] < 1)
            throw new ArgumentOutOfRangeException(nameof(k), ks[0], $"total_k (k.shape[0]) must be >= 1; k has shape {Fmt(ks)}.");
        if (ks[1] < 1)
            throw new ArgumentOutOfRangeException(nameof(k), ks[1], $"num_heads_kv (k.shape[1]) must be >= 1; k has shape {Fmt(ks)}.");
        if (ks[2] != qs[2])
            throw new ArgumentException($"k.shape[2] (head_dim) must equal q.shape[2] = {qs[2]}; k has shape {Fmt(ks)}.", nameof(k));
        if (qs[1] % ks[1] != 0)
            throw new ArgumentException(
                $"num_heads_q (q.shape[1] = {qs[1]}) must be a multiple of num_heads_kv (k.shape[1] = {ks[1]}).", nameof(k));
        const string options = "options";
        if (varlen.BatchSize < 1)
            throw new ArgumentOutOfRangeException(options, varlen.BatchSize, "options.Varlen.BatchSize must be >= 1.");
        if (varlen.MaxSeqlenQ < 1)
            throw new ArgumentOutOfRangeException(options, varlen.MaxSeqlenQ, "options.Varlen.MaxSeqlenQ must be >= 1.");
        if (varlen.MaxSeqlenK < 1)
            throw new ArgumentOutOfRangeException(options, varlen.MaxSeqlenK, "options.Varlen.MaxSeqlenK must be >= 1.");
        ToInt(qs[0], nameof(q), "total_q");
        ToInt(ks[0], nameof(k), "total_k");
        return new Sizes(varlen.BatchSize, varlen.MaxSeqlenQ, varlen.MaxSeqlenK,
            ToInt(qs[1], nameof(q), "num_heads_q"), ToInt(ks[1], nameof(k), "num_heads_kv"), (int)qs[2]);
    }

    private static void CheckShapes(TensorView q, TensorView k, List<(TensorView T, string Name)> likeQ,
        List<(TensorView T, string Name)> likeK, TensorView lse, Sizes s, bool packed)
    {
        foreach (var (t, name) in likeQ)
        {
            if (!t.Shape.SequenceEqual(q.Shape))
                throw new ArgumentException($"{name} must have q's shape {Fmt(q.Shape)}; got {Fmt(t.Shape)}.", name);
        }
        foreach (var (t, name) in likeK)
        {
            if (!t.Shape.SequenceEqual(k.Shape))
                throw new ArgumentException($"{name} must have k's shape {Fmt(k.Shape)}; got {Fmt(t.Shape)}.", name);
        }
        long[] expected = packed ? [s.HeadsQ, q.Shape[0]] : [s.Batch, s.HeadsQ, s.SeqlenQ];
        if (!lse.Shape.SequenceEqual(expected))
        {
            string layout = packed ? "(num_heads_q, total_q)" : "(batch, num_heads_q, seqlen_q)";
            throw new ArgumentException($"softmaxLse must have shape {layout} = {Fmt(expected)}; got {Fmt(lse.Shape)}.", "softmaxLse");
        }
    }

    private static void CheckStrides(TensorView t, string name, bool writable)
    {
        ReadOnlySpan<long> shape = t.Shape, strides = t.Strides;
        for (int i = 0; i < strides.Length; i++)
        {
            if (strides[i] < 0)
                throw new ArgumentException($"{name} has a negative stride {strides[i]} in dimension {i}; strides must be >= 0 (in elements).", name);
        }
        int last = shape.Length - 1;
        if (shape[last] > 1 && strides[last] != 1)
            throw new ArgumentException(
                $"{name}'s head_dim stride (strides[{last}]) must be 1; got {strides[last]}. Make the last dimension contiguous.", name);
        if (writable && Overlaps(shape, strides))
            throw new ArgumentException(
                $"{name} is written by this call but its strides {Fmt(strides)} make elements of shape {Fmt(shape)} overlap.", name);
    }

    /// <summary>
    /// Sufficient test for self-overlap: sorted by stride, each dimension must step past everything the
    /// smaller ones span. Writing through overlapping views would race and give silently wrong results.
    /// </summary>
    private static bool Overlaps(ReadOnlySpan<long> shape, ReadOnlySpan<long> strides)
    {
        var dims = new List<(long Stride, long Size)>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] > 1) dims.Add((strides[i], shape[i]));
        }
        dims.Sort((a, b) => a.Stride.CompareTo(b.Stride));
        long span = 0;
        foreach (var (stride, size) in dims)
        {
            if (stride <= span) return true;
            span += (size - 1) * stride;
        }
        return false;
    }

    private static void CheckLse(TensorView lse)
    {
        if (!lse.IsContiguous)
            throw new ArgumentException(
                $"softmaxLse must be contiguous; got strides {Fmt(lse.Strides)} for shape {Fmt(lse.Shape)}.", "softmaxLse");
    }

    private static void RequireData(TensorView t, string name)
    {
        if (t.Data == 0)
            throw new ArgumentNullException(name, $"{name}.Data is a null pointer.");
    }

    private static void CheckOptions(AttentionOptions o, Device device, int headDim, bool backward)
    {
        const string options = "options";
        if (o.SoftmaxScale is float scale && (!float.IsFinite(scale) || scale <= 0))
            throw new ArgumentOutOfRangeException(options, scale, "options.SoftmaxScale must be finite and > 0.");
        if (!Enum.IsDefined(o.Backend))
            throw new ArgumentOutOfRangeException(options, o.Backend, "options.Backend must be Auto, Cpu, CudaSm80 or CudaSm90.");
        if (o.Backend == AttentionBackend.Cpu && device.IsCuda)
            throw new ArgumentException($"options.Backend is Cpu but the tensors are on {device}.", options);
        if (o.Backend is AttentionBackend.CudaSm80 or AttentionBackend.CudaSm90 && !device.IsCuda)
            throw new ArgumentException($"options.Backend is {o.Backend} but the tensors are on {device}; it needs CUDA tensors.", options);
        if (device.IsCuda && headDim % 8 != 0)
            throw new ArgumentException($"head_dim must be a multiple of 8 on CUDA; got {headDim}.", "q");
        foreach (var (value, field) in new[] { (o.QDescale, "QDescale"), (o.KDescale, "KDescale"), (o.VDescale, "VDescale") })
        {
            if (!float.IsFinite(value) || value < 0)
                throw new ArgumentOutOfRangeException(options, value, $"options.{field} must be finite and >= 0.");
        }
        if (o.WorkspaceBytes > 0 && o.Workspace == 0)
            throw new ArgumentException("options.WorkspaceBytes is set but options.Workspace is a null pointer.", options);
        if (o.Workspace != 0 && o.WorkspaceBytes == 0)
            throw new ArgumentException("options.Workspace is set but options.WorkspaceBytes is 0.", options);
    }

    private static void CheckVarlen(VarlenLayout varlen, TensorView q, TensorView k)
    {
        const string options = "options";
        if (varlen.CuSeqlensQ == 0)
            throw new ArgumentNullException(options, "options.Varlen.CuSeqlensQ is a null pointer.");
        if (varlen.CuSeqlensK == 0)
            throw new ArgumentNullException(options, "options.Varlen.CuSeqlensK is a null pointer.");
        // Host prefix sums can be checked cheaply; device ones would need a copy and a sync.
        if (q.Device.Type != DeviceType.Cpu)
            return;
        CheckPrefixSums(new ReadOnlySpan<int>((void*)varlen.CuSeqlensQ, varlen.BatchSize + 1), "CuSeqlensQ", q.Shape[0], varlen.MaxSeqlenQ, "total_q (q.shape[0])");
        CheckPrefixSums(new ReadOnlySpan<int>((void*)varlen.CuSeqlensK, varlen.BatchSize + 1), "CuSeqlensK", k.Shape[0], varlen.MaxSeqlenK, "total_k (k.shape[0])");
    }

    internal static void CheckPrefixSums(ReadOnlySpan<int> cu, string field, long total, int maxSeqlen, string totalName)
    {
        const string options = "options";
        if (cu[0] != 0)
            throw new ArgumentException($"options.Varlen.{field}[0] must be 0; got {cu[0]}.", options);
        for (int b = 0; b + 1 < cu.Length; b++)
        {
            int len = cu[b + 1] - cu[b];
            if (len < 0)
                throw new ArgumentException($"options.Varlen.{field} must be non-decreasing; [{b}] = {cu[b]} > [{b + 1}] = {cu[b + 1]}.", options);
            if (len > maxSeqlen)
                throw new ArgumentException($"options.Varlen.{field}: sequence {b} has length {len}, above the declared maximum {maxSeqlen}.", options);
        }
        if (cu[^1] > total)
            throw new ArgumentException($"options.Varlen.{field}[{cu.Length - 1}] = {cu[^1]} exceeds {totalName} = {total}.", options);
    }
}
