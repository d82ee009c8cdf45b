using FlashAttn.TorchSharp.Autograd;
using FlashAttn.TorchSharp.Kernels;
using FlashAttn.TorchSharp.Validation;
using TorchSharp;
using static FlashAttn.TorchSharp.Validation.TensorChecks;

namespace FlashAttn.TorchSharp;

public static partial class FlashAttnInterface
{
    /// <summary>
    /// Attention over a batch of sequences of different lengths packed without padding: q (total_q,
    /// num_heads, head_dim), k and v (total_k, num_heads_kv, head_dim); sequence b is rows
    /// cu_seqlens[b] .. cu_seqlens[b+1]. Returns out (total_q, num_heads, head_dim).
    /// </summary>
    /// <param name="q">(total_q, num_heads, head_dim).</param>
    /// <param name="k">(total_k, num_heads_kv, head_dim).</param>
    /// <param name="v">Same shape as k.</param>
    /// <param name="cu_seqlens_q">Int32 (batch + 1) prefix sums of the query lengths, on q's device, starting at 0.</param>
    /// <param name="cu_seqlens_k">Int32 (batch + 1) prefix sums of the key lengths.</param>
    /// <param name="max_seqlen_q">Longest query sequence.</param>
    /// <param name="max_seqlen_k">Longest key sequence.</param>
    /// <param name="dropout_p">Must be 0 (not supported yet).</param>
    /// <param name="softmax_scale">Defaults to 1/sqrt(head_dim).</param>
    /// <param name="causal">Bottom-right aligned within each sequence.</param>
    /// <param name="window_size">Must be null or (-1, -1) (not supported yet).</param>
    /// <param name="softcap">Must be 0 (not supported yet).</param>
    /// <param name="alibi_slopes">Must be null (not supported yet).</param>
    /// <param name="deterministic">Bitwise reproducible backward.</param>
    /// <param name="return_attn_probs">Must be false (not supported yet).</param>
    /// <remarks>The prefix sums are checked on the CPU; on CUDA they are trusted (checking them would need a copy and a sync).</remarks>
    public static torch.Tensor flash_attn_varlen_func(torch.Tensor q, torch.Tensor k, torch.Tensor v,
        torch.Tensor cu_seqlens_q, torch.Tensor cu_seqlens_k, long max_seqlen_q, long max_seqlen_k,
        double dropout_p = 0.0, double? softmax_scale = null, bool causal = false, (int Left, int Right)? window_size = null,
        double softcap = 0.0, torch.Tensor? alibi_slopes = null, bool deterministic = false, bool return_attn_probs = false)
        => Varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, dropout_p, softmax_scale, causal,
            window_size, softcap, alibi_slopes, deterministic, return_attn_probs, keepLse: false, out _);

    /// <summary>As the other overload, also returning the LSE (num_heads, total_q).</summary>
    public static torch.Tensor flash_attn_varlen_func(torch.Tensor q, torch.Tensor k, torch.Tensor v,
        torch.Tensor cu_seqlens_q, torch.Tensor cu_seqlens_k, long max_seqlen_q, long max_seqlen_k, out torch.Tensor softmax_lse,
        double dropout_p = 0.0, double? softmax_scale = null, bool causal = false, (int Left, int Right)? window_size = null,
        double softcap = 0.0, torch.Tensor? alibi_slopes = null, bool deterministic = false, bool return_attn_probs = false)
    {
        torch.Tensor output = Varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, dropout_p,
            softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic, return_attn_probs, keepLse: true,
            out torch.Tensor? lse);
        softmax_lse = lse!;
        return output;
    }

    private static torch.Tensor Varlen(torch.Tensor? q, torch.Tensor? k, torch.Tensor? v, torch.Tensor? cu_seqlens_q,
        torch.Tensor? cu_seqlens_k, long max_seqlen_q, long max_seqlen_k, double dropout_p, double? softmax_scale,
        bool causal, (int, int)? window_size, double softcap, torch.Tensor? alibi_slopes, bool deterministic,
        bool return_attn_probs, bool keepLse, out torch.Tensor? lse)
    {
        NotNull(q, nameof(q));
        NotNull(k, nameof(k));
        NotNull(v, nameof(v));
        NotNull(cu_seqlens_q, nameof(cu_seqlens_q));
        NotNull(cu_seqlens_k, nameof(cu_seqlens_k));
        UnsupportedFeatures.Check(dropout_p, window_size, softcap, alibi_slopes, return_attn_probs);
        AttentionInputs.Varlen3D(q!, k!, v!, cu_seqlens_q!, cu_seqlens_k!, max_seqlen_q, max_seqlen_k);
        var state = new VarlenCallState(AttentionConfig.Create(softmax_scale, q!.shape[2], causal, deterministic),
            (int)max_seqlen_q, (int)max_seqlen_k);
        return Apply(() => FlashAttnVarlenFunction.apply(q, k, v, cu_seqlens_q, cu_seqlens_k, state), state, keepLse, out lse);
    }
}
