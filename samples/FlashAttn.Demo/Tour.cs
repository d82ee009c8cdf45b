using FlashAttn;
using Spectre.Console;

namespace FlashAttn.Demo;

public sealed record TourSettings(Device Device, double NaiveLimitGiB, bool Markdown);

/// <summary>One row of the result table.</summary>
public sealed record Row(Scenario Scenario, Measurement Flash, NaiveResult? Naive, Errors? Errors, long NaiveBytes);

/// <summary>Timing of the naive attention (float32, materialized score matrices).</summary>
public sealed record NaiveResult(double ForwardMs, double BackwardMs);

/// <summary>Largest absolute differences from the float64 reference.</summary>
public sealed record Errors(double Output, double Lse, double Dq, double Dk, double Dv);

public static class Tour
{
    /// <summary>Moderate shapes that cover fp32/fp16/bf16, causal, GQA and seqlen_q != seqlen_k; each checked in float64.</summary>
    private static IEnumerable<Scenario> TourScenarios(Device device)
    {
        // The float64 reference is the slow part on a CPU: keep its work to a few GFLOP per shape there.
        int scale = device.IsCuda ? 4 : 1;
        ScalarType wide = device.IsCuda ? ScalarType.Float16 : ScalarType.Float32; // CUDA kernels take fp16/bf16 only
        yield return new(new AttentionShape(2, 512 * scale, 512 * scale, 8, 8, 64), false, wide);
        yield return new(new AttentionShape(2, 384 * scale, 384 * scale, 8, 2, 64), true, ScalarType.BFloat16);
        yield return new(new AttentionShape(1, 333 * scale, 250 * scale, 8, 4, 128), true, ScalarType.Float16);
        yield return new(new AttentionShape(1, 1024 * scale, 1024 * scale, 4, 4, 128), false, ScalarType.BFloat16);
    }

    /// <summary>The benchmark grid of docs/PERFORMANCE.md: batch 1, 8 heads, non-causal.</summary>
    private static IEnumerable<Scenario> BenchmarkScenarios()
    {
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            foreach (int d in new[] { 64, 128 })
                foreach (int seqlen in new[] { 1024, 4096, 16384 })
                    yield return new(new AttentionShape(1, seqlen, seqlen, 8, 8, d), false, dtype);
    }

    public static int RunTour(TourSettings settings) =>
        Run(settings, TourScenarios(settings.Device).ToList(), withReference: true, repeats: 3,
            $"FlashAttn tour on {settings.Device} — {FlashAttention.Version}");

    public static int RunBenchmark(TourSettings settings) =>
        Run(settings, BenchmarkScenarios().ToList(), withReference: false, repeats: 1,
            $"FlashAttn benchmark on {settings.Device} — {FlashAttention.Version}, {Environment.ProcessorCount} cores");

    private static int Run(TourSettings settings, List<Scenario> scenarios, bool withReference, int repeats, string title)
    {
        var rows = new List<Row>();
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                foreach (Scenario scenario in scenarios)
                {
                    ProgressTask task = ctx.AddTask(Markup.Escape(scenario.Describe()), maxValue: 3);
                    rows.Add(RunScenario(scenario, settings, withReference, repeats, task));
                    task.Value = task.MaxValue;
                }
            });
        var style = new ReportStyle(withReference, Tera: settings.Device.IsCuda);
        Report.Print(rows, style);
        if (settings.Markdown) Report.PrintMarkdown(rows, style, title);
        return 0;
    }

    private static Row RunScenario(Scenario scenario, TourSettings settings, bool withReference, int repeats, ProgressTask task)
    {
        Inputs inputs = Inputs.Draw(scenario, seed: Environment.TickCount);
        Measurement flash = FlashRunner.Run(scenario, inputs, settings.Device, repeats);
        task.Increment(1);

        AttentionShape s = scenario.Shape;
        long naiveBytes = NaiveAttention<float>.MatrixBytes(s, backward: true);
        NaiveResult? naive = null;
        if (naiveBytes <= settings.NaiveLimitGiB * (1L << 30))
        {
            NaiveAttention<float>.Forward? fwd = null;
            double fwdMs = FlashRunner.MedianMs(() => fwd = NaiveAttention<float>.Run(inputs.Q, inputs.K, inputs.V, s, (float)scenario.Scale, scenario.Causal), repeats);
            double bwdMs = FlashRunner.MedianMs(() => NaiveAttention<float>.Backward(inputs.Q, inputs.K, inputs.V, fwd!, inputs.DOut, s, (float)scenario.Scale), repeats);
            naive = new NaiveResult(fwdMs, bwdMs);
        }
        task.Increment(1);

        Errors? errors = null;
        if (withReference)
        {
            double[] q = Storage.ToDouble(inputs.Q), k = Storage.ToDouble(inputs.K), v = Storage.ToDouble(inputs.V);
            var reference = NaiveAttention<double>.Run(q, k, v, s, scenario.Scale, scenario.Causal);
            var (dq, dk, dv) = NaiveAttention<double>.Backward(q, k, v, reference, Storage.ToDouble(inputs.DOut), s, scenario.Scale);
            errors = new Errors(MaxAbs(flash.Output, reference.Output), MaxAbs(flash.Lse, reference.Lse),
                MaxAbs(flash.Dq, dq), MaxAbs(flash.Dk, dk), MaxAbs(flash.Dv, dv));
        }
        task.Increment(1);
        return new Row(scenario, flash, naive, errors, naiveBytes);
    }

    /// <summary>Largest |a − b|; infinities must match exactly (masked rows' LSE), NaN counts as infinite error.</summary>
    private static double MaxAbs(double[] actual, double[] expected)
    {
        double max = 0;
        for (long i = 0; i < actual.LongLength; i++)
        {
            double a = actual[i], e = expected[i];
            double diff = double.IsInfinity(e) && a == e ? 0 : Math.Abs(a - e);
            max = double.IsNaN(diff) ? double.PositiveInfinity : Math.Max(max, diff);
        }
        return max;
    }
}
