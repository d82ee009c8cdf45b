namespace FlashAttn;

/// <summary>
/// Sizes of a padded attention call on contiguous managed buffers: q, output, dOutput are
/// (Batch, SeqlenQ, NumHeadsQ, HeadDim); k, v are (Batch, SeqlenK, NumHeadsKv, HeadDim); the LSE is
/// (Batch, NumHeadsQ, SeqlenQ); all row-major.
/// </summary>
public readonly record struct AttentionShape(int Batch, int SeqlenQ, int SeqlenK, int NumHeadsQ, int NumHeadsKv, int HeadDim)
{
    /// <summary>Shape of q / output / dOutput / dq.</summary>
    public long[] QShape => [Batch, SeqlenQ, NumHeadsQ, HeadDim];
    /// <summary>Shape of k / v / dk / dv.</summary>
    public long[] KShape => [Batch, SeqlenK, NumHeadsKv, HeadDim];
    /// <summary>Shape of the softmax LSE.</summary>
    public long[] LseShape => [Batch, NumHeadsQ, SeqlenQ];
    /// <summary>Elements of q.</summary>
    public long QElements => (long)Batch * SeqlenQ * NumHeadsQ * HeadDim;
    /// <summary>Elements of k (and v).</summary>
    public long KElements => (long)Batch * SeqlenK * NumHeadsKv * HeadDim;
    /// <summary>Elements of the LSE.</summary>
    public long LseElements => (long)Batch * NumHeadsQ * SeqlenQ;
}

/// <summary>
/// Sizes of a variable-length call on packed managed buffers: q is (CuSeqlensQ[^1], NumHeadsQ, HeadDim),
/// k and v (CuSeqlensK[^1], NumHeadsKv, HeadDim), the LSE (NumHeadsQ, total_q). Sequence b holds rows
/// CuSeqlens[b] .. CuSeqlens[b+1].
/// </summary>
public sealed record VarlenShape(int[] CuSeqlensQ, int[] CuSeqlensK, int NumHeadsQ, int NumHeadsKv, int HeadDim)
{
    /// <summary>Number of sequences.</summary>
    public int Batch => CuSeqlensQ.Length - 1;
    /// <summary>Rows of q.</summary>
    public int TotalQ => CuSeqlensQ[^1];
    /// <summary>Rows of k and v.</summary>
    public int TotalK => CuSeqlensK[^1];
    /// <summary>Longest query sequence.</summary>
    public int MaxSeqlenQ => MaxLength(CuSeqlensQ);
    /// <summary>Longest key sequence.</summary>
    public int MaxSeqlenK => MaxLength(CuSeqlensK);
    /// <summary>Elements of q.</summary>
    public long QElements => (long)TotalQ * NumHeadsQ * HeadDim;
    /// <summary>Elements of k (and v).</summary>
    public long KElements => (long)TotalK * NumHeadsKv * HeadDim;
    /// <summary>Elements of the LSE.</summary>
    public long LseElements => (long)NumHeadsQ * TotalQ;

    private static int MaxLength(int[] cu)
    {
        int max = 0;
        for (int i = 0; i + 1 < cu.Length; i++) max = Math.Max(max, cu[i + 1] - cu[i]);
        return max;
    }
}

/// <summary>Result of a managed forward.</summary>
/// <param name="Output">Same layout as q.</param>
/// <param name="SoftmaxLse">Float32 log-sum-exp per (batch, head, query row); −∞ for fully masked rows.</param>
public sealed record AttentionResult<T>(T[] Output, float[] SoftmaxLse) where T : unmanaged;

/// <summary>Result of a managed backward.</summary>
/// <param name="Dq">Gradient of q.</param>
/// <param name="Dk">Gradient of k.</param>
/// <param name="Dv">Gradient of v.</param>
public sealed record AttentionGradients<T>(T[] Dq, T[] Dk, T[] Dv) where T : unmanaged;
