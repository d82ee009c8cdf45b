using System.Globalization;
using Spectre.Console;

namespace FlashAttn.Demo;

/// <summary>What a table shows: the error columns, and rates in TFLOP/s (GPUs) or GFLOP/s (CPUs).</summary>
public sealed record ReportStyle(bool WithReference, bool Tera)
{
    public string RateUnit => Tera ? "TFLOP/s" : "GFLOP/s";
}

/// <summary>Renders the result rows as a console table and, on request, as Markdown.</summary>
public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static string[] Header(ReportStyle style)
    {
        var header = new List<string> { "scenario", "flash fwd ms", "flash bwd ms", $"fwd {style.RateUnit}", $"bwd {style.RateUnit}",
            "flash extra mem", "naive fwd ms", "naive bwd ms", "naive S×S mem" };
        if (style.WithReference) header.AddRange(["max err out", "max err lse", "max err dq", "max err dk", "max err dv"]);
        return header.ToArray();
    }

    private static string[] Cells(Row row, ReportStyle style)
    {
        Measurement f = row.Flash;
        var cells = new List<string>
        {
            row.Scenario.Describe(),
            Ms(f.ForwardMs), Ms(f.BackwardMs),
            Rate(row.Scenario.ForwardFlops, f.ForwardMs, style), Rate(row.Scenario.BackwardFlops, f.BackwardMs, style),
            Bytes(Max(f.ForwardExtraBytes, f.BackwardExtraBytes)),
            row.Naive is null ? "skipped" : Ms(row.Naive.ForwardMs),
            row.Naive is null ? "skipped" : Ms(row.Naive.BackwardMs),
            row.Naive is null ? $"needs {Bytes(row.NaiveBytes)}" : Bytes(row.NaiveBytes),
        };
        if (style.WithReference && row.Errors is { } e)
            cells.AddRange([Err(e.Output), Err(e.Lse), Err(e.Dq), Err(e.Dk), Err(e.Dv)]);
        return cells.ToArray();
    }

    public static void Print(IReadOnlyList<Row> rows, ReportStyle style)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string h in Header(style)) table.AddColumn(new TableColumn(h).RightAligned());
        foreach (Row row in rows) table.AddRow(Cells(row, style).Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]{style.RateUnit} count the matrix products over unmasked scores (backward = 2.5 × forward). " +
            "Flash memory is the peak resident memory a call added (CPU) or its device scratch (CUDA); the naive " +
            "attention's is the size of the float32 P and dS matrices it materializes.[/]");
    }

    public static void PrintMarkdown(IReadOnlyList<Row> rows, ReportStyle style, string title)
    {
        Console.WriteLine();
        Console.WriteLine($"{title} ({DateTime.UtcNow:yyyy-MM-dd})");
        Console.WriteLine();
        Console.WriteLine("| " + string.Join(" | ", Header(style)) + " |");
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", Header(style).Length)));
        foreach (Row row in rows) Console.WriteLine("| " + string.Join(" | ", Cells(row, style)) + " |");
    }

    private static long? Max(long? a, long? b) => a is null || b is null ? null : Math.Max(a.Value, b.Value);

    private static string Ms(double ms) => ms.ToString(ms < 10 ? "0.00" : "0.0", Inv);

    private static string Rate(double flops, double ms, ReportStyle style)
    {
        double rate = flops / (ms * (style.Tera ? 1e9 : 1e6));
        return rate.ToString(rate < 10 ? "0.00" : "0.0", Inv);
    }

    private static string Err(double e) => e.ToString("0.0e+0", Inv);

    private static string Bytes(long? bytes) => bytes switch
    {
        null => "n/a",
        < 1L << 20 => $"{bytes / 1024.0:0.0} KiB".Replace(',', '.'),
        < 1L << 30 => $"{bytes / (double)(1L << 20):0.0} MiB".Replace(',', '.'),
        _ => $"{bytes / (double)(1L << 30):0.00} GiB".Replace(',', '.'),
    };
}
