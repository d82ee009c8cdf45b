using System.Globalization;
using System.Text;

namespace Gpt.Report;

/// <summary>A loss-versus-step chart as a self-contained SVG file (no imaging library needed).</summary>
public static class LossCurveSvg
{
    public sealed record Series(string Name, string Color, IReadOnlyList<double[]> Points);

    private const int Width = 720, Height = 420, Left = 70, Right = 20, Top = 40, Bottom = 60;

    public static void Write(string path, string title, IReadOnlyList<Series> series)
    {
        var all = series.SelectMany(s => s.Points).ToList();
        if (all.Count == 0)
            throw new ArgumentException("There is no point to plot.", nameof(series));
        double xTick = NiceStep(Math.Max(1, all.Max(p => p[0])) / 5);
        double xMax = Math.Ceiling(Math.Max(1, all.Max(p => p[0])) / xTick) * xTick;
        double yMin = Math.Floor(all.Min(p => p[1]) * 2) / 2, yMax = Math.Ceiling(all.Max(p => p[1]) * 2) / 2;
        if (yMax <= yMin) yMax = yMin + 0.5;
        double X(double step) => Left + step / xMax * (Width - Left - Right);
        double Y(double loss) => Top + (yMax - loss) / (yMax - yMin) * (Height - Top - Bottom);
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        svg.AppendLine($"<text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>");
        for (int i = 0; i <= 5; i++)
        {
            double loss = yMin + (yMax - yMin) * i / 5, y = Y(loss);
            svg.AppendLine($"<line x1=\"{Left}\" y1=\"{F(y)}\" x2=\"{Width - Right}\" y2=\"{F(y)}\" stroke=\"#e5e5e5\"/>");
            svg.AppendLine($"<text x=\"{Left - 8}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{loss.ToString("0.00", CultureInfo.InvariantCulture)}</text>");
        }
        for (double step = 0; step <= xMax + 1e-9; step += xTick)
            svg.AppendLine($"<text x=\"{F(X(step))}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{step:0}</text>");
        svg.AppendLine($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>");
        svg.AppendLine($"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>");
        svg.AppendLine($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 22}\" text-anchor=\"middle\">step</text>");
        svg.AppendLine($"<text x=\"18\" y=\"{(Top + Height - Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {(Top + Height - Bottom) / 2})\">training loss (nats/char)</text>");
        for (int i = 0; i < series.Count; i++)
        {
            Series s = series[i];
            string points = string.Join(" ", s.Points.Select(p => $"{F(X(p[0]))},{F(Y(p[1]))}"));
            // Later series dashed and thinner, so that curves which coincide (same seed, exact attention) both show.
            string style = i == 0 ? "stroke-width=\"3.5\"" : "stroke-width=\"1.8\" stroke-dasharray=\"7 4\"";
            svg.AppendLine($"<polyline fill=\"none\" stroke=\"{s.Color}\" {style} points=\"{points}\"/>");
            int ly = Top + 10 + 18 * i;
            svg.AppendLine($"<line x1=\"{Width - Right - 150}\" y1=\"{ly}\" x2=\"{Width - Right - 125}\" y2=\"{ly}\" stroke=\"{s.Color}\" {style}/>");
            svg.AppendLine($"<text x=\"{Width - Right - 118}\" y=\"{ly + 4}\">{Escape(s.Name)}</text>");
        }
        svg.AppendLine("</svg>");
        File.WriteAllText(path, svg.ToString());
    }

    private static double NiceStep(double raw)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double f = raw / magnitude;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
