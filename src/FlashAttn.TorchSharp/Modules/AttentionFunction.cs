using TorchSharp;

namespace FlashAttn.TorchSharp.Modules;

/// <summary>
/// The attention core <see cref="FlashMHA"/> runs between its projections: q (batch, seqlen_q, heads,
/// head_dim), k and v (batch, seqlen_k, kv_heads, head_dim) with heads a multiple of kv_heads; returns
/// (batch, seqlen_q, heads, head_dim). Swap it to compare implementations inside one module.
/// </summary>
public delegate torch.Tensor AttentionFunction(torch.Tensor q, torch.Tensor k, torch.Tensor v, bool causal, double softmaxScale);

/// <summary>Ready-made <see cref="AttentionFunction"/>s.</summary>
public static class AttentionFunctions
{
    /// <summary>The FlashAttn kernels (<see cref="FlashAttnInterface.flash_attn_func(torch.Tensor, torch.Tensor, torch.Tensor, double, double?, bool, ValueTuple{int, int}?, double, torch.Tensor?, bool, bool)"/>).</summary>
    public static AttentionFunction Flash { get; } =
        (q, k, v, causal, scale) => FlashAttnInterface.flash_attn_func(q, k, v, softmax_scale: scale, causal: causal);

    /// <summary>
    /// TorchSharp's own <c>scaled_dot_product_attention</c>, for comparison: (b, h, s, d) transposes, kv heads
    /// repeated for GQA (TorchSharp 0.107 has no enable_gqa) and q pre-scaled when the scale is not the default.
    /// </summary>
    public static AttentionFunction TorchSdpa { get; } = (q, k, v, causal, scale) =>
    {
        using var scope = torch.NewDisposeScope();
        long heads = q.shape[2], kvHeads = k.shape[2], d = q.shape[3];
        torch.Tensor qt = q.transpose(1, 2), kt = k.transpose(1, 2), vt = v.transpose(1, 2);
        if (kvHeads != heads)
        {
            kt = kt.repeat_interleave(heads / kvHeads, dim: 1);
            vt = vt.repeat_interleave(heads / kvHeads, dim: 1);
        }
        double defaultScale = 1.0 / Math.Sqrt(d);
        if (Math.Abs(scale - defaultScale) > 1e-12 * defaultScale)
            qt = qt * (scale / defaultScale);
        torch.Tensor o = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_casual: causal);
        return o.transpose(1, 2).MoveToOuterDisposeScope();
    };
}
