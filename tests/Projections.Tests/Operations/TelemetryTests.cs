using Alba;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Operations;

/// <summary>The Prometheus scrape endpoint: admin or service tokens only, text format, and exact ingest counts, progress and read latencies.</summary>
public sealed class TelemetryTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task Prometheus_counts_ingested_events_and_duplicates_exactly_and_shows_progress_and_reads()
    {
        // A host of its own: what it counts is only what this test sends.
        await using var host = AppFixture.Build();
        var before = await Prometheus.ScrapeAsync(host);
        var events = Enumerable.Range(1, 7)
            .Select(i => Envelopes.Of("user.registered", new() { ["userId"] = $"u-{i}", ["role"] = "customer" })).ToList();
        await Publish(host, events);
        var last = await Publish(host, [.. events.Take(3), Envelopes.Of("user.registered", new() { ["userId"] = "u-8", ["role"] = "staff" })]);
        await host.Scenario(s =>
        {
            s.Get.Url($"/metrics/staff-dashboard?min_sequence={last}");
            s.WithBearerToken(TestTokens.For("staff", "view_customers"));
            s.StatusCodeShouldBe(200);
        });
        var after = await Prometheus.ScrapeAsync(host);

        Assert.True(after.Contains("projections_ingest_events_total"), after);
        Assert.Equal(8, Prometheus.Value(after, "projections_ingest_events_total") - Prometheus.Value(before, "projections_ingest_events_total"));
        Assert.Equal(3, Prometheus.Value(after, "projections_ingest_duplicates_total") - Prometheus.Value(before, "projections_ingest_duplicates_total"));
        Assert.Equal(last, Prometheus.Value(after, "projections_sequence", "UserMetrics"));
        Assert.Equal(0, Prometheus.Value(after, "projections_lag_events", "UserMetrics"));
        Assert.True(Prometheus.Value(after, "projections_read_duration_milliseconds_count", "staff") > Prometheus.Value(before, "projections_read_duration_milliseconds_count", "staff"));
    }

    private static async Task<long> Publish(IAlbaHost host, List<System.Text.Json.Nodes.JsonObject> envelopes)
    {
        var body = new System.Text.Json.Nodes.JsonArray(envelopes.Select(e => (System.Text.Json.Nodes.JsonNode)e.DeepClone()).ToArray()).ToJsonString();
        var result = await host.Scenario(s =>
        {
            s.Post.Text(body).ContentType("application/json").ToUrl("/api/events");
            s.WithBearerToken(TestTokens.Service);
            s.StatusCodeShouldBe(202);
        });
        return (await result.ReadAsJsonAsync<Projections.Ingest.IngestReceipt>())!.LastSequence;
    }

    [Theory]
    [InlineData(null, 401)]
    [InlineData("staff", 403)]
    [InlineData("customer", 403)]
    [InlineData("admin", 200)]
    [InlineData("service", 200)]
    public async Task Only_admin_and_service_tokens_may_scrape(string? role, int status)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url("/prometheus");
            if (role is not null)
            {
                s.WithBearerToken(TestTokens.For(role, "view_customers", "manage_inventory"));
            }

            s.StatusCodeShouldBe(status);
        });
        if (status != 200)
        {
            Assert.DoesNotContain("projections_", await result.ReadAsTextAsync());
        }
    }
}
