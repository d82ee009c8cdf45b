using TorchSharp;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests.Support;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

/// <summary>
/// Attention written plainly with TorchSharp ops, in float64, in flash-attn's (b, s, h, d) layout: the
/// oracle the kernels are checked against. Causal masks are bottom-right aligned; rows that see no key
/// give out 0 and lse -inf, as flashattn.h specifies.
/// </summary>
public static class ReferenceAttention
{
    public static (Tensor Out, Tensor Lse) Forward(Tensor q, Tensor k, Tensor v, bool causal, double? softmaxScale = null,
        ScalarType computeType = ScalarType.Float64)
    {
        using var scope = NewDisposeScope();
        long hq = q.shape[2], hk = k.shape[2], sq = q.shape[1], sk = k.shape[1], d = q.shape[3];
        double scale = softmaxScale ?? 1.0 / Math.Sqrt(d);
        Tensor qd = q.to(computeType), kd = k.to(computeType), vd = v.to(computeType);
        if (hk != hq)
        {
            kd = kd.repeat_interleave(hq / hk, dim: 2);
            vd = vd.repeat_interleave(hq / hk, dim: 2);
        }
        Tensor scores = einsum("bqhd,bkhd->bhqk", qd, kd) * scale;
        if (causal)
        {
            Tensor i = arange(sq, ScalarType.Int64, q.device).unsqueeze(1);
            Tensor j = arange(sk, ScalarType.Int64, q.device).unsqueeze(0);
            Tensor hidden = j > i + (sk - sq);
            scores = scores.masked_fill(hidden, double.NegativeInfinity);
        }
        Tensor lse = scores.logsumexp(-1);                                     // (b, h, sq)
        Tensor probs = (scores - lse.unsqueeze(-1)).exp().nan_to_num(0.0);      // -inf rows: 0, not NaN
        Tensor output = einsum("bhqk,bkhd->bqhd", probs, vd);
        return (output.MoveToOuterDisposeScope(), lse.MoveToOuterDisposeScope());
    }

    /// <summary>Output and q/k/v gradients of sum(out * dout), computed in <paramref name="computeType"/>.</summary>
    public static (Tensor Out, Tensor Dq, Tensor Dk, Tensor Dv) WithGradients(Tensor q, Tensor k, Tensor v, Tensor dout,
        bool causal, double? softmaxScale = null, ScalarType computeType = ScalarType.Float64)
    {
        using var scope = NewDisposeScope();
        Tensor q64 = q.detach().to(computeType).requires_grad_(true);
        Tensor k64 = k.detach().to(computeType).requires_grad_(true);
        Tensor v64 = v.detach().to(computeType).requires_grad_(true);
        (Tensor output, _) = Forward(q64, k64, v64, causal, softmaxScale, computeType);
        Tensor loss = (output * dout.to(computeType)).sum();
        loss.backward();
        return (output.detach().MoveToOuterDisposeScope(), q64.grad!.detach().MoveToOuterDisposeScope(),
            k64.grad!.detach().MoveToOuterDisposeScope(), v64.grad!.detach().MoveToOuterDisposeScope());
    }

    /// <summary>An <see cref="Modules.AttentionFunction"/> running this reference (in float64, cast back).</summary>
    public static Modules.AttentionFunction AsAttentionFunction() => (q, k, v, causal, scale) =>
    {
        using var scope = NewDisposeScope();
        (Tensor output, _) = Forward(q, k, v, causal, scale);
        return output.to(q.dtype).MoveToOuterDisposeScope();
    };
}
