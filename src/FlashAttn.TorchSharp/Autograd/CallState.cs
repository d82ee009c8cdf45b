using TorchSharp;

namespace FlashAttn.TorchSharp.Autograd;

/// <summary>
/// Passed to a Function's forward as a plain (non-tensor) argument: carries the call's configuration in
/// and the LSE and pre-wrap output handles out.
/// </summary>
/// <remarks>
/// The LSE is returned this way rather than as a second Function output because TorchSharp 0.107 keeps an
/// empty_like of every output alive until backward, and because it is not differentiable. The pre-wrap
/// output handle is disposed as soon as apply() returns, so it does not pin the output's memory until the
/// garbage collector runs.
/// </remarks>
internal class CallState
{
    internal CallState(Kernels.AttentionConfig config) => Config = config;

    internal Kernels.AttentionConfig Config { get; }

    internal torch.Tensor? Lse { get; set; }

    internal torch.Tensor? PreWrapOutput { get; set; }

    /// <summary>Releases the forward's own handles; returns the LSE when the caller asked for it.</summary>
    internal torch.Tensor? Finish(bool keepLse)
    {
        PreWrapOutput?.Dispose();
        PreWrapOutput = null;
        torch.Tensor? lse = Lse;
        Lse = null;
        if (keepLse)
            return lse;
        lse?.Dispose();
        return null;
    }
}
