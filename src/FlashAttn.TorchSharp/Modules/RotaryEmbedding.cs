using TorchSharp;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Modules;

using ScalarType = global::TorchSharp.torch.ScalarType;

/// <summary>
/// Rotary position embeddings (RoPE, GPT-NeoX "rotate half" form) on the first <c>dim</c> features of
/// each head of q and k in (batch, seqlen, heads, head_dim) layout; the remaining features pass through.
/// </summary>
public sealed class RotaryEmbedding : nn.Module<Tensor, Tensor, long, (Tensor Q, Tensor K)>
{
    private readonly long _dim;
    private readonly double _base;

    /// <param name="dim">Rotated features per head: even, >= 2.</param>
    /// <param name="base">Wavelength base; 10000 as in RoFormer.</param>
    public RotaryEmbedding(long dim, double @base = 10000.0) : base(nameof(RotaryEmbedding))
    {
        if (dim < 2 || dim % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, "dim must be even and >= 2.");
        if (!double.IsFinite(@base) || @base <= 1)
            throw new ArgumentOutOfRangeException(nameof(@base), @base, "base must be finite and > 1.");
        _dim = dim;
        _base = @base;
    }

    /// <summary>Rotated features per head.</summary>
    public long Dim => _dim;

    /// <summary>Rotates q and k for positions seqlen_offset .. seqlen_offset + seqlen - 1.</summary>
    public override (Tensor Q, Tensor K) forward(Tensor q, Tensor k, long seqlen_offset)
    {
        Check(q, nameof(q));
        Check(k, nameof(k));
        if (k.shape[1] != q.shape[1])
            throw new ArgumentException($"k must have q's seqlen {q.shape[1]}; got shape [{string.Join(", ", k.shape)}].", nameof(k));
        if (seqlen_offset < 0)
            throw new ArgumentOutOfRangeException(nameof(seqlen_offset), seqlen_offset, "seqlen_offset must be >= 0.");
        using var scope = NewDisposeScope();
        long seqlen = q.shape[1];
        // Recomputed in float64 on q's device rather than kept as a buffer: a module.to(half) would round
        // a buffer, and angles of far positions need the precision. It is dim/2 numbers.
        Tensor invFreq = arange(0, _dim, 2, ScalarType.Float64, q.device).mul(-Math.Log(_base) / _dim).exp();
        Tensor positions = arange(seqlen_offset, seqlen_offset + seqlen, 1, ScalarType.Float64, q.device);
        Tensor angles = outer(positions, invFreq);                  // (s, dim/2)
        Tensor cos = angles.cos().unsqueeze(1).to(q.dtype);        // (s, 1, dim/2): broadcast over heads
        Tensor sin = angles.sin().unsqueeze(1).to(q.dtype);
        return (Rotate(q, cos, sin).MoveToOuterDisposeScope(), Rotate(k, cos, sin).MoveToOuterDisposeScope());
    }

    private Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        long half = _dim / 2;
        Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
        Tensor rotated = cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1);
        long rest = x.shape[3] - _dim;
        return rest == 0 ? rotated : cat([rotated, x.narrow(-1, _dim, rest)], -1);
    }

    private void Check(Tensor? t, string name)
    {
        if (t is null)
            throw new ArgumentNullException(name);
        if (t.dim() != 4)
            throw new ArgumentException($"{name} must be 4-D (batch, seqlen, heads, head_dim); got shape [{string.Join(", ", t.shape)}].", name);
        if (t.shape[3] < _dim)
            throw new ArgumentException($"{name}'s head_dim {t.shape[3]} is smaller than the rotary dim {_dim}.", name);
        if (!t.is_floating_point())
            throw new ArgumentException($"{name} must be a floating-point tensor; got {t.dtype}.", name);
    }
}
