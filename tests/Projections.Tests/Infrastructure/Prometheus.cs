using System.Globalization;
using System.Text.RegularExpressions;
using Alba;
using Microsoft.Extensions.DependencyInjection;

namespace Projections.Tests.Infrastructure;

/// <summary>What a host's Prometheus endpoint says, as an operator's scraper reads it.</summary>
public static partial class Prometheus
{
    /// <summary>The host's scrape, after the progress poller has seen the latest progress (the gauges show what it last saw).</summary>
    public static async Task<string> ScrapeAsync(IAlbaHost host)
    {
        await host.Services.GetRequiredService<Projections.ReadModels.ProjectionProgress>().RefreshAsync(CancellationToken.None);
        var result = await host.Scenario(s =>
        {
            s.Get.Url("/prometheus");
            s.WithBearerToken(TestTokens.Service);
            s.StatusCodeShouldBe(200);
        });
        Assert.StartsWith("text/plain", result.Context.Response.ContentType);
        return await result.ReadAsTextAsync();
    }

    /// <summary>The sum of a metric's samples, over those whose labels contain <paramref name="label"/> (0 when none).</summary>
    public static long Value(string scrape, string metric, string? label = null) =>
        (long)scrape.Split('\n')
            .Select(line => Sample().Match(line))
            .Where(m => m.Success && m.Groups["name"].Value == metric && (label is null || m.Groups["labels"].Value.Contains($"\"{label}\"")))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})?\s+(?<value>\S+)")]
    private static partial Regex Sample();
}
