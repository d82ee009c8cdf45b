using FlashAttn.TorchSharp.Autograd;
using FlashAttn.TorchSharp.Kernels;
using FlashAttn.TorchSharp.Validation;
using TorchSharp;
using static FlashAttn.TorchSharp.Validation.TensorChecks;

namespace FlashAttn.TorchSharp;

public static partial class FlashAttnInterface
{
    /// <summary>
    /// Self-attention on a packed qkv (batch, seqlen, 3, num_heads, head_dim), as a fused QKV projection
    /// produces it; the gradient is that of qkv. Returns out (batch, seqlen, num_heads, head_dim).
    /// </summary>
    public static torch.Tensor flash_attn_qkvpacked_func(torch.Tensor qkv, double dropout_p = 0.0, double? softmax_scale = null,
        bool causal = false, (int Left, int Right)? window_size = null, double softcap = 0.0, torch.Tensor? alibi_slopes = null,
        bool deterministic = false, bool return_attn_probs = false)
        => QkvPacked(qkv, dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic,
            return_attn_probs, keepLse: false, out _);

    /// <summary>As the other overload, also returning the LSE (batch, num_heads, seqlen).</summary>
    public static torch.Tensor flash_attn_qkvpacked_func(torch.Tensor qkv, out torch.Tensor softmax_lse, double dropout_p = 0.0,
        double? softmax_scale = null, bool causal = false, (int Left, int Right)? window_size = null, double softcap = 0.0,
        torch.Tensor? alibi_slopes = null, bool deterministic = false, bool return_attn_probs = false)
    {
        torch.Tensor output = QkvPacked(qkv, dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes,
            deterministic, return_attn_probs, keepLse: true, out torch.Tensor? lse);
        softmax_lse = lse!;
        return output;
    }

    /// <summary>
    /// Attention with q (batch, seqlen_q, num_heads, head_dim) and a packed kv (batch, seqlen_k, 2,
    /// num_heads_kv, head_dim); gradients are those of q and kv.
    /// </summary>
    public static torch.Tensor flash_attn_kvpacked_func(torch.Tensor q, torch.Tensor kv, double dropout_p = 0.0,
        double? softmax_scale = null, bool causal = false, (int Left, int Right)? window_size = null, double softcap = 0.0,
        torch.Tensor? alibi_slopes = null, bool deterministic = false, bool return_attn_probs = false)
        => KvPacked(q, kv, dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic,
            return_attn_probs, keepLse: false, out _);

    /// <summary>As the other overload, also returning the LSE (batch, num_heads, seqlen_q).</summary>
    public static torch.Tensor flash_attn_kvpacked_func(torch.Tensor q, torch.Tensor kv, out torch.Tensor softmax_lse,
        double dropout_p = 0.0, double? softmax_scale = null, bool causal = false, (int Left, int Right)? window_size = null,
        double softcap = 0.0, torch.Tensor? alibi_slopes = null, bool deterministic = false, bool return_attn_probs = false)
    {
        torch.Tensor output = KvPacked(q, kv, dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes,
            deterministic, return_attn_probs, keepLse: true, out torch.Tensor? lse);
        softmax_lse = lse!;
        return output;
    }

    private static torch.Tensor QkvPacked(torch.Tensor? qkv, double dropout_p, double? softmax_scale, bool causal,
        (int, int)? window_size, double softcap, torch.Tensor? alibi_slopes, bool deterministic, bool return_attn_probs,
        bool keepLse, out torch.Tensor? lse)
    {
        NotNull(qkv, nameof(qkv));
        UnsupportedFeatures.Check(dropout_p, window_size, softcap, alibi_slopes, return_attn_probs);
        PackedDim(qkv!, 3, "(batch, seqlen, 3, num_heads, head_dim)", nameof(qkv));
        using (torch.Tensor q = qkv!.select(2, 0), k = qkv.select(2, 1), v = qkv.select(2, 2))
            AttentionInputs.Padded4D(q, k, v, nameof(qkv), nameof(qkv), nameof(qkv));
        var state = new CallState(AttentionConfig.Create(softmax_scale, qkv.shape[4], causal, deterministic));
        return Apply(() => FlashAttnQkvPackedFunction.apply(qkv, state), state, keepLse, out lse);
    }

    private static torch.Tensor KvPacked(torch.Tensor? q, torch.Tensor? kv, double dropout_p, double? softmax_scale,
        bool causal, (int, int)? window_size, double softcap, torch.Tensor? alibi_slopes, bool deterministic,
        bool return_attn_probs, bool keepLse, out torch.Tensor? lse)
    {
        NotNull(q, nameof(q));
        NotNull(kv, nameof(kv));
        UnsupportedFeatures.Check(dropout_p, window_size, softcap, alibi_slopes, return_attn_probs);
        PackedDim(kv!, 2, "(batch, seqlen_k, 2, num_heads_kv, head_dim)", nameof(kv));
        using (torch.Tensor k = kv!.select(2, 0), v = kv.select(2, 1))
            AttentionInputs.Padded4D(q!, k, v, nameof(q), nameof(kv), nameof(kv));
        var state = new CallState(AttentionConfig.Create(softmax_scale, q!.shape[3], causal, deterministic));
        return Apply(() => FlashAttnKvPackedFunction.apply(q, kv, state), state, keepLse, out lse);
    }

    private static void PackedDim(torch.Tensor t, long count, string layout, string name)
    {
        Rank(t, 5, layout, name);
        if (t.shape[2] != count)
            throw new ArgumentException($"{name} must be {layout}: dimension 2 must be {count}; got shape {Fmt(t.shape)}.", name);
    }
}
