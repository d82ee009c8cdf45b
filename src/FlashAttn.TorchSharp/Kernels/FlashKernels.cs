using FlashAttn.TorchSharp.Interop;
using TorchSharp;
using static FlashAttn.TorchSharp.Interop.TorchViews;
using TorchScalarType = TorchSharp.torch.ScalarType;

namespace FlashAttn.TorchSharp.Kernels;

using DeviceType = global::TorchSharp.DeviceType;

/// <summary>
/// Runs the native forward and backward on TorchSharp tensors: TorchSharp allocates every output on the
/// inputs' device (so CUDA memory comes from its caching allocator) and the core is handed strided views.
/// Callers have validated the inputs.
/// </summary>
internal static class FlashKernels
{
    /// <summary>out like q (empty_like keeps q's layout, as flash-attn does) and float32 LSE.</summary>
    internal static (torch.Tensor Out, torch.Tensor Lse) Forward(torch.Tensor q, torch.Tensor k, torch.Tensor v,
        AttentionConfig config, VarlenTensors? varlen = null)
    {
        // Packed rows past cu_seqlens[-1] belong to no sequence; zero them rather than leave garbage (or NaN)
        // for a loss that sums over every row.
        torch.Tensor output = varlen is null ? torch.empty_like(q) : torch.zeros_like(q);
        long[] lseShape = varlen is null
            ? [q.shape[0], q.shape[2], q.shape[1]]
            : [q.shape[1], q.shape[0]];
        torch.Tensor lse = torch.empty(lseShape, TorchScalarType.Float32, q.device);
        try
        {
            FlashAttention.Forward(View(q, "q"), View(k, "k"), View(v, "v"), View(output, "output"), View(lse, "softmax_lse"),
                config.ToOptions(varlen?.Layout()));
        }
        catch
        {
            output.Dispose();
            lse.Dispose();
            throw;
        }
        return (output, lse);
    }

    /// <summary>Overwrites dq, dk, dv (which may be strided views into one packed gradient).</summary>
    internal static void Backward(torch.Tensor q, torch.Tensor k, torch.Tensor v, torch.Tensor output, torch.Tensor lse,
        torch.Tensor dout, torch.Tensor dq, torch.Tensor dk, torch.Tensor dv, AttentionConfig config, VarlenTensors? varlen = null)
    {
        TensorView qv = View(q, "q"), kv = View(k, "k"), vv = View(v, "v"), ov = View(output, "output"), lv = View(lse, "softmax_lse");
        TensorView dov = View(dout, "dout"), dqv = View(dq, "dq"), dkv = View(dk, "dk"), dvv = View(dv, "dv");
        AttentionOptions options = config.ToOptions(varlen?.Layout());

        torch.Tensor? workspace = null;
        try
        {
            if (q.device_type == DeviceType.CUDA)
            {
                ulong bytes = FlashAttention.BackwardWorkspaceSize(qv, kv, vv, ov, lv, dov, dqv, dkv, dvv, options);
                if (bytes > 0)
                {
                    // A byte tensor, so the scratch comes from (and returns to) TorchSharp's caching allocator;
                    // freeing it right after queueing is safe because reuse is ordered on the same stream.
                    workspace = torch.empty([(long)bytes], TorchScalarType.Byte, q.device);
                    options.Workspace = LibTorchSharpData.DataPtr(workspace, "workspace");
                    options.WorkspaceBytes = bytes;
                }
            }
            FlashAttention.Backward(qv, kv, vv, ov, lv, dov, dqv, dkv, dvv, options);
        }
        finally
        {
            workspace?.Dispose();
        }
    }
}

/// <summary>cu_seqlens tensors and maxima of a variable-length call.</summary>
internal sealed record VarlenTensors(torch.Tensor CuSeqlensQ, torch.Tensor CuSeqlensK, int MaxSeqlenQ, int MaxSeqlenK)
{
    internal VarlenLayout Layout() => new(
        LibTorchSharpData.DataPtr(CuSeqlensQ, "cu_seqlens_q"),
        LibTorchSharpData.DataPtr(CuSeqlensK, "cu_seqlens_k"),
        (int)CuSeqlensQ.shape[0] - 1,
        MaxSeqlenQ,
        MaxSeqlenK);
}
