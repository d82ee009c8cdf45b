using FlashAttn.TorchSharp.Tests.Support;
using TorchSharp;
using static FlashAttn.TorchSharp.FlashAttnInterface;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

[TestFixture]
public class PackedTests
{
    [TestCaseSource(typeof(Devices), nameof(Devices.WithCausal))]
    public void QkvPackedGradientIsThatOfThePackedTensor(string deviceName, bool causal)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        Devices.Seed(11, device);
        ScalarType dt = Devices.KernelDtype(device);
        Tensor qkv = randn([2, 37, 3, 4, 64], dt, device).requires_grad_(true);
        Tensor dout = randn([2, 37, 4, 64], dt, device);

        Tensor output = flash_attn_qkvpacked_func(qkv, causal: causal);
        (output * dout).sum().backward();

        Tensor q = qkv.select(2, 0), k = qkv.select(2, 1), v = qkv.select(2, 2);
        Tensor g = qkv.grad!;
        Assert.That(g.shape, Is.EqualTo(qkv.shape));
        AttentionCheck.Gradients(q, k, v, dout, causal, null, output, g.select(2, 0), g.select(2, 1), g.select(2, 2));
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.WithCausal))]
    public void KvPackedWithGqaMatchesReference(string deviceName, bool causal)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        Devices.Seed(12, device);
        ScalarType dt = Devices.KernelDtype(device);
        Tensor q = randn([2, 21, 6, 32], dt, device).requires_grad_(true);
        Tensor kv = randn([2, 45, 2, 3, 32], dt, device).requires_grad_(true);
        Tensor dout = randn([2, 21, 6, 32], dt, device);

        Tensor output = flash_attn_kvpacked_func(q, kv, out Tensor lse, causal: causal);
        (output * dout).sum().backward();

        Tensor k = kv.select(2, 0), v = kv.select(2, 1);
        Tensor g = kv.grad!;
        AttentionCheck.Gradients(q, k, v, dout, causal, null, output, q.grad!, g.select(2, 0), g.select(2, 1));
        AttentionCheck.Lse(lse, q, k, v, causal);
    }
}
