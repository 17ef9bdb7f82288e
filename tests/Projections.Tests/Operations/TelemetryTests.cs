using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Operations;

/// <summary>The Prometheus scrape endpoint: anonymous, text format, and exact ingest counts, progress and read latencies.</summary>
public sealed partial class TelemetryTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task Prometheus_counts_ingested_events_and_duplicates_exactly_and_shows_progress_and_reads()
    {
        var before = await ScrapeAsync();
        var events = Enumerable.Range(1, 7)
            .Select(i => Envelopes.Of("user.registered", new() { ["userId"] = $"u-{i}", ["role"] = "customer" })).ToList();
        await App.PublishAsync(events);
        var receipt = await App.PublishAsync([.. events.Take(3), Envelopes.Of("user.registered", new() { ["userId"] = "u-8", ["role"] = "staff" })]);
        await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={receipt.LastSequence}", TestTokens.For("staff", "view_customers"));
        var after = await ScrapeAsync();

        Assert.Equal(8, Value(after, "projections_ingest_events_total") - Value(before, "projections_ingest_events_total"));
        Assert.Equal(3, Value(after, "projections_ingest_duplicates_total") - Value(before, "projections_ingest_duplicates_total"));
        Assert.Equal(receipt.LastSequence, Value(after, "projections_sequence", "UserMetrics"));
        Assert.Equal(0, Value(after, "projections_lag_events", "UserMetrics"));
        Assert.True(Value(after, "projections_read_duration_milliseconds_count", "staff") > Value(before, "projections_read_duration_milliseconds_count", "staff"));
    }

    private async Task<string> ScrapeAsync()
    {
        // The gauges show what the progress poller last saw: let it see the latest progress first.
        await App.Host.Services.GetRequiredService<Projections.Hosting.ProjectionProgress>().RefreshAsync(CancellationToken.None);
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url("/prometheus");
            s.StatusCodeShouldBe(200);
        });
        Assert.StartsWith("text/plain", result.Context.Response.ContentType);
        return await result.ReadAsTextAsync();
    }

    /// <summary>The sum of a metric's samples, over those whose labels contain <paramref name="label"/> (0 when none).</summary>
    private static long Value(string scrape, string metric, string? label = null) =>
        (long)scrape.Split('\n')
            .Select(line => Sample().Match(line))
            .Where(m => m.Success && m.Groups["name"].Value == metric && (label is null || m.Groups["labels"].Value.Contains($"\"{label}\"")))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})?\s+(?<value>\S+)")]
    private static partial Regex Sample();
}
