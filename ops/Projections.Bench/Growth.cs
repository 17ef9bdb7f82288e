using System.Globalization;
using System.Text;

namespace Projections.Bench;

/// <summary>
/// How cost grows (issue 13, item 8): with history (the sizes of one run against their event counts: caught-up ingest,
/// rebuild time, the admin dashboard's read p50, peak memory), as a table in the report and a chart
/// (<c>benchmarks-growth.svg</c>); and with keys (the marketplace size, 20,000 artists, against the normal mix).
/// </summary>
public static class Growth
{
    public const string ChartFile = "benchmarks-growth.svg";
    private const string Marketplace = "marketplace";
    private const string Dashboard = "metrics/admin-dashboard";

    private sealed record Panel(string Title, string Unit, Func<SizeResult, double?> Value);

    private static readonly Panel[] Panels =
    [
        new("ingest, caught up", "events/s", r => r.IngestEventsPerSecond),
        new("rebuild of every projection", "s", r => r.RebuildSeconds),
        new("read p50, admin dashboard", "ms", r => r.Reads.FirstOrDefault(x => x.Name == Dashboard)?.P50Ms),
        new("peak memory", "MB", r => r.PeakMemoryBytes / 1048576.0),
    ];

    /// <summary>The sizes that grow in history only, smallest first.</summary>
    private static List<SizeResult> ByHistory(IReadOnlyList<SizeResult> results) =>
        [.. results.Where(r => r.Size != Marketplace && r.Events > 0).OrderBy(r => r.Events)];

    /// <summary>The report's section (empty when the run measured fewer than two sizes and no marketplace), and writes the
    /// chart beside it when there are at least two.</summary>
    public static string Section(IReadOnlyList<SizeResult> results, string outputDirectory)
    {
        var sizes = ByHistory(results);
        var market = results.FirstOrDefault(r => r.Size == Marketplace);
        if (sizes.Count < 2 && market is null)
        {
            return "";
        }

        var md = new StringBuilder("## How cost grows\n\n");
        if (sizes.Count >= 2)
        {
            md.AppendLine("| size | events | ingest, caught up | rebuild | read p50, admin dashboard | peak memory |");
            md.AppendLine("|---|---|---|---|---|---|");
            foreach (var r in sizes)
            {
                var p50 = Panels[2].Value(r);
                md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Size} | {r.Events:N0} | {r.IngestEventsPerSecond:N0} events/s | {r.RebuildSeconds:N1} s | " +
                                                          $"{(p50 is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) + " ms" : "not measured")} | {r.PeakMemoryBytes / 1048576.0:N0} MB |");
            }

            File.WriteAllText(Path.Combine(outputDirectory, ChartFile), Chart(sizes));
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"![How cost grows with the number of events]({ChartFile})").AppendLine();
        }

        if (market is not null)
        {
            // The normal mix of the same run nearest in events (by ratio): the largest would set 0.8M events against
            // 10M at xlarge, whose ingest is slower for its size alone, and flatter the marketplace.
            var normal = sizes.MinBy(r => Math.Abs(Math.Log((double)r.Events / market.Events)));
            md.AppendLine("| growth in keys | value | ratio | target | met |").AppendLine("|---|---|---|---|---|");
            if (normal is null)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| ingest with 20,000 artists, caught up | {market.IngestEventsPerSecond:N0} events/s | no normal mix in this run | ≥ 0.7× the normal mix |  |");
            }
            else
            {
                var ratio = market.IngestEventsPerSecond / normal.IngestEventsPerSecond;
                var met = ratio >= 0.7 ? "yes" : $"**no**: {ratio / 0.7:P0} of the target";
                md.AppendLine(CultureInfo.InvariantCulture, $"| ingest with 20,000 artists, caught up ({market.Events:N0} events) | {market.IngestEventsPerSecond:N0} vs {normal.IngestEventsPerSecond:N0} events/s ({normal.Size}) | {ratio:F2}× | ≥ 0.7× the normal mix | {met} |");
            }

            md.AppendLine();
        }

        return md.ToString();
    }

    /// <summary>Four small line charts against the number of events (logarithmic), one per figure.</summary>
    private static string Chart(List<SizeResult> sizes)
    {
        const int width = 280, height = 180, left = 60, top = 40, plotWidth = 200, plotHeight = 100;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width * 2}" height="{height * 2}" viewBox="0 0 {width * 2} {height * 2}" font-family="sans-serif" font-size="11">""");
        svg.AppendLine("""<title>How cost grows with the number of events</title><rect width="100%" height="100%" fill="white"/>""");
        var minX = Math.Log10(sizes[0].Events);
        var maxX = Math.Log10(sizes[^1].Events);
        for (var i = 0; i < Panels.Length; i++)
        {
            var panel = Panels[i];
            var points = sizes.Select(r => (r, v: panel.Value(r))).Where(p => p.v is not null).Select(p => (p.r, v: p.v!.Value)).ToList();
            var (ox, oy) = (i % 2 * width, i / 2 * height);
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<g transform="translate({ox},{oy})"><text x="{left}" y="20" font-weight="bold">{panel.Title} ({panel.Unit})</text>""");
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{left}" y1="{top + plotHeight}" x2="{left + plotWidth}" y2="{top + plotHeight}" stroke="#888"/><line x1="{left}" y1="{top}" x2="{left}" y2="{top + plotHeight}" stroke="#888"/>""");
            if (points.Count > 0)
            {
                var maxY = points.Max(p => p.v) * 1.15;
                maxY = maxY <= 0 ? 1 : maxY;
                double X(SizeResult r) => left + (maxX > minX ? (Math.Log10(r.Events) - minX) / (maxX - minX) * plotWidth : plotWidth / 2.0);
                double Y(double v) => top + plotHeight - v / maxY * plotHeight;
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{left - 4}" y="{top + 4}" text-anchor="end">{Format(maxY)}</text><text x="{left - 4}" y="{top + plotHeight}" text-anchor="end">0</text>""");
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.r):F1},{Y(p.v):F1}")))}"/>""");
                foreach (var (r, v) in points)
                {
                    svg.AppendLine(CultureInfo.InvariantCulture, $"""<circle cx="{X(r):F1}" cy="{Y(v):F1}" r="3" fill="#1f5fa8"/><text x="{X(r):F1}" y="{Y(v) - 6:F1}" text-anchor="middle">{Format(v)}</text>""");
                    svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{X(r):F1}" y="{top + plotHeight + 14}" text-anchor="middle">{r.Events / 1e6:0.##}M</text>""");
                }
            }

            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{left + plotWidth / 2}" y="{top + plotHeight + 30}" text-anchor="middle" fill="#555">events (log scale)</text></g>""");
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Format(double value) =>
        value.ToString(value >= 100 ? "N0" : "0.##", CultureInfo.InvariantCulture);
}
