using TorchSharp;
using static TorchSharp.torch;

namespace Gpt.Data;

/// <summary>A text as character ids on the training device, split 90/10 into training and validation.</summary>
public sealed class CharCorpus : IDisposable
{
    private readonly char[] _vocab;
    private readonly Dictionary<char, int> _ids;
    private readonly Tensor _train, _val;

    public CharCorpus(string text, Device device)
    {
        if (text.Length < 1000)
            throw new ArgumentException($"The training text has {text.Length} characters; at least 1000 are needed.", nameof(text));
        _vocab = text.Distinct().Order().ToArray();
        _ids = _vocab.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        long[] ids = text.Select(c => (long)_ids[c]).ToArray();
        int split = (int)(ids.Length * 0.9);
        _train = tensor(ids[..split], ScalarType.Int64, device);
        _val = tensor(ids[split..], ScalarType.Int64, device);
    }

    public int VocabSize => _vocab.Length;

    public long TrainLength => _train.shape[0];

    public long[] Encode(string s) => s.Where(_ids.ContainsKey).Select(c => (long)_ids[c]).ToArray();

    public string Decode(IEnumerable<long> ids) => new(ids.Select(i => _vocab[i]).ToArray());

    /// <summary>Random windows: x (batch, block) and y, x shifted by one character.</summary>
    public (Tensor X, Tensor Y) Batch(bool validation, int batch, int block, Generator generator)
    {
        Tensor data = validation ? _val : _train;
        long n = data.shape[0];
        if (n <= block + 1)
            throw new ArgumentException($"block ({block}) must be shorter than the {(validation ? "validation" : "training")} split ({n} characters).", nameof(block));
        using var scope = NewDisposeScope();
        Tensor starts = randint(0, n - block - 1, [batch, 1], generator: generator).to(data.device);
        Tensor index = starts + arange(block, ScalarType.Int64, data.device).unsqueeze(0);
        Tensor x = data.index_select(0, index.flatten()).view(batch, block);
        Tensor y = data.index_select(0, (index + 1).flatten()).view(batch, block);
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        _train.Dispose();
        _val.Dispose();
    }
}
