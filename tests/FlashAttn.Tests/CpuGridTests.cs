using FlashAttn;
using FlashAttn.Tests.Support;

namespace FlashAttn.Tests;

/// <summary>
/// Forward and backward of the CPU backend against the float64 reference, over a covering subset of
/// dtype × causal × MHA/GQA/MQA × seqlen_q ≠ seqlen_k × odd lengths × head dims: every head dim meets every
/// dtype, both mask modes and every head layout, while the 12 seqlen pairs rotate through them (each pair
/// meets every dtype and head layout). The full product would take far longer in the float64 reference.
/// </summary>
[TestFixture]
public class CpuGridTests
{
    private static readonly int[] HeadDims = [8, 40, 64, 96, 128, 256];
    private static readonly ScalarType[] Types = [ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16];
    private static readonly (int Q, int K)[] Seqlens =
        [(1, 1), (3, 17), (17, 3), (1, 255), (113, 255), (255, 113), (17, 17), (113, 113), (255, 255), (17, 1), (3, 3), (255, 17)];
    private static readonly (int Q, int Kv, string Name)[] Heads = [(4, 4, "MHA"), (6, 2, "GQA"), (4, 1, "MQA")];

    public static IEnumerable<TestCaseData> Grid()
    {
        int i = 0;
        for (int di = 0; di < HeadDims.Length; di++)
            foreach (ScalarType type in Types)
                foreach (bool causal in new[] { false, true })
                    foreach (var heads in Heads)
                {
                    var (sq, sk) = Seqlens[(i * 5) % Seqlens.Length];
                    int batch = (long)sq * sk <= 4096 ? 2 : 1;
                    yield return new TestCaseData(type, causal, heads.Name, heads.Q, heads.Kv, batch, sq, sk, HeadDims[di])
                        .SetArgDisplayNames(type.ToString(), causal ? "causal" : "full", heads.Name, $"b{batch}", $"sq{sq}", $"sk{sk}", $"d{HeadDims[di]}");
                    i++;
                }
    }

    [TestCaseSource(nameof(Grid))]
    public void ForwardAndBackwardMatchReference(ScalarType type, bool causal, string layout, int hq, int hkv,
        int batch, int sq, int sk, int d)
    {
        var shape = new AttentionShape(batch, sq, sk, hq, hkv, d);
        var c = new AttentionCase(shape, type, causal, seed: Seeds.Of((int)type, causal ? 1 : 0, hq, hkv, sq, sk, d));
        CpuRunner.Result r = CpuRunner.Run(c, backward: true);
        c.CheckForward(r.Output, r.Lse);
        c.CheckBackward(r.Dq!, r.Dk!, r.Dv!);
    }

    [TestCase(ScalarType.Float32, 1)]
    [TestCase(ScalarType.Float16, 3)]
    [TestCase(ScalarType.BFloat16, 17)]
    [TestCase(ScalarType.Float32, 255)]
    public void HeadDimsOffTheCudaGrid(ScalarType type, int d)
    {
        // The CPU backend has no multiple-of-8 restriction: any head_dim in 1..256 must work.
        var c = new AttentionCase(new AttentionShape(2, 13, 21, 3, 1, d), type, causal: true, seed: d);
        CpuRunner.Result r = CpuRunner.Run(c, backward: true);
        c.CheckForward(r.Output, r.Lse);
        c.CheckBackward(r.Dq!, r.Dk!, r.Dv!);
    }

    [TestCase(ScalarType.Float32, 0.05)]
    [TestCase(ScalarType.Float16, 0.3)]
    [TestCase(ScalarType.BFloat16, 1.5)]
    public void CustomSoftmaxScale(ScalarType type, double scale)
    {
        var c = new AttentionCase(new AttentionShape(2, 19, 23, 4, 2, 32), type, causal: true, seed: 77, scale: scale);
        CpuRunner.Result r = CpuRunner.Run(c, backward: true);
        c.CheckForward(r.Output, r.Lse);
        c.CheckBackward(r.Dq!, r.Dk!, r.Dv!);
    }

    [Test]
    public void LargeInputsDoNotOverflowTheSoftmax()
    {
        // Scores near ±100: a softmax without max-subtraction would overflow exp() in float32.
        var c = new AttentionCase(new AttentionShape(1, 9, 31, 2, 2, 16), ScalarType.Float32, causal: false, seed: 4, scale: 6.0);
        CpuRunner.Result r = CpuRunner.Run(c, backward: true);
        c.CheckForward(r.Output, r.Lse);
        c.CheckBackward(r.Dq!, r.Dk!, r.Dv!);
    }
}
