using System.CommandLine;
using Gpt;
using Gpt.Report;
using Gpt.Training;
using Spectre.Console;
using TorchSharp;

var attention = new Option<string>("--attention") { Description = "Attention core: FlashAttn kernels or TorchSharp's scaled_dot_product_attention.", DefaultValueFactory = _ => "flash" };
attention.AcceptOnlyFromAmong("flash", "sdpa");
var compare = new Option<bool>("--compare") { Description = "Train with both, each in its own process, and compare tokens/s and peak memory." };
var device = new Option<string>("--device") { Description = "auto (CUDA when available), cuda or cpu.", DefaultValueFactory = _ => "auto" };
device.AcceptOnlyFromAmong("auto", "cuda", "cpu");
var position = new Option<string>("--position") { Description = "learned position embeddings or rotary (RoPE inside FlashMHA).", DefaultValueFactory = _ => "learned" };
position.AcceptOnlyFromAmong("learned", "rotary");
var data = new Option<string>("--data") { Description = "Training text.", DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "data", "sonnets-and-declaration.txt") };
var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 300 };
var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 32 };
var block = new Option<int>("--block") { Description = "Context length in characters.", DefaultValueFactory = _ => 256 };
var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 6 };
var embed = new Option<int>("--embed") { DefaultValueFactory = _ => 384 };
var heads = new Option<int>("--heads") { DefaultValueFactory = _ => 6 };
var kvHeads = new Option<int>("--kv-heads") { Description = "Key/value heads for GQA (0 = as many as --heads).", DefaultValueFactory = _ => 0 };
var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-3 };
var dropout = new Option<double>("--dropout") { DefaultValueFactory = _ => 0.1 };
var sampleChars = new Option<int>("--sample-chars") { Description = "Characters generated after training.", DefaultValueFactory = _ => 400 };
var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1337 };
var logEvery = new Option<int>("--log-every") { DefaultValueFactory = _ => 10 };
var outDir = new Option<string>("--out") { Description = "Folder for the loss curve (SVG) and run summaries.", DefaultValueFactory = _ => "gpt-out" };
var summaryJson = new Option<string?>("--summary-json") { Description = "Write this run's measurements as JSON (used by --compare).", Hidden = true };

var root = new RootCommand("Character-level GPT trained with FlashAttn.TorchSharp's FlashMHA.")
{
    attention, compare, device, position, data, steps, batch, block, layers, embed, heads, kvHeads, lr, dropout,
    sampleChars, seed, logEvery, outDir, summaryJson,
};

root.SetAction(parse =>
{
    var o = new TrainOptions
    {
        Attention = parse.GetValue(attention)!,
        Device = parse.GetValue(device)!,
        Position = parse.GetValue(position)!,
        DataPath = parse.GetValue(data)!,
        Steps = parse.GetValue(steps),
        Batch = parse.GetValue(batch),
        Block = parse.GetValue(block),
        Layers = parse.GetValue(layers),
        Embed = parse.GetValue(embed),
        Heads = parse.GetValue(heads),
        KvHeads = parse.GetValue(kvHeads),
        LearningRate = parse.GetValue(lr),
        Dropout = parse.GetValue(dropout),
        SampleChars = parse.GetValue(sampleChars),
        Seed = parse.GetValue(seed),
        LogEvery = Math.Max(1, parse.GetValue(logEvery)),
        OutDir = parse.GetValue(outDir)!,
        SummaryJson = parse.GetValue(summaryJson),
    };
    if (OptionErrors(o) is string error)
    {
        AnsiConsole.MarkupLine($"[red]{Markup.Escape(error)}[/]");
        return 2;
    }
    if (parse.GetValue(compare))
    {
        // Children get every option but --compare; each adds its own --attention and --summary-json.
        var forwarded = args.Where(a => a != "--compare").ToList();
        RemoveOption(forwarded, "--attention");
        return CompareRunner.Run(o, forwarded);
    }
    return TrainOnce(o);
});

return root.Parse(args).Invoke();

static int TrainOnce(TrainOptions o)
{
    torch.Device dev = ResolveDevice(o.Device);
    RunSummary summary = new Trainer(o, dev).Run();

    Directory.CreateDirectory(o.OutDir);
    string svg = Path.Combine(o.OutDir, $"loss-curve-{o.Attention}.svg");
    LossCurveSvg.Write(svg, $"char-GPT training loss ({o.Attention}, {summary.Device})", [new(o.Attention, "#d62728", summary.TrainLoss)]);
    if (o.SummaryJson is not null)
        summary.Save(o.SummaryJson);

    AnsiConsole.Write(new Rule("[bold]sample[/]"));
    Console.WriteLine(summary.Sample);
    AnsiConsole.Write(new Rule());
    Console.WriteLine($"attention {summary.Attention} on {summary.Device} ({summary.DType})");
    Console.WriteLine($"train loss {summary.TrainLoss[0][1]:F3} -> {summary.TrainLoss[^1][1]:F3}; val loss {summary.ValLossBefore:F3} -> {summary.ValLossAfter:F3}");
    Console.WriteLine($"throughput {summary.TokensPerSecond:N0} tokens/s; peak memory " +
        (summary.PeakMemoryBytes is long m ? $"{DeviceMemory.Format(m)} ({summary.MemorySource})" : "n/a (CPU run or no CUDA runtime found)"));
    Console.WriteLine($"loss curve: {svg}");
    return 0;
}

static torch.Device ResolveDevice(string choice)
{
    bool cuda = choice != "cpu" && torch.cuda.is_available();
    if (choice == "cuda" && !cuda)
        throw new InvalidOperationException("--device cuda was asked for, but TorchSharp sees no CUDA device.");
    if (choice == "auto" && !cuda)
        AnsiConsole.MarkupLine("[yellow]No CUDA device: training on the CPU (consider --layers 2 --embed 128 --block 64).[/]");
    return cuda ? torch.CUDA : torch.CPU;
}

static string? OptionErrors(TrainOptions o)
{
    if (o.Steps < 1) return "--steps must be >= 1.";
    if (o.Batch < 1) return "--batch must be >= 1.";
    if (o.Block < 2) return "--block must be >= 2.";
    if (o.Layers < 1) return "--layers must be >= 1.";
    if (o.Heads < 1 || o.Embed % o.Heads != 0) return $"--heads ({o.Heads}) must divide --embed ({o.Embed}).";
    if (o.KvHeads < 0 || o.Heads % o.EffectiveKvHeads != 0) return $"--kv-heads ({o.KvHeads}) must divide --heads ({o.Heads}).";
    if (o.Position == "rotary" && (o.Embed / o.Heads) % 2 != 0) return "rotary positions need an even head dimension.";
    if (o.LearningRate <= 0) return "--lr must be > 0.";
    if (o.Dropout < 0 || o.Dropout >= 1) return "--dropout must be in [0, 1).";
    if (!File.Exists(o.DataPath)) return $"--data: {o.DataPath} does not exist.";
    return null;
}

static void RemoveOption(List<string> args, string name)
{
    for (int i = args.Count - 1; i >= 0; i--)
    {
        if (args[i] == name)
        {
            args.RemoveAt(i);
            if (i < args.Count) args.RemoveAt(i);
        }
        else if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
        {
            args.RemoveAt(i);
        }
    }
}
