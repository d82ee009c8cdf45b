using TorchSharp;

namespace FlashAttn.TorchSharp.Autograd;

/// <summary>
/// Releases the managed handles of gradients a backward returned, one backward later on the same thread.
/// </summary>
/// <remarks>
/// TorchSharp copies the returned at::Tensor handles right after backward returns, but the managed
/// wrappers run on autograd's engine thread, outside any DisposeScope, and would otherwise keep the
/// gradients' (often GPU) memory alive until the garbage collector finalizes them. By the next backward
/// on this thread the copies have certainly been taken. Per thread, because the engine runs one thread per
/// device and another thread's handles may not have been copied yet.
/// </remarks>
internal static class GradientHandles
{
    [ThreadStatic] private static List<torch.Tensor>? s_pending;

    internal static void ReleasePrevious()
    {
        List<torch.Tensor>? pending = s_pending;
        if (pending is null) return;
        foreach (torch.Tensor t in pending)
            t.Dispose();
        pending.Clear();
    }

    internal static void Defer(params torch.Tensor?[] tensors)
    {
        s_pending ??= new List<torch.Tensor>();
        foreach (torch.Tensor? t in tensors)
        {
            if (t is not null)
                s_pending.Add(t);
        }
    }
}
