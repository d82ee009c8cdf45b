namespace FlashAttn;

/// <summary>Everything about an attention call besides its tensors. A null options argument means defaults.</summary>
public sealed class AttentionOptions
{
    /// <summary>Multiplier of q·k before the softmax; null means 1/sqrt(head_dim). Must be finite and &gt; 0.</summary>
    public float? SoftmaxScale { get; set; }

    /// <summary>Bottom-right aligned causal mask: query i sees key j iff j &lt;= i + seqlen_k - seqlen_q.</summary>
    public bool Causal { get; set; }

    /// <summary>Backward: bitwise reproducible gradients (slower on CUDA).</summary>
    public bool Deterministic { get; set; }

    /// <summary>Which implementation runs the call. Naming one that cannot run it is an error, never a fallback.</summary>
    public AttentionBackend Backend { get; set; } = AttentionBackend.Auto;

    /// <summary>cudaStream_t to queue work on (0 = legacy default stream). Nothing synchronizes it.</summary>
    public nint Stream { get; set; }

    /// <summary>Optional caller-owned device scratch for the CUDA backward (see <see cref="FlashAttention.BackwardWorkspaceSize"/>).</summary>
    public nint Workspace { get; set; }

    /// <summary>Size of <see cref="Workspace"/> in bytes.</summary>
    public ulong WorkspaceBytes { get; set; }

    /// <summary>FP8: real q = stored q * QDescale. Ignored for other dtypes.</summary>
    public float QDescale { get; set; } = 1f;

    /// <summary>FP8: real k = stored k * KDescale.</summary>
    public float KDescale { get; set; } = 1f;

    /// <summary>FP8: real v = stored v * VDescale.</summary>
    public float VDescale { get; set; } = 1f;

    /// <summary>Variable-length (packed) mode; null for the padded (batch, seqlen, ...) layout.</summary>
    public VarlenLayout? Varlen { get; set; }

    /// <summary>A shallow copy, so callers can derive options without mutating shared ones.</summary>
    public AttentionOptions Clone() => (AttentionOptions)MemberwiseClone();
}

/// <summary>
/// Packed variable-length batches: tensors are (total, heads, head_dim) and sequence b spans rows
/// cu_seqlens[b] .. cu_seqlens[b+1]. The prefix sums are int32 arrays of length <see cref="BatchSize"/>+1
/// on the same device as the tensors.
/// </summary>
/// <param name="CuSeqlensQ">Device pointer to the int32 query prefix sums.</param>
/// <param name="CuSeqlensK">Device pointer to the int32 key prefix sums.</param>
/// <param name="BatchSize">Number of sequences.</param>
/// <param name="MaxSeqlenQ">Longest query sequence.</param>
/// <param name="MaxSeqlenK">Longest key sequence.</param>
public sealed record VarlenLayout(nint CuSeqlensQ, nint CuSeqlensK, int BatchSize, int MaxSeqlenQ, int MaxSeqlenK);
