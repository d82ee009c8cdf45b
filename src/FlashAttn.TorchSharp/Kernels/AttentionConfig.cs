namespace FlashAttn.TorchSharp.Kernels;

/// <summary>The non-tensor part of one attention call, fixed at forward time and reused by its backward.</summary>
internal sealed record AttentionConfig(float SoftmaxScale, bool Causal, bool Deterministic)
{
    internal static AttentionConfig Create(double? softmax_scale, long headDim, bool causal, bool deterministic)
    {
        double scale = softmax_scale ?? 1.0 / Math.Sqrt(headDim);
        if (!double.IsFinite(scale) || scale <= 0 || !float.IsFinite((float)scale) || (float)scale <= 0)
            throw new ArgumentOutOfRangeException(nameof(softmax_scale), softmax_scale,
                "softmax_scale must be finite and > 0 (null means 1/sqrt(head_dim)).");
        return new AttentionConfig((float)scale, causal, deterministic);
    }

    internal AttentionOptions ToOptions(VarlenLayout? varlen) => new()
    {
        SoftmaxScale = SoftmaxScale,
        Causal = Causal,
        Deterministic = Deterministic,
        // TorchSharp 0.107 has no API for the current CUDA stream, so work goes on the legacy default
        // stream, which is PyTorch's default current stream: ordered with TorchSharp's own kernels.
        Stream = 0,
        Varlen = varlen,
    };
}
