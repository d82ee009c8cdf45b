using FlashAttn.TorchSharp.Tests.Support;
using TorchSharp;
using static FlashAttn.TorchSharp.FlashAttnInterface;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

[TestFixture]
public class FlashAttnFuncTests
{
    // (batch, seqlen_q, seqlen_k, heads_q, heads_kv, head_dim): MHA, GQA, MQA, odd and unequal lengths.
    private static readonly (int B, int Sq, int Sk, int Hq, int Hk, int D)[] Shapes =
    [
        (2, 17, 17, 4, 4, 32),
        (1, 33, 65, 6, 2, 64),
        (2, 65, 31, 4, 1, 64),
        (3, 1, 7, 2, 2, 32),
        (1, 130, 130, 2, 2, 128),
    ];

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (string device in Devices.All)
            foreach (var s in Shapes)
                foreach (bool causal in new[] { false, true })
                    yield return new TestCaseData(device, s.B, s.Sq, s.Sk, s.Hq, s.Hk, s.D, causal)
                        .SetName($"{{m}}({device}, b{s.B} sq{s.Sq} sk{s.Sk} h{s.Hq}/{s.Hk} d{s.D}{(causal ? " causal" : "")})");
    }

    [TestCaseSource(nameof(Cases))]
    public void OutputAndGradientsMatchReference(string deviceName, int b, int sq, int sk, int hq, int hk, int d, bool causal)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        var (q, k, v) = AttentionCheck.Inputs(device, b, sq, sk, hq, hk, d, seed: sq * 31 + sk);
        q.requires_grad_(true);
        k.requires_grad_(true);
        v.requires_grad_(true);
        Tensor dout = randn(q.shape, q.dtype, device);

        Tensor output = flash_attn_func(q, k, v, causal: causal);
        (output * dout).sum().backward();

        AttentionCheck.Gradients(q, k, v, dout, causal, null, output, q.grad!, k.grad!, v.grad!);
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.All))]
    public void LseOverloadReturnsLogSumExpOfScaledScores(string deviceName)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        var (q, k, v) = AttentionCheck.Inputs(device, 2, 23, 40, 4, 2, 64);
        Tensor output = flash_attn_func(q, k, v, out Tensor lse, softmax_scale: 0.3, causal: true);

        Assert.That(lse.shape, Is.EqualTo(new long[] { 2, 4, 23 }));
        Assert.That(lse.requires_grad, Is.False);
        AttentionCheck.Output(output, q, k, v, causal: true, scale: 0.3);
        AttentionCheck.Lse(lse, q, k, v, causal: true, scale: 0.3);
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.All))]
    public void RowsThatSeeNoKeyGiveZeroOutputAndMinusInfinityLse(string deviceName)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        // Bottom-right causal with seqlen_q > seqlen_k: the first 5 query rows see nothing.
        var (q, k, v) = AttentionCheck.Inputs(device, 1, 13, 8, 2, 2, 32);
        Tensor output = flash_attn_func(q, k, v, out Tensor lse, causal: true);

        Tensor head = output.narrow(1, 0, 5).to(ScalarType.Float64, CPU);
        Assert.That(head.abs().max().item<double>(), Is.EqualTo(0.0));
        Assert.That(lse.narrow(2, 0, 5).isneginf().all().item<bool>(), Is.True);
        AttentionCheck.Output(output, q, k, v, causal: true);
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.All))]
    public void StridedViewsAreReadInPlace(string deviceName)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        Devices.Seed(7, device);
        ScalarType dt = Devices.KernelDtype(device);
        // q from a (b, h, s, d) tensor (head and row strides swapped), k and v narrowed out of one wider tensor.
        Tensor qBhsd = randn([2, 4, 19, 32], dt, device).requires_grad_(true);
        Tensor kvWide = randn([2, 21, 6, 32], dt, device).requires_grad_(true);
        Tensor q = qBhsd.transpose(1, 2);
        Tensor k = kvWide.narrow(2, 0, 2), v = kvWide.narrow(2, 3, 2);
        Assert.That(q.is_contiguous() || k.is_contiguous() || v.is_contiguous(), Is.False);
        Tensor dout = randn([2, 19, 4, 32], dt, device);

        Tensor output = flash_attn_func(q, k, v, causal: true);
        (output * dout).sum().backward();

        Tensor dq = qBhsd.grad!.transpose(1, 2);
        Tensor dk = kvWide.grad!.narrow(2, 0, 2), dv = kvWide.grad!.narrow(2, 3, 2);
        AttentionCheck.Gradients(q, k, v, dout, causal: true, null, output, dq, dk, dv);
        // The untouched middle head of kvWide gets no gradient.
        Assert.That(kvWide.grad!.narrow(2, 2, 1).abs().max().to(ScalarType.Float64).item<double>(), Is.EqualTo(0.0));
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.All))]
    public void ExpandedGradientFromSumIsHandled(string deviceName)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        var (q, k, v) = AttentionCheck.Inputs(device, 1, 9, 9, 2, 2, 32);
        q.requires_grad_(true);
        k.requires_grad_(true);
        v.requires_grad_(true);
        // sum()'s backward hands in a gradient expanded from a scalar: every stride 0.
        flash_attn_func(q, k, v).sum().backward();
        Tensor ones = ones_like(q);
        AttentionCheck.Gradients(q, k, v, ones, causal: false, null,
            flash_attn_func(q.detach(), k.detach(), v.detach()), q.grad!, k.grad!, v.grad!);
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.All))]
    public void NoGradModeRunsForwardOnly(string deviceName)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        var (q, k, v) = AttentionCheck.Inputs(device, 1, 16, 16, 2, 2, 64);
        q.requires_grad_(true);
        Tensor output;
        using (no_grad())
            output = flash_attn_func(q, k, v);
        Assert.That(output.requires_grad, Is.False);
        AttentionCheck.Output(output, q, k, v, causal: false);
    }

    [Test]
    public void CpuBFloat16MatchesReference()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        Tensor q = randn([1, 20, 2, 32], ScalarType.BFloat16), k = randn([1, 24, 2, 32], ScalarType.BFloat16), v = randn([1, 24, 2, 32], ScalarType.BFloat16);
        Tensor output = flash_attn_func(q, k, v, causal: true);
        Assert.That(output.dtype, Is.EqualTo(ScalarType.BFloat16));
        (Tensor expected, _) = ReferenceAttention.Forward(q, k, v, causal: true);
        (Tensor baseline, _) = ReferenceAttention.Forward(q, k, v, causal: true, computeType: ScalarType.BFloat16);
        Close.CheckLike(output, baseline, expected, 1e-2, "bf16 out");
    }
}
