using System.Globalization;
using Spectre.Console;

namespace FlashAttn.Demo;

/// <summary>Renders the result rows as a console table and, on request, as Markdown.</summary>
public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static string[] Header(bool withReference)
    {
        var header = new List<string> { "scenario", "flash fwd ms", "flash bwd ms", "fwd TFLOP/s", "bwd TFLOP/s",
            "flash extra mem", "naive fwd ms", "naive bwd ms", "naive S×S mem" };
        if (withReference) header.AddRange(["max err out", "max err lse", "max err dq", "max err dk", "max err dv"]);
        return header.ToArray();
    }

    private static string[] Cells(Row row, bool withReference)
    {
        Measurement f = row.Flash;
        var cells = new List<string>
        {
            row.Scenario.Describe(),
            Ms(f.ForwardMs), Ms(f.BackwardMs),
            Rate(row.Scenario.ForwardFlops, f.ForwardMs), Rate(row.Scenario.BackwardFlops, f.BackwardMs),
            Bytes(Max(f.ForwardExtraBytes, f.BackwardExtraBytes)),
            row.Naive is null ? "skipped" : Ms(row.Naive.ForwardMs),
            row.Naive is null ? "skipped" : Ms(row.Naive.BackwardMs),
            row.Naive is null ? $"needs {Bytes(row.NaiveBytes)}" : Bytes(row.NaiveBytes),
        };
        if (withReference && row.Errors is { } e)
            cells.AddRange([Err(e.Output), Err(e.Lse), Err(e.Dq), Err(e.Dk), Err(e.Dv)]);
        return cells.ToArray();
    }

    public static void Print(IReadOnlyList<Row> rows, bool withReference)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string h in Header(withReference)) table.AddColumn(new TableColumn(h).RightAligned());
        foreach (Row row in rows) table.AddRow(Cells(row, withReference).Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]TFLOP/s count the matrix products over unmasked scores (backward = 2.5 × forward). " +
            "Flash memory is the peak resident memory a call added (CPU) or its device scratch (CUDA); the naive " +
            "attention's is the size of the float32 P and dS matrices it materializes.[/]");
    }

    public static void PrintMarkdown(IReadOnlyList<Row> rows, bool withReference, string title)
    {
        Console.WriteLine();
        Console.WriteLine($"{title} ({DateTime.UtcNow:yyyy-MM-dd})");
        Console.WriteLine();
        Console.WriteLine("| " + string.Join(" | ", Header(withReference)) + " |");
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", Header(withReference).Length)));
        foreach (Row row in rows) Console.WriteLine("| " + string.Join(" | ", Cells(row, withReference)) + " |");
    }

    private static long? Max(long? a, long? b) => a is null || b is null ? null : Math.Max(a.Value, b.Value);

    private static string Ms(double ms) => ms.ToString(ms < 10 ? "0.00" : "0.0", Inv);

    private static string Rate(double flops, double ms)
    {
        double tflops = flops / (ms * 1e9);
        return tflops.ToString(tflops < 10 ? "0.000" : "0.0", Inv);
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
