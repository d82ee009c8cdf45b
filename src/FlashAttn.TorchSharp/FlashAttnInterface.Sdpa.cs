using FlashAttn.TorchSharp.Autograd;
using FlashAttn.TorchSharp.Kernels;
using FlashAttn.TorchSharp.Validation;
using TorchSharp;

namespace FlashAttn.TorchSharp;

using DeviceType = global::TorchSharp.DeviceType;

public static partial class FlashAttnInterface
{
    /// <summary>
    /// Drop-in for TorchSharp's <c>torch.nn.functional.scaled_dot_product_attention</c>, same signature and
    /// (batch, heads, seqlen, head_dim) layout. Runs the FlashAttn kernels on transposed views (no copies)
    /// when they compute exactly what TorchSharp's would, and TorchSharp's own otherwise; see
    /// <see cref="sdpa_fallback_reason"/> for the rules.
    /// </summary>
    /// <param name="query">(N, H, L, E).</param>
    /// <param name="key">(N, H_kv, S, E); H a multiple of H_kv runs as MQA/GQA on our kernels.</param>
    /// <param name="value">(N, H_kv, S, E).</param>
    /// <param name="attn_mask">Any mask falls back to TorchSharp.</param>
    /// <param name="p">Dropout probability; &gt; 0 falls back to TorchSharp.</param>
    /// <param name="is_casual">TorchSharp's spelling of is_causal.</param>
    public static torch.Tensor scaled_dot_product_attention(torch.Tensor query, torch.Tensor key, torch.Tensor value,
        torch.Tensor? attn_mask = null, double p = 0.0, bool is_casual = false)
    {
        TensorChecks.NotNull(query, nameof(query));
        TensorChecks.NotNull(key, nameof(key));
        TensorChecks.NotNull(value, nameof(value));
        if (sdpa_fallback_reason(query, key, value, attn_mask, p, is_casual) is not null)
            return torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask, p, is_casual);

        using torch.Tensor q = query.transpose(1, 2), k = key.transpose(1, 2), v = value.transpose(1, 2);
        var state = new CallState(AttentionConfig.Create(null, q.shape[3], is_casual, deterministic: false));
        // empty_like(q) keeps q's dense layout, so for a contiguous query this transpose back is contiguous.
        using torch.Tensor outBshd = Apply(() => FlashAttnFunction.apply(q, k, v, state), state, keepLse: false, out _);
        return outBshd.transpose(1, 2);
    }

    /// <summary>
    /// Why <see cref="scaled_dot_product_attention"/> would hand these arguments to TorchSharp's own
    /// implementation, or null when the FlashAttn kernels run them.
    /// </summary>
    /// <remarks>
    /// Falls back for: an attn_mask; dropout (p &gt; 0); anything but 4-D inputs; a dtype the kernels do not
    /// take on that device (CUDA: Float16/BFloat16; CPU: also Float32) or mixed dtypes/devices; a CUDA
    /// tensor when the library has no CUDA kernels; head_dim outside 1..256 (a multiple of 8 on CUDA) or a
    /// value head_dim unlike the query's; shapes that do not broadcast as MQA/GQA; empty dimensions; a
    /// head_dim that is not contiguous; and is_casual with L != S, since TorchSharp aligns that mask top-left
    /// and the kernels bottom-right.
    /// </remarks>
    public static string? sdpa_fallback_reason(torch.Tensor query, torch.Tensor key, torch.Tensor value,
        torch.Tensor? attn_mask = null, double p = 0.0, bool is_casual = false)
    {
        if (attn_mask is not null) return "an explicit attn_mask";
        if (p != 0) return "dropout (p > 0)";
        if (query.dim() != 4 || key.dim() != 4 || value.dim() != 4) return "inputs that are not 4-D (N, H, L, E)";
        if (key.dtype != query.dtype || value.dtype != query.dtype) return "mixed dtypes";
        if (key.device_type != query.device_type || key.device_index != query.device_index
            || value.device_type != query.device_type || value.device_index != query.device_index)
            return "tensors on different devices";
        bool cuda = query.device_type == DeviceType.CUDA;
        if (!cuda && query.device_type != DeviceType.CPU) return $"device {query.device}";
        bool dtypeOk = query.dtype is torch.ScalarType.Float16 or torch.ScalarType.BFloat16
            || (!cuda && query.dtype == torch.ScalarType.Float32);
        if (!dtypeOk) return $"dtype {query.dtype} on {(cuda ? "CUDA" : "the CPU")}";
        if (cuda && !FlashAttention.HasCuda) return "a flashattn library built without CUDA";
        long[] qs = query.shape, ks = key.shape, vs = value.shape;
        long e = qs[3];
        if (e < 1 || e > FlashAttention.MaxHeadDim || (cuda && e % 8 != 0)) return $"head_dim {e}";
        if (ks[3] != e || vs[3] != e) return "key/value head_dim unlike the query's";
        if (!ks.SequenceEqual(vs)) return "key and value of different shapes";
        if (ks[0] != qs[0]) return "different batch sizes";
        if (qs.Any(s => s < 1) || ks.Any(s => s < 1)) return "an empty dimension";
        if (qs[1] % ks[1] != 0) return "query heads not a multiple of key/value heads";
        if (qs[2] > int.MaxValue || ks[2] > int.MaxValue) return "sequences longer than int32";
        if (is_casual && qs[2] != ks[2]) return "is_casual with L != S (TorchSharp aligns the mask top-left)";
        foreach (torch.Tensor t in new[] { query, key, value })
        {
            if (t.stride(3) != 1 || t.stride().Any(s => s < 0)) return "a head_dim that is not contiguous";
        }
        return null;
    }
}
