using System.Text.Json;

namespace Gpt.Training;

/// <summary>What one run measured; written as JSON by a --compare child and read back by the parent.</summary>
public sealed record RunSummary
{
    public string Attention { get; init; } = "";
    public string Device { get; init; } = "";
    public string DType { get; init; } = "";
    public int Steps { get; init; }
    public long TokensPerStep { get; init; }
    public double TokensPerSecond { get; init; }
    public long? PeakMemoryBytes { get; init; }
    public string? MemorySource { get; init; }
    public double ValLossBefore { get; init; }
    public double ValLossAfter { get; init; }
    public double TrainSeconds { get; init; }
    public List<double[]> TrainLoss { get; init; } = [];
    public string Sample { get; init; } = "";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, s_json));

    public static RunSummary Load(string path) =>
        JsonSerializer.Deserialize<RunSummary>(File.ReadAllText(path), s_json)
        ?? throw new InvalidDataException($"{path} holds no run summary.");
}
