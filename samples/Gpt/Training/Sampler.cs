using Gpt.Data;
using Gpt.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Gpt.Training;

/// <summary>Autoregressive sampling, one character at a time, with temperature and top-k.</summary>
public static class Sampler
{
    public static string Generate(GptModel model, CharCorpus corpus, string prompt, int count, Device device,
        double temperature = 0.8, int topK = 20, int seed = 0)
    {
        model.eval();
        using var _ = no_grad();
        // Sampling draws from a (vocab)-sized vector: on the CPU, with a CPU generator.
        var generator = new Generator((ulong)seed);
        var ids = corpus.Encode(prompt).ToList();
        if (ids.Count == 0)
            ids.Add(0);
        int k = Math.Min(topK, corpus.VocabSize);
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            long[] context = ids.Skip(Math.Max(0, ids.Count - model.Config.Block)).ToArray();
            Tensor logits = model.forward(tensor(context, ScalarType.Int64, device).unsqueeze(0));
            Tensor last = logits.select(1, -1).squeeze(0).to(ScalarType.Float32) / temperature;
            (Tensor top, Tensor topIndex) = last.topk(k);
            Tensor choice = top.softmax(-1).to(CPU).multinomial(1, generator: generator);
            ids.Add(topIndex.to(CPU).index_select(0, choice).item<long>());
        }
        return corpus.Decode(ids);
    }
}
