using FlashAttn.TorchSharp.Kernels;
using TorchSharp;
using static TorchSharp.torch.autograd;

namespace FlashAttn.TorchSharp.Autograd;

/// <summary>
/// Autograd node of flash_attn_kvpacked_func: inputs q (b, s_q, h, d) and kv (b, s_k, 2, h_kv, d); dk and
/// dv are written into the two slices of one dkv tensor.
/// </summary>
internal sealed class FlashAttnKvPackedFunction : SingleTensorFunction<FlashAttnKvPackedFunction>
{
    public override string Name => "FlashAttnKVPackedFunc";

    public override torch.Tensor forward(AutogradContext ctx, params object[] vars)
    {
        GradientHandles.ReleasePrevious();
        var q = (torch.Tensor)vars[0];
        var kv = (torch.Tensor)vars[1];
        var state = (CallState)vars[2];
        using torch.Tensor k = kv.select(2, 0), v = kv.select(2, 1);
        (torch.Tensor output, torch.Tensor lse) = FlashKernels.Forward(q, k, v, state.Config);
        ctx.save_for_backward([q, kv, output, lse]);
        ctx.save_data(Saved.StateKey, state.Config);
        state.Lse = lse;
        state.PreWrapOutput = output;
        return output;
    }

    public override List<torch.Tensor> backward(AutogradContext ctx, torch.Tensor grad_output)
    {
        GradientHandles.ReleasePrevious();
        List<torch.Tensor> saved = ctx.get_saved_variables();
        torch.Tensor dout = Saved.LastDimContiguous(grad_output);
        try
        {
            var config = (AttentionConfig)ctx.get_data(Saved.StateKey);
            torch.Tensor q = saved[0], kv = saved[1];
            torch.Tensor dq = torch.empty_like(q), dkv = torch.empty_like(kv);
            using torch.Tensor k = kv.select(2, 0), v = kv.select(2, 1);
            using torch.Tensor dk = dkv.select(2, 0), dv = dkv.select(2, 1);
            FlashKernels.Backward(q, k, v, saved[2], saved[3], dout, dq, dk, dv, config);
            GradientHandles.Defer(dq, dkv);
            return [dq, dkv, null!];
        }
        finally
        {
            if (!ReferenceEquals(dout, grad_output))
                dout.Dispose();
            grad_output.Dispose();
            Saved.DisposeAll(saved);
        }
    }
}
