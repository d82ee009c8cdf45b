namespace Gpt;

/// <summary>Everything one training run is told on the command line.</summary>
public sealed record TrainOptions
{
    public string Attention { get; init; } = "flash";
    public string Device { get; init; } = "auto";
    public string Position { get; init; } = "learned";
    public string DataPath { get; init; } = "";
    public int Steps { get; init; } = 300;
    public int Batch { get; init; } = 32;
    public int Block { get; init; } = 128;
    public int Layers { get; init; } = 4;
    public int Embed { get; init; } = 256;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 0;
    public double LearningRate { get; init; } = 2e-3;
    public double Dropout { get; init; } = 0.1;
    public int SampleChars { get; init; } = 400;
    public int Seed { get; init; } = 1337;
    public int LogEvery { get; init; } = 10;
    public string OutDir { get; init; } = "gpt-out";
    public string? SummaryJson { get; init; }

    /// <summary>Key/value heads actually used: 0 on the command line means as many as query heads.</summary>
    public int EffectiveKvHeads => KvHeads > 0 ? KvHeads : Heads;
}
