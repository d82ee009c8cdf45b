using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Modules;

using ScalarType = global::TorchSharp.torch.ScalarType;
using Device = global::TorchSharp.torch.Device;

/// <summary>
/// Multi-head self-attention on FlashAttn kernels, for (batch, seqlen, embed_dim) inputs: a fused QKV
/// projection, optional rotary embeddings, attention with num_heads query heads over num_kv_heads
/// key/value heads (MHA, GQA, MQA), an output projection and dropout on the output.
/// </summary>
/// <remarks>
/// With num_kv_heads == num_heads, no rotary embeddings and the default attention, the projection's output
/// goes to <see cref="FlashAttnInterface.flash_attn_qkvpacked_func(Tensor, double, double?, bool, ValueTuple{int, int}?, double, Tensor?, bool, bool)"/>
/// as one packed tensor, whose gradient the kernel writes in place: no split, no concatenation. The
/// parameter names (Wqkv, out_proj) follow flash-attn's MHA. Attention dropout is not supported by the
/// kernels; <c>dropout</c> applies to the module's output instead.
/// </remarks>
public sealed class FlashMHA : nn.Module<Tensor, Tensor>
{
    private readonly long _embedDim, _numHeads, _numKvHeads, _headDim;
    private readonly bool _causal;
    private readonly double _softmaxScale;
    private readonly AttentionFunction? _customAttention;

    // Fields named as flash-attn's MHA names its submodules, so state dicts line up.
    private readonly Linear Wqkv;
    private readonly Linear out_proj;
    private readonly Dropout? dropout;
    private readonly RotaryEmbedding? rotary_emb;

    /// <param name="embed_dim">Model width; a multiple of num_heads.</param>
    /// <param name="num_heads">Query heads.</param>
    /// <param name="num_kv_heads">Key/value heads (null = num_heads); num_heads must be a multiple of it.</param>
    /// <param name="causal">Causal self-attention (decoders).</param>
    /// <param name="bias">Biases in both projections.</param>
    /// <param name="dropout">Dropout probability on the output, in [0, 1).</param>
    /// <param name="rotary_dim">Features per head rotated by RoPE (0 = no rotary embeddings); even, at most head_dim.</param>
    /// <param name="rotary_base">RoPE wavelength base.</param>
    /// <param name="softmax_scale">Defaults to 1/sqrt(head_dim).</param>
    /// <param name="attention">Attention core to use instead of the FlashAttn kernels (e.g. <see cref="AttentionFunctions.TorchSdpa"/>, or a reference in tests).</param>
    /// <param name="device">Where the parameters are created.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public FlashMHA(long embed_dim, long num_heads, long? num_kv_heads = null, bool causal = false, bool bias = true,
        double dropout = 0.0, long rotary_dim = 0, double rotary_base = 10000.0, double? softmax_scale = null,
        AttentionFunction? attention = null, Device? device = null, ScalarType? dtype = null)
        : base(nameof(FlashMHA))
    {
        if (embed_dim < 1)
            throw new ArgumentOutOfRangeException(nameof(embed_dim), embed_dim, "embed_dim must be >= 1.");
        if (num_heads < 1 || embed_dim % num_heads != 0)
            throw new ArgumentOutOfRangeException(nameof(num_heads), num_heads, $"num_heads must be >= 1 and divide embed_dim ({embed_dim}).");
        long kvHeads = num_kv_heads ?? num_heads;
        if (kvHeads < 1 || num_heads % kvHeads != 0)
            throw new ArgumentOutOfRangeException(nameof(num_kv_heads), num_kv_heads, $"num_kv_heads must be >= 1 and divide num_heads ({num_heads}).");
        if (double.IsNaN(dropout) || dropout < 0 || dropout >= 1)
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        long headDim = embed_dim / num_heads;
        if (rotary_dim < 0 || rotary_dim % 2 != 0 || rotary_dim > headDim)
            throw new ArgumentOutOfRangeException(nameof(rotary_dim), rotary_dim, $"rotary_dim must be even and between 0 and head_dim ({headDim}).");
        double scale = softmax_scale ?? 1.0 / Math.Sqrt(headDim);
        if (!double.IsFinite(scale) || scale <= 0)
            throw new ArgumentOutOfRangeException(nameof(softmax_scale), softmax_scale, "softmax_scale must be finite and > 0.");

        _embedDim = embed_dim;
        _numHeads = num_heads;
        _numKvHeads = kvHeads;
        _headDim = headDim;
        _causal = causal;
        _softmaxScale = scale;
        _customAttention = attention;

        Wqkv = nn.Linear(embed_dim, (num_heads + 2 * kvHeads) * headDim, hasBias: bias, device: device, dtype: dtype);
        out_proj = nn.Linear(embed_dim, embed_dim, hasBias: bias, device: device, dtype: dtype);
        this.dropout = dropout > 0 ? nn.Dropout(dropout) : null;
        rotary_emb = rotary_dim > 0 ? new RotaryEmbedding(rotary_dim, rotary_base) : null;
        RegisterComponents();
    }

    /// <summary>Model width.</summary>
    public long EmbedDim => _embedDim;

    /// <summary>Query heads.</summary>
    public long NumHeads => _numHeads;

    /// <summary>Key/value heads.</summary>
    public long NumKvHeads => _numKvHeads;

    /// <summary>Features per head.</summary>
    public long HeadDim => _headDim;

    /// <summary>Whether the attention is causal.</summary>
    public bool Causal => _causal;

    /// <summary>x (batch, seqlen, embed_dim) → (batch, seqlen, embed_dim).</summary>
    public override Tensor forward(Tensor x)
    {
        if (x is null)
            throw new ArgumentNullException(nameof(x));
        if (x.dim() != 3 || x.shape[2] != _embedDim)
            throw new ArgumentException(
                $"x must be (batch, seqlen, embed_dim = {_embedDim}); got shape [{string.Join(", ", x.shape)}].", nameof(x));

        using var scope = NewDisposeScope();
        long b = x.shape[0], s = x.shape[1];
        Tensor qkv = Wqkv.forward(x).view(b, s, _numHeads + 2 * _numKvHeads, _headDim);
        Tensor attended;
        if (_customAttention is null && rotary_emb is null && _numKvHeads == _numHeads)
        {
            attended = FlashAttnInterface.flash_attn_qkvpacked_func(
                qkv.view(b, s, 3, _numHeads, _headDim), softmax_scale: _softmaxScale, causal: _causal);
        }
        else
        {
            Tensor q = qkv.narrow(2, 0, _numHeads);
            Tensor k = qkv.narrow(2, _numHeads, _numKvHeads);
            Tensor v = qkv.narrow(2, _numHeads + _numKvHeads, _numKvHeads);
            if (rotary_emb is not null)
                (q, k) = rotary_emb.forward(q, k, 0);
            AttentionFunction attention = _customAttention ?? AttentionFunctions.Flash;
            attended = attention(q, k, v, _causal, _softmaxScale);
        }
        Tensor y = out_proj.forward(attended.reshape(b, s, _embedDim));
        if (dropout is not null)
            y = dropout.forward(y);
        return y.MoveToOuterDisposeScope();
    }
}
