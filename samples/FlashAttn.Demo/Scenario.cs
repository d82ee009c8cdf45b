using FlashAttn;

namespace FlashAttn.Demo;

/// <summary>One attention problem to run: its shape, mask and storage type.</summary>
public sealed record Scenario(AttentionShape Shape, bool Causal, ScalarType DType)
{
    public string Describe()
    {
        AttentionShape s = Shape;
        string heads = s.NumHeadsQ == s.NumHeadsKv ? $"{s.NumHeadsQ}h" : $"{s.NumHeadsQ}/{s.NumHeadsKv}h";
        string seq = s.SeqlenQ == s.SeqlenK ? $"{s.SeqlenQ}" : $"{s.SeqlenQ}x{s.SeqlenK}";
        return $"b{s.Batch} {heads} s{seq} d{s.HeadDim} {DTypeName}{(Causal ? " causal" : "")}";
    }

    public string DTypeName => DType switch
    {
        ScalarType.Float32 => "fp32",
        ScalarType.Float16 => "fp16",
        ScalarType.BFloat16 => "bf16",
        _ => DType.ToString(),
    };

    public double Scale => 1.0 / Math.Sqrt(Shape.HeadDim);

    /// <summary>Forward FLOPs of the two matrix products over the visible (unmasked) score entries.</summary>
    public double ForwardFlops
    {
        get
        {
            AttentionShape s = Shape;
            long visible = 0;
            for (int i = 0; i < s.SeqlenQ; i++)
                visible += Causal ? Math.Clamp(i + s.SeqlenK - s.SeqlenQ + 1, 0, s.SeqlenK) : s.SeqlenK;
            return 4.0 * s.Batch * s.NumHeadsQ * visible * s.HeadDim;
        }
    }

    /// <summary>The backward does five matrix products to the forward's two: 2.5 times the FLOPs.</summary>
    public double BackwardFlops => 2.5 * ForwardFlops;
}
