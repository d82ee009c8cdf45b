using FlashAttn.TorchSharp.Autograd;
using FlashAttn.TorchSharp.Kernels;
using FlashAttn.TorchSharp.Validation;
using TorchSharp;

namespace FlashAttn.TorchSharp;

/// <summary>
/// flash-attn's Python interface for TorchSharp tensors: <c>flash_attn_func</c> and its packed and
/// variable-length variants, each a <c>torch.autograd</c> Function whose forward and backward run the
/// FlashAttn kernels (CPU tensors on the CPU backend, CUDA tensors on the CUDA backends).
/// </summary>
/// <remarks>
/// Layout is flash-attn's: (batch, seqlen, heads, head_dim). Any batch, sequence and head strides are
/// used as they are; head_dim must be contiguous. Causal masking is bottom-right aligned (flash-attn
/// &gt;= 2.1). Arguments these kernels do not implement (dropout_p &gt; 0, window_size, softcap,
/// alibi_slopes, return_attn_probs) throw <see cref="ArgumentException"/> saying "not supported yet".
/// Import with <c>using static FlashAttn.TorchSharp.FlashAttnInterface;</c>.
/// </remarks>
public static partial class FlashAttnInterface
{
    /// <summary>
    /// softmax(softmax_scale · q kᵀ [+ causal mask]) v for q (b, s_q, h, d) and k, v (b, s_k, h_kv, d), with
    /// h a multiple of h_kv (MQA/GQA). Returns out (b, s_q, h, d).
    /// </summary>
    /// <param name="q">(batch, seqlen_q, num_heads, head_dim): Float16/BFloat16 on CUDA; also Float32 on the CPU.</param>
    /// <param name="k">(batch, seqlen_k, num_heads_kv, head_dim), same dtype and device as q.</param>
    /// <param name="v">Same shape as k.</param>
    /// <param name="dropout_p">Must be 0: attention dropout is not supported yet.</param>
    /// <param name="softmax_scale">Defaults to 1/sqrt(head_dim).</param>
    /// <param name="causal">Bottom-right aligned causal mask.</param>
    /// <param name="window_size">Must be null or (-1, -1): local attention is not supported yet.</param>
    /// <param name="softcap">Must be 0: soft-capping is not supported yet.</param>
    /// <param name="alibi_slopes">Must be null: ALiBi is not supported yet.</param>
    /// <param name="deterministic">Bitwise reproducible backward (slower on CUDA).</param>
    /// <param name="return_attn_probs">Must be false: use the overload with <c>out softmax_lse</c>.</param>
    public static torch.Tensor flash_attn_func(torch.Tensor q, torch.Tensor k, torch.Tensor v,
        double dropout_p = 0.0, double? softmax_scale = null, bool causal = false, (int Left, int Right)? window_size = null,
        double softcap = 0.0, torch.Tensor? alibi_slopes = null, bool deterministic = false, bool return_attn_probs = false)
        => Padded(q, k, v, dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic,
            return_attn_probs, keepLse: false, out _);

    /// <summary>
    /// As <see cref="flash_attn_func(torch.Tensor, torch.Tensor, torch.Tensor, double, double?, bool, ValueTuple{int, int}?, double, torch.Tensor?, bool, bool)"/>,
    /// also returning (flash-attn's return_lse) the float32 log-sum-exp of each query row's scaled scores,
    /// (batch, num_heads, seqlen_q); it is not differentiable.
    /// </summary>
    public static torch.Tensor flash_attn_func(torch.Tensor q, torch.Tensor k, torch.Tensor v, out torch.Tensor softmax_lse,
        double dropout_p = 0.0, double? softmax_scale = null, bool causal = false, (int Left, int Right)? window_size = null,
        double softcap = 0.0, torch.Tensor? alibi_slopes = null, bool deterministic = false, bool return_attn_probs = false)
    {
        torch.Tensor output = Padded(q, k, v, dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes,
            deterministic, return_attn_probs, keepLse: true, out torch.Tensor? lse);
        softmax_lse = lse!;
        return output;
    }

    private static torch.Tensor Padded(torch.Tensor? q, torch.Tensor? k, torch.Tensor? v, double dropout_p,
        double? softmax_scale, bool causal, (int, int)? window_size, double softcap, torch.Tensor? alibi_slopes,
        bool deterministic, bool return_attn_probs, bool keepLse, out torch.Tensor? lse)
    {
        TensorChecks.NotNull(q, nameof(q));
        TensorChecks.NotNull(k, nameof(k));
        TensorChecks.NotNull(v, nameof(v));
        UnsupportedFeatures.Check(dropout_p, window_size, softcap, alibi_slopes, return_attn_probs);
        AttentionInputs.Padded4D(q!, k!, v!);
        var state = new CallState(AttentionConfig.Create(softmax_scale, q!.shape[3], causal, deterministic));
        return Apply(() => FlashAttnFunction.apply(q, k, v, state), state, keepLse, out lse);
    }

    /// <summary>Runs a Function and always releases the forward's own handles, on failure too.</summary>
    internal static torch.Tensor Apply(Func<torch.Tensor> apply, CallState state, bool keepLse, out torch.Tensor? lse)
    {
        torch.Tensor output;
        try
        {
            output = apply();
        }
        catch
        {
            state.Finish(keepLse: false);
            throw;
        }
        lse = state.Finish(keepLse);
        return output;
    }
}
