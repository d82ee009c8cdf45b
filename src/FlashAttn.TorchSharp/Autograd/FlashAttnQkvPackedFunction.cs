using FlashAttn.TorchSharp.Kernels;
using TorchSharp;
using static TorchSharp.torch.autograd;

namespace FlashAttn.TorchSharp.Autograd;

/// <summary>
/// Autograd node of flash_attn_qkvpacked_func: input qkv (b, s, 3, h, d); its gradient is written by the
/// kernel straight into the three slices of one dqkv tensor, so no concatenation follows.
/// </summary>
internal sealed class FlashAttnQkvPackedFunction : SingleTensorFunction<FlashAttnQkvPackedFunction>
{
    public override string Name => "FlashAttnQKVPackedFunc";

    public override torch.Tensor forward(AutogradContext ctx, params object[] vars)
    {
        GradientHandles.ReleasePrevious();
        var qkv = (torch.Tensor)vars[0];
        var state = (CallState)vars[1];
        using torch.Tensor q = qkv.select(2, 0), k = qkv.select(2, 1), v = qkv.select(2, 2);
        (torch.Tensor output, torch.Tensor lse) = FlashKernels.Forward(q, k, v, state.Config);
        ctx.save_for_backward([qkv, output, lse]);
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
            torch.Tensor qkv = saved[0];
            torch.Tensor dqkv = torch.empty_like(qkv);
            using torch.Tensor q = qkv.select(2, 0), k = qkv.select(2, 1), v = qkv.select(2, 2);
            using torch.Tensor dq = dqkv.select(2, 0), dk = dqkv.select(2, 1), dv = dqkv.select(2, 2);
            FlashKernels.Backward(q, k, v, saved[1], saved[2], dout, dq, dk, dv, config);
            GradientHandles.Defer(dqkv);
            return [dqkv, null!];
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
