using FlashAttn.TorchSharp.Modules;
using FlashAttn.TorchSharp.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

[TestFixture]
public class FlashMHATests
{
    // (heads, kv_heads, rotary_dim, causal): the packed MHA path, GQA, MQA, with and without RoPE.
    private static readonly (int H, int Hkv, int Rotary, bool Causal)[] Configs =
    [
        (4, 4, 0, true),
        (4, 4, 0, false),
        (4, 2, 16, true),
        (4, 1, 8, false),
    ];

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (string device in Devices.All)
            foreach (var c in Configs)
                yield return new TestCaseData(device, c.H, c.Hkv, c.Rotary, c.Causal)
                    .SetName($"{{m}}({device}, h{c.H}/{c.Hkv}, rotary {c.Rotary}{(c.Causal ? ", causal" : "")})");
    }

    /// <summary>
    /// A loss through FlashMHA back to its weights and input equals the same module (same initial weights)
    /// running the float64 reference attention.
    /// </summary>
    [TestCaseSource(nameof(Cases))]
    public void EndToEndGradientsMatchReferenceModule(string deviceName, int heads, int kvHeads, int rotary, bool causal)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        ScalarType dt = Devices.KernelDtype(device);
        const long embed = 128;
        FlashMHA Make(AttentionFunction? attention)
        {
            Devices.Seed(41, device);
            return new FlashMHA(embed, heads, kvHeads, causal: causal, rotary_dim: rotary, attention: attention, device: device, dtype: dt);
        }
        using FlashMHA flash = Make(null);
        using FlashMHA reference = Make(ReferenceAttention.AsAttentionFunction());

        Devices.Seed(42, device);
        Tensor x = randn([2, 23, embed], dt, device);
        Tensor target = randn([2, 23, embed], dt, device);
        Tensor xa = x.clone().requires_grad_(true), xb = x.clone().requires_grad_(true);
        Tensor ya = flash.forward(xa), yb = reference.forward(xb);
        ((ya - target).pow(2).mean().to(ScalarType.Float32)).backward();
        ((yb - target).pow(2).mean().to(ScalarType.Float32)).backward();

        bool cuda = Devices.IsCuda(device);
        double atol = cuda ? 2e-3 : 2e-6, rtol = cuda ? 2e-2 : 1e-4;
        Close.Check(ya, yb, atol, rtol, "module output");
        Close.Check(xa.grad!, xb.grad!, atol, rtol, "input gradient");
        var referenceParams = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in flash.named_parameters())
            Close.Check(p.grad!, referenceParams[name].grad!, atol, rtol, $"grad of {name}");
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.All))]
    public void TrainsInsideATransformerBlock(string deviceName)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        Devices.Seed(43, device);
        const long embed = 64;
        ScalarType dt = Devices.IsCuda(device) ? ScalarType.BFloat16 : ScalarType.Float32;
        var norm = nn.LayerNorm(embed, device: device, dtype: dt);
        var mha = new FlashMHA(embed, 4, 2, causal: true, rotary_dim: 16, device: device, dtype: dt);
        var head = nn.Linear(embed, embed, device: device, dtype: dt);
        var parameters = norm.parameters().Concat(mha.parameters()).Concat(head.parameters()).ToList();
        var optimizer = optim.AdamW(parameters, lr: 3e-3);
        Tensor x = randn([4, 16, embed], dt, device);
        Tensor target = x.roll(1, 1);   // predict the previous token's vector: needs attention

        double first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor h = x + mha.forward(norm.forward(x));
            Tensor loss = (head.forward(h) - target).pow(2).mean().to(ScalarType.Float32);
            loss.backward();
            optimizer.step();
            double value = loss.item<float>();
            if (step == 0) first = value;
            last = value;
        }
        Assert.That(last, Is.LessThan(first * 0.7), $"loss {first:F4} -> {last:F4}");
    }

    [Test]
    public void RotaryEmbeddingIsARelativePositionRotation()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(44);
        using var rope = new RotaryEmbedding(16);
        Tensor q = randn([1, 1, 1, 16]).expand(1, 8, 1, 16).contiguous();
        Tensor k = randn([1, 1, 1, 16]).expand(1, 8, 1, 16).contiguous();
        (Tensor rq, Tensor rk) = rope.forward(q, k, 0);

        Close.Check(rq.norm(), q.norm(), 1e-5, 1e-5, "rotation preserves norms");
        // <rot(q, m), rot(k, n)> depends on m - n only.
        Tensor dots = einsum("bmhd,bnhd->mn", rq, rk);
        for (int shift = 1; shift < 4; shift++)
            Close.Check(dots.diagonal(shift).narrow(0, 0, 8 - 4), dots.diagonal(shift).narrow(0, 1, 8 - 4), 1e-4, 1e-5, $"shift {shift}");
        (Tensor offsetQ, _) = rope.forward(q.narrow(1, 3, 5), k.narrow(1, 3, 5), 3);
        Close.Check(offsetQ, rq.narrow(1, 3, 5), 1e-6, 1e-6, "seqlen_offset continues the positions");
    }
}
