namespace FlashAttn.TorchSharp.Validation;

/// <summary>
/// flash-attn's Python arguments that these kernels do not implement yet. They are rejected rather than
/// ignored: silently dropping dropout or a window would train a different model than the caller asked for.
/// </summary>
internal static class UnsupportedFeatures
{
    internal static void Check(double dropout_p, (int Left, int Right)? window_size, double softcap,
        object? alibi_slopes, bool return_attn_probs)
    {
        if (double.IsNaN(dropout_p) || dropout_p < 0 || dropout_p >= 1)
            throw new ArgumentOutOfRangeException(nameof(dropout_p), dropout_p, "dropout_p must be in [0, 1).");
        if (dropout_p > 0)
            throw new ArgumentException(
                $"dropout_p = {dropout_p}: attention dropout is not supported yet; pass 0 (FlashMHA can apply dropout to its output instead).",
                nameof(dropout_p));
        if (window_size is { } w && (w.Left, w.Right) != (-1, -1))
            throw new ArgumentException(
                $"window_size = ({w.Left}, {w.Right}): sliding-window (local) attention is not supported yet; pass null or (-1, -1).",
                nameof(window_size));
        if (double.IsNaN(softcap) || softcap < 0)
            throw new ArgumentOutOfRangeException(nameof(softcap), softcap, "softcap must be >= 0.");
        if (softcap > 0)
            throw new ArgumentException($"softcap = {softcap}: logit soft-capping is not supported yet; pass 0.", nameof(softcap));
        if (alibi_slopes is not null)
            throw new ArgumentException("alibi_slopes: ALiBi biases are not supported yet; pass null.", nameof(alibi_slopes));
        if (return_attn_probs)
            throw new ArgumentException(
                "return_attn_probs: returning the attention probabilities is not supported yet; use the overload with 'out softmax_lse' for the log-sum-exp.",
                nameof(return_attn_probs));
    }
}
