using FlashAttn.TorchSharp.Kernels;
using TorchSharp;
using static TorchSharp.torch.autograd;

namespace FlashAttn.TorchSharp.Autograd;

/// <summary>
/// Autograd node of flash_attn_varlen_func: q (total_q, h, d), k and v (total_k, h_kv, d) and the int32
/// prefix sums; gradients for q, k, v only.
/// </summary>
internal sealed class FlashAttnVarlenFunction : SingleTensorFunction<FlashAttnVarlenFunction>
{
    public override string Name => "FlashAttnVarlenFunc";

    public override torch.Tensor forward(AutogradContext ctx, params object[] vars)
    {
        GradientHandles.ReleasePrevious();
        var q = (torch.Tensor)vars[0];
        var k = (torch.Tensor)vars[1];
        var v = (torch.Tensor)vars[2];
        var cuQ = (torch.Tensor)vars[3];
        var cuK = (torch.Tensor)vars[4];
        var state = (VarlenCallState)vars[5];
        var varlen = new VarlenTensors(cuQ, cuK, state.MaxSeqlenQ, state.MaxSeqlenK);
        (torch.Tensor output, torch.Tensor lse) = FlashKernels.Forward(q, k, v, state.Config, varlen);
        ctx.save_for_backward([q, k, v, output, lse, cuQ, cuK]);
        ctx.save_data(Saved.StateKey, state);
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
            var state = (VarlenCallState)ctx.get_data(Saved.StateKey);
            torch.Tensor q = saved[0], k = saved[1], v = saved[2];
            var varlen = new VarlenTensors(saved[5], saved[6], state.MaxSeqlenQ, state.MaxSeqlenK);
            // Rows past cu_seqlens[-1] belong to no sequence: zeros, not garbage, for their gradients.
            torch.Tensor dq = torch.zeros_like(q), dk = torch.zeros_like(k), dv = torch.zeros_like(v);
            FlashKernels.Backward(q, k, v, saved[3], saved[4], dout, dq, dk, dv, state.Config, varlen);
            GradientHandles.Defer(dq, dk, dv);
            return [dq, dk, dv, null!, null!, null!];
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

/// <summary><see cref="CallState"/> plus the maxima a variable-length call needs again in backward.</summary>
internal sealed class VarlenCallState : CallState
{
    internal VarlenCallState(AttentionConfig config, int maxSeqlenQ, int maxSeqlenK) : base(config)
    {
        MaxSeqlenQ = maxSeqlenQ;
        MaxSeqlenK = maxSeqlenK;
    }

    internal int MaxSeqlenQ { get; }

    internal int MaxSeqlenK { get; }
}
