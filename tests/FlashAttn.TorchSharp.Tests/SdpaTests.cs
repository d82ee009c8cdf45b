using FlashAttn.TorchSharp.Tests.Support;
using TorchSharp;
using static FlashAttn.TorchSharp.FlashAttnInterface;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

[TestFixture]
public class SdpaTests
{
    [TestCaseSource(typeof(Devices), nameof(Devices.WithCausal))]
    public void DropInMatchesTorchSharpAndTakesTheKernelPath(string deviceName, bool causal)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        Devices.Seed(31, device);
        ScalarType dt = Devices.KernelDtype(device);
        Tensor q = randn([2, 4, 29, 64], dt, device).requires_grad_(true);
        Tensor k = randn([2, 4, 29, 64], dt, device).requires_grad_(true);
        Tensor v = randn([2, 4, 29, 64], dt, device).requires_grad_(true);
        Tensor dout = randn([2, 4, 29, 64], dt, device);
        Assert.That(sdpa_fallback_reason(q, k, v, is_casual: causal), Is.Null);

        Tensor output = scaled_dot_product_attention(q, k, v, is_casual: causal);
        Assert.That(output.shape, Is.EqualTo(q.shape));
        Assert.That(output.is_contiguous(), Is.True, "a contiguous query gives a contiguous output, without copies");
        (output * dout).sum().backward();

        // Same checks as flash_attn_func, through (b, s, h, d) views of everything.
        AttentionCheck.Gradients(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), dout.transpose(1, 2), causal, null,
            output.transpose(1, 2), q.grad!.transpose(1, 2), k.grad!.transpose(1, 2), v.grad!.transpose(1, 2));
    }

    [Test]
    public void MaskDropoutAndTopLeftCausalFallBackToTorchSharp()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(32);
        Tensor q = randn([1, 2, 6, 16]), k = randn([1, 2, 9, 16]), v = randn([1, 2, 9, 16]);
        Tensor mask = ones([6, 9], ScalarType.Bool).tril();

        Assert.That(sdpa_fallback_reason(q, k, v, attn_mask: mask), Does.Contain("attn_mask"));
        Assert.That(sdpa_fallback_reason(q, k, v, p: 0.1), Does.Contain("dropout"));
        Assert.That(sdpa_fallback_reason(q, k, v, is_casual: true), Does.Contain("top-left"));
        Assert.That(sdpa_fallback_reason(q.to(ScalarType.Float64), k.to(ScalarType.Float64), v.to(ScalarType.Float64)), Does.Contain("Float64"));
        Assert.That(sdpa_fallback_reason(q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0)), Does.Contain("4-D"));
        Assert.That(sdpa_fallback_reason(q, k, v), Is.Null);

        Tensor ours = scaled_dot_product_attention(q, k, v, attn_mask: mask);
        Tensor theirs = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask);
        Close.Check(ours, theirs, 0, 0, "fallback is TorchSharp's own result");
        Close.Check(scaled_dot_product_attention(q, k, v, is_casual: true),
            nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true), 0, 0, "top-left causal fallback");
    }

    [Test]
    public void GroupedKeyValueHeadsRunOnTheKernels()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(33);
        Tensor q = randn([2, 6, 10, 32]), k = randn([2, 2, 14, 32]), v = randn([2, 2, 14, 32]);
        Assert.That(sdpa_fallback_reason(q, k, v), Is.Null);
        Tensor output = scaled_dot_product_attention(q, k, v);
        AttentionCheck.Output(output.transpose(1, 2), q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal: false);
    }
}
