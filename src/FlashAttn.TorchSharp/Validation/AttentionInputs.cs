using TorchSharp;
using static FlashAttn.TorchSharp.Validation.TensorChecks;
using TorchScalarType = TorchSharp.torch.ScalarType;

namespace FlashAttn.TorchSharp.Validation;

using DeviceType = global::TorchSharp.DeviceType;

/// <summary>Whole-call checks of q, k, v in flash-attn's layouts.</summary>
internal static class AttentionInputs
{
    private const string Padded = "(batch, seqlen, heads, head_dim)";
    private const string Packed = "(total_tokens, heads, head_dim)";

    /// <summary>q (b, s_q, h_q, d); k and v (b, s_k, h_kv, d) with h_q a multiple of h_kv.</summary>
    internal static void Padded4D(torch.Tensor q, torch.Tensor k, torch.Tensor v,
        string qName = "q", string kName = "k", string vName = "v")
    {
        Rank(q, 4, Padded, qName);
        Rank(k, 4, Padded, kName);
        Rank(v, 4, Padded, vName);
        Common(q, k, v, qName, kName, vName);
        long[] qs = q.shape, ks = k.shape;
        AtLeastOne(qs[0], "batch", q, qName);
        AtLeastOne(qs[1], "seqlen_q", q, qName);
        AtLeastOne(ks[1], "seqlen_k", k, kName);
        if (ks[0] != qs[0])
            throw new ArgumentException($"{kName}.shape[0] (batch) must equal {qName}.shape[0] = {qs[0]}; {kName} has shape {Fmt(ks)}.", kName);
        Heads(qs[2], ks[2], q, k, qName, kName);
        FitsInt32(qs[1], "seqlen_q", qName);
        FitsInt32(ks[1], "seqlen_k", kName);
    }

    /// <summary>q (total_q, h_q, d); k and v (total_k, h_kv, d); cu_seqlens int32 (batch + 1).</summary>
    internal static void Varlen3D(torch.Tensor q, torch.Tensor k, torch.Tensor v,
        torch.Tensor cu_seqlens_q, torch.Tensor cu_seqlens_k, long max_seqlen_q, long max_seqlen_k)
    {
        Rank(q, 3, Packed, nameof(q));
        Rank(k, 3, Packed, nameof(k));
        Rank(v, 3, Packed, nameof(v));
        Common(q, k, v, nameof(q), nameof(k), nameof(v));
        AtLeastOne(q.shape[0], "total_q", q, nameof(q));
        AtLeastOne(k.shape[0], "total_k", k, nameof(k));
        Heads(q.shape[1], k.shape[1], q, k, nameof(q), nameof(k));
        FitsInt32(q.shape[0], "total_q", nameof(q));
        FitsInt32(k.shape[0], "total_k", nameof(k));
        CuSeqlens(cu_seqlens_q, nameof(cu_seqlens_q), q);
        CuSeqlens(cu_seqlens_k, nameof(cu_seqlens_k), q);
        if (cu_seqlens_k.shape[0] != cu_seqlens_q.shape[0])
            throw new ArgumentException(
                $"cu_seqlens_k must have cu_seqlens_q's length batch + 1 = {cu_seqlens_q.shape[0]}; got {cu_seqlens_k.shape[0]}.",
                nameof(cu_seqlens_k));
        if (max_seqlen_q < 1 || max_seqlen_q > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(max_seqlen_q), max_seqlen_q, "max_seqlen_q must be between 1 and int.MaxValue.");
        if (max_seqlen_k < 1 || max_seqlen_k > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(max_seqlen_k), max_seqlen_k, "max_seqlen_k must be between 1 and int.MaxValue.");
        // Host prefix sums are cheap to check; device ones would need a copy and a sync, so CUDA trusts them.
        if (q.device_type == DeviceType.CPU)
        {
            PrefixSums(cu_seqlens_q, nameof(cu_seqlens_q), q.shape[0], max_seqlen_q, nameof(max_seqlen_q), "total_q (q.shape[0])");
            PrefixSums(cu_seqlens_k, nameof(cu_seqlens_k), k.shape[0], max_seqlen_k, nameof(max_seqlen_k), "total_k (k.shape[0])");
        }
    }

    private static void PrefixSums(torch.Tensor cu, string name, long total, long maxSeqlen, string maxName, string totalName)
    {
        int[] values = cu.data<int>().ToArray();
        if (values[0] != 0)
            throw new ArgumentException($"{name}[0] must be 0; got {values[0]}.", name);
        for (int b = 0; b + 1 < values.Length; b++)
        {
            long len = (long)values[b + 1] - values[b];
            if (len < 0)
                throw new ArgumentException($"{name} must be non-decreasing; [{b}] = {values[b]} > [{b + 1}] = {values[b + 1]}.", name);
            if (len > maxSeqlen)
                throw new ArgumentException($"{name}: sequence {b} has length {len}, more than {maxName} = {maxSeqlen}.", name);
        }
        if (values[^1] > total)
            throw new ArgumentException($"{name}[-1] = {values[^1]} exceeds {totalName} = {total}.", name);
    }

    private static void Common(torch.Tensor q, torch.Tensor k, torch.Tensor v, string qName, string kName, string vName)
    {
        SupportedDtype(q, qName);
        SameDtype(k, kName, q, qName);
        SameDtype(v, vName, q, qName);
        SameDevice(k, kName, q, qName);
        SameDevice(v, vName, q, qName);
        if (!v.shape.SequenceEqual(k.shape))
            throw new ArgumentException($"{vName} must have {kName}'s shape {Fmt(k.shape)}; got {Fmt(v.shape)}.", vName);
        long d = q.shape[^1];
        HeadDim(d, q, qName);
        if (k.shape[^1] != d)
            throw new ArgumentException(
                $"{kName}'s head_dim (last dimension) must equal {qName}'s {d}; {kName} has shape {Fmt(k.shape)}.", kName);
        LastDimContiguous(q, qName);
        LastDimContiguous(k, kName);
        LastDimContiguous(v, vName);
    }

    private static void Heads(long headsQ, long headsKv, torch.Tensor q, torch.Tensor k, string qName, string kName)
    {
        AtLeastOne(headsQ, "num_heads_q", q, qName);
        AtLeastOne(headsKv, "num_heads_kv", k, kName);
        if (headsQ % headsKv != 0)
            throw new ArgumentException(
                $"{qName}'s number of heads ({headsQ}) must be a multiple of {kName}'s ({headsKv}) for MQA/GQA.", kName);
    }

    private static void CuSeqlens(torch.Tensor cu, string name, torch.Tensor q)
    {
        if (cu.dtype != TorchScalarType.Int32)
            throw new ArgumentException($"{name} must have dtype Int32; got {cu.dtype}.", name);
        if (cu.dim() != 1 || cu.shape[0] < 2)
            throw new ArgumentException($"{name} must be 1-D of length batch + 1 >= 2; got shape {Fmt(cu.shape)}.", name);
        SameDevice(cu, name, q, nameof(q));
        if (!cu.is_contiguous())
            throw new ArgumentException($"{name} must be contiguous.", name);
    }
}
