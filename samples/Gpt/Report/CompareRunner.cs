using System.Diagnostics;
using Gpt.Training;
using Spectre.Console;

namespace Gpt.Report;

/// <summary>
/// --compare: trains with each attention in its own child process (so each has its own CUDA caching
/// allocator and its memory peak is its own), then tabulates tokens/s and peak memory side by side.
/// </summary>
public static class CompareRunner
{
    public static int Run(TrainOptions options, IReadOnlyList<string> forwardedArgs)
    {
        Directory.CreateDirectory(options.OutDir);
        var summaries = new List<RunSummary>();
        foreach (string attention in new[] { "flash", "sdpa" })
        {
            string json = Path.Combine(options.OutDir, $"summary-{attention}.json");
            File.Delete(json);
            var args = forwardedArgs.Concat(["--attention", attention, "--summary-json", json]).ToList();
            AnsiConsole.MarkupLine($"[grey]── child run: {attention} ──[/]");
            int code = RunSelf(args);
            if (code != 0 || !File.Exists(json))
            {
                AnsiConsole.MarkupLine($"[red]The {attention} run failed (exit code {code}).[/]");
                return code == 0 ? 1 : code;
            }
            summaries.Add(RunSummary.Load(json));
        }

        var table = new Table().Title($"flash vs sdpa, {summaries[0].Device}, {summaries[0].DType}, {summaries[0].TokensPerStep} tokens/step");
        table.AddColumns("attention", "tokens/s", "peak GPU memory", "train loss first → last", "val loss before → after", "time");
        foreach (RunSummary s in summaries)
        {
            table.AddRow(s.Attention, $"{s.TokensPerSecond:N0}",
                s.PeakMemoryBytes is long m ? DeviceMemory.Format(m) : "n/a",
                $"{s.TrainLoss[0][1]:F3} → {s.TrainLoss[^1][1]:F3}",
                $"{s.ValLossBefore:F3} → {s.ValLossAfter:F3}",
                $"{s.TrainSeconds:F1} s");
        }
        AnsiConsole.Write(table);
        double speedup = summaries[0].TokensPerSecond / Math.Max(1e-9, summaries[1].TokensPerSecond);
        Console.WriteLine($"flash / sdpa throughput: {speedup:F2}x");
        if (summaries[0].PeakMemoryBytes is long fm && summaries[1].PeakMemoryBytes is long sm && sm > 0)
            Console.WriteLine($"flash / sdpa peak memory: {fm / (double)sm:F2}x (measured as {summaries[0].MemorySource} device use above the start)");

        string svg = Path.Combine(options.OutDir, "loss-curve-compare.svg");
        LossCurveSvg.Write(svg, $"char-GPT training loss, {summaries[0].Device}",
            [new("flash", "#d62728", summaries[0].TrainLoss), new("sdpa", "#1f77b4", summaries[1].TrainLoss)]);
        Console.WriteLine($"loss curves: {svg}");
        return 0;
    }

    private static int RunSelf(IReadOnlyList<string> args)
    {
        string? host = Environment.ProcessPath;
        string entry = typeof(CompareRunner).Assembly.Location;
        var psi = new ProcessStartInfo { UseShellExecute = false };
        // `dotnet Gpt.dll` runs under the dotnet host; an apphost runs itself.
        if (host is not null && Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.FileName = host;
            psi.ArgumentList.Add(entry);
        }
        else
        {
            psi.FileName = host ?? throw new InvalidOperationException("Cannot find this program's executable to start a child run.");
        }
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using var child = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {psi.FileName}.");
        child.WaitForExit();
        return child.ExitCode;
    }
}
