using FlashAttn.TorchSharp.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gpt.Model;

/// <summary>
/// Character-level GPT: token embedding (+ learned positions, or RoPE inside attention), N pre-norm blocks
/// of FlashMHA and an MLP, a final LayerNorm and a linear head. ids (batch, seqlen) → logits (batch, seqlen, vocab).
/// </summary>
public sealed class GptModel : nn.Module<Tensor, Tensor>
{
    private readonly GptConfig _config;
    private readonly Embedding wte;
    private readonly Embedding? wpe;
    private readonly Dropout drop;
    private readonly ModuleList<Block> h;
    private readonly LayerNorm ln_f;
    private readonly Linear lm_head;

    public GptModel(GptConfig config, AttentionFunction? attention, Device device, ScalarType dtype) : base(nameof(GptModel))
    {
        _config = config;
        wte = nn.Embedding(config.Vocab, config.Embed, device: device, dtype: dtype);
        wpe = config.Rotary ? null : nn.Embedding(config.Block, config.Embed, device: device, dtype: dtype);
        drop = nn.Dropout(config.Dropout);
        h = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new Block(config, attention, device, dtype)).ToArray());
        ln_f = nn.LayerNorm(config.Embed, device: device, dtype: dtype);
        lm_head = nn.Linear(config.Embed, config.Vocab, hasBias: false, device: device, dtype: dtype);
        RegisterComponents();
        InitWeights(config.Layers);
    }

    public GptConfig Config => _config;

    public override Tensor forward(Tensor ids)
    {
        long seqlen = ids.shape[1];
        if (seqlen > _config.Block)
            throw new ArgumentException($"ids has {seqlen} positions; the model was built for at most {_config.Block}.", nameof(ids));
        using var scope = NewDisposeScope();
        Tensor x = wte.forward(ids);
        if (wpe is not null)
            x = x + wpe.forward(arange(seqlen, ScalarType.Int64, ids.device));
        x = drop.forward(x);
        foreach (Block block in h)
            x = block.forward(x);
        return lm_head.forward(ln_f.forward(x)).MoveToOuterDisposeScope();
    }

    // GPT-2's initialisation: small normal weights, and residual projections scaled down by depth so the
    // residual stream does not grow with the number of blocks.
    private void InitWeights(int layers)
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (p.dim() < 2) continue;
            double std = name.EndsWith("proj.weight") ? 0.02 / Math.Sqrt(2 * layers) : 0.02;
            nn.init.normal_(p, 0, std);
        }
    }
}
