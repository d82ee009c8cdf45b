using TorchSharp;

namespace FlashAttn.TorchSharp.Autograd;

/// <summary>Small helpers shared by the Functions' backward passes.</summary>
internal static class Saved
{
    internal const string StateKey = "flashattn.state";

    /// <summary>Autograd may hand in expanded gradients (stride 0 in head_dim, e.g. after sum()).</summary>
    internal static torch.Tensor LastDimContiguous(torch.Tensor t)
    {
        long last = t.dim() - 1;
        return t.shape[last] <= 1 || t.stride((int)last) == 1 ? t : t.contiguous();
    }

    internal static void DisposeAll(IEnumerable<torch.Tensor?> tensors)
    {
        foreach (torch.Tensor? t in tensors)
            t?.Dispose();
    }
}
