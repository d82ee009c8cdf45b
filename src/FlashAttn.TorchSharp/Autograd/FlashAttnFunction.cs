using FlashAttn.TorchSharp.Kernels;
using TorchSharp;
using static TorchSharp.torch.autograd;

namespace FlashAttn.TorchSharp.Autograd;

/// <summary>Autograd node of flash_attn_func: inputs q, k, v (b, s, h, d); gradients dq, dk, dv.</summary>
internal sealed class FlashAttnFunction : SingleTensorFunction<FlashAttnFunction>
{
    public override string Name => "FlashAttnFunc";

    public override torch.Tensor forward(AutogradContext ctx, params object[] vars)
    {
        GradientHandles.ReleasePrevious();
        var q = (torch.Tensor)vars[0];
        var k = (torch.Tensor)vars[1];
        var v = (torch.Tensor)vars[2];
        var state = (CallState)vars[3];
        (torch.Tensor output, torch.Tensor lse) = FlashKernels.Forward(q, k, v, state.Config);
        ctx.save_for_backward([q, k, v, output, lse]);
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
            torch.Tensor q = saved[0], k = saved[1], v = saved[2];
            torch.Tensor dq = torch.empty_like(q), dk = torch.empty_like(k), dv = torch.empty_like(v);
            FlashKernels.Backward(q, k, v, saved[3], saved[4], dout, dq, dk, dv, config);
            GradientHandles.Defer(dq, dk, dv);
            return [dq, dk, dv, null!];
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
