using FlashAttn;

namespace FlashAttn.Tests.Support;

/// <summary>
/// One attention problem with random inputs, its float64 reference and naive same-precision results,
/// and checks of an implementation's outputs against both.
/// </summary>
internal sealed class AttentionCase
{
    public AttentionCase(AttentionShape shape, ScalarType type, bool causal, int seed, double? scale = null)
    {
        Shape = shape;
        Type = type;
        Causal = causal;
        Scale = scale ?? 1.0 / Math.Sqrt(shape.HeadDim);
        var rng = new Random(Seeds.Of(seed));
        Q = Num.RandomNormal(rng, shape.QElements, type);
        K = Num.RandomNormal(rng, shape.KElements, type);
        V = Num.RandomNormal(rng, shape.KElements, type);
        DOut = Num.RandomNormal(rng, shape.QElements, type);
    }

    public AttentionShape Shape { get; }
    public ScalarType Type { get; }
    public bool Causal { get; }
    public double Scale { get; }
    public double[] Q { get; }
    public double[] K { get; }
    public double[] V { get; }
    public double[] DOut { get; }

    /// <summary>The float32 scale both sides use: the library receives a float.</summary>
    public float ScaleF => (float)Scale;

    public AttentionOptions Options(bool deterministic = false) =>
        new() { Causal = Causal, SoftmaxScale = ScaleF, Deterministic = deterministic, Backend = AttentionBackend.Auto };

    private AttentionMath.ForwardResult? _refFwd, _naiveFwd;
    private AttentionMath.Gradients? _refBwd, _naiveBwd;

    public AttentionMath.ForwardResult RefForward => _refFwd ??= AttentionMath.Exact.Forward(Q, K, V, Shape, ScaleF, Causal);
    public AttentionMath.ForwardResult NaiveForward => _naiveFwd ??= AttentionMath.Naive(Type).Forward(Q, K, V, Shape, ScaleF, Causal);
    public AttentionMath.Gradients RefBackward =>
        _refBwd ??= AttentionMath.Exact.Backward(Q, K, V, RefForward.Output, DOut, Shape, ScaleF, Causal);
    public AttentionMath.Gradients NaiveBackward =>
        _naiveBwd ??= AttentionMath.Naive(Type).Backward(Q, K, V, NaiveForward.Output, DOut, Shape, ScaleF, Causal);

    public void CheckForward(double[] output, double[] lse)
    {
        Tolerance.AssertClose("output", output, RefForward.Output, NaiveForward.Output, Type, Shape.HeadDim);
        Tolerance.AssertLseClose(lse, RefForward.Lse, NaiveForward.Lse);
    }

    public void CheckBackward(double[] dq, double[] dk, double[] dv)
    {
        Tolerance.AssertClose("dq", dq, RefBackward.Dq, NaiveBackward.Dq, Type, Shape.HeadDim);
        Tolerance.AssertClose("dk", dk, RefBackward.Dk, NaiveBackward.Dk, Type, Shape.HeadDim);
        Tolerance.AssertClose("dv", dv, RefBackward.Dv, NaiveBackward.Dv, Type, Shape.HeadDim);
    }

    public override string ToString() =>
        $"{Type} causal={Causal} b={Shape.Batch} sq={Shape.SeqlenQ} sk={Shape.SeqlenK} hq={Shape.NumHeadsQ} hkv={Shape.NumHeadsKv} d={Shape.HeadDim}";
}
