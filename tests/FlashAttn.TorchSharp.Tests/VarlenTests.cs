using FlashAttn.TorchSharp.Tests.Support;
using TorchSharp;
using static FlashAttn.TorchSharp.FlashAttnInterface;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

[TestFixture]
public class VarlenTests
{
    /// <summary>Each packed sequence must behave exactly as a batch of one run on its own.</summary>
    [TestCaseSource(typeof(Devices), nameof(Devices.WithCausal))]
    public void EachSequenceMatchesItsOwnReference(string deviceName, bool causal)
    {
        Device device = Devices.Get(deviceName);
        using var scope = NewDisposeScope();
        Devices.Seed(21, device);
        ScalarType dt = Devices.KernelDtype(device);
        int[] lenQ = [5, 1, 12, 9], lenK = [7, 3, 12, 20];
        int totalQ = lenQ.Sum(), totalK = lenK.Sum();
        const int hq = 4, hk = 2, d = 32;
        Tensor q = randn([totalQ, hq, d], dt, device).requires_grad_(true);
        Tensor k = randn([totalK, hk, d], dt, device).requires_grad_(true);
        Tensor v = randn([totalK, hk, d], dt, device).requires_grad_(true);
        Tensor dout = randn([totalQ, hq, d], dt, device);
        Tensor cuQ = PrefixSums(lenQ, device), cuK = PrefixSums(lenK, device);

        Tensor output = flash_attn_varlen_func(q, k, v, cuQ, cuK, lenQ.Max(), lenK.Max(), out Tensor lse, causal: causal);
        (output * dout).sum().backward();
        Assert.That(lse.shape, Is.EqualTo(new long[] { hq, totalQ }));

        int offQ = 0, offK = 0;
        for (int b = 0; b < lenQ.Length; b++)
        {
            Tensor Rows(Tensor t, int off, int len) => t.narrow(0, off, len).unsqueeze(0);
            Tensor qb = Rows(q, offQ, lenQ[b]), kb = Rows(k, offK, lenK[b]), vb = Rows(v, offK, lenK[b]);
            AttentionCheck.Gradients(qb, kb, vb, Rows(dout, offQ, lenQ[b]), causal, null,
                Rows(output, offQ, lenQ[b]), Rows(q.grad!, offQ, lenQ[b]), Rows(k.grad!, offK, lenK[b]), Rows(v.grad!, offK, lenK[b]));
            AttentionCheck.Lse(lse.narrow(1, offQ, lenQ[b]).unsqueeze(0), qb, kb, vb, causal);
            offQ += lenQ[b];
            offK += lenK[b];
        }
    }

    private static Tensor PrefixSums(int[] lengths, Device device)
    {
        var cu = new int[lengths.Length + 1];
        for (int i = 0; i < lengths.Length; i++)
            cu[i + 1] = cu[i] + lengths[i];
        return tensor(cu, dtype: ScalarType.Int32, device: device);
    }
}
