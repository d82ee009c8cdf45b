using FlashAttn.TorchSharp.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gpt.Model;

/// <summary>Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x)).</summary>
public sealed class Block : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln_1, ln_2;
    private readonly FlashMHA attn;
    private readonly Linear fc, proj;
    private readonly GELU gelu;
    private readonly Dropout drop;

    public Block(GptConfig c, AttentionFunction? attention, Device device, ScalarType dtype) : base(nameof(Block))
    {
        ln_1 = nn.LayerNorm(c.Embed, device: device, dtype: dtype);
        attn = new FlashMHA(c.Embed, c.Heads, c.KvHeads, causal: true, bias: false, dropout: c.Dropout,
            rotary_dim: c.Rotary ? c.Embed / c.Heads : 0, attention: attention, device: device, dtype: dtype);
        ln_2 = nn.LayerNorm(c.Embed, device: device, dtype: dtype);
        fc = nn.Linear(c.Embed, 4 * c.Embed, hasBias: false, device: device, dtype: dtype);
        gelu = nn.GELU();
        proj = nn.Linear(4 * c.Embed, c.Embed, hasBias: false, device: device, dtype: dtype);
        drop = nn.Dropout(c.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = x + attn.forward(ln_1.forward(x));
        Tensor y = h + drop.forward(proj.forward(gelu.forward(fc.forward(ln_2.forward(h)))));
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>Model shape.</summary>
public sealed record GptConfig(int Vocab, int Block, int Layers, int Embed, int Heads, int KvHeads, double Dropout, bool Rotary);
