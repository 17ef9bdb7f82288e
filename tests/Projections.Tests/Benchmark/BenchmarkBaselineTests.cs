using Projections.Shop;
using System.Text.Json;
using Alba;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Benchmark;

/// <summary>
/// The benchmark compares the read models with a baseline that aggregates per-entity data with SQL on every request.
/// The comparison is only fair if both give the same answers: checked here on a generated shop.
/// </summary>
public sealed class BenchmarkBaselineTests(AppFixture app) : AppTest(app)
{
    private const string Year = "start_date=2024-01-01&end_date=2024-12-31";

    [Fact]
    public async Task The_sql_baseline_answers_with_the_figures_the_read_models_serve()
    {
        var (last, accepted, _) = await App.PublishAllAsync(new ShopGenerator(ShopSize.Tiny, seed: 7).Envelopes().ToList(), batchSize: 1000);
        Assert.True(accepted > 1000);
        var admin = await App.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={last}");
        var analytics = (await App.GetJsonAsync($"/api/admin/analytics?{Year}&min_sequence={last}")).GetProperty("analytics");

        // A second host with the benchmark routes, reading what the suite's daemon projected.
        await using var bench = AppFixture.Build(builder =>
        {
            builder.UseSetting("Benchmark:Enabled", "true");
            builder.UseSetting("Projections:RunDaemon", "false");
        });
        var baselineAdmin = await GetAsync(bench, "/bench/baseline/admin-dashboard");
        var baseline = (await GetAsync(bench, $"/bench/baseline/analytics?{Year}")).GetProperty("analytics");

        var fields = baselineAdmin.EnumerateObject().ToList();
        Assert.Equal(27, fields.Count);
        foreach (var field in fields)
        {
            Assert.True(admin.GetProperty(field.Name).GetDecimal() == field.Value.GetDecimal(), $"{field.Name}: {admin.GetProperty(field.Name)} != {field.Value}");
        }

        var statuses = analytics.GetProperty("ordersByStatus").EnumerateObject().Where(s => s.Value.GetInt64() > 0)
            .ToDictionary(s => StatusKey(s.Name), s => s.Value.GetDecimal());
        var baselineStatuses = baseline.GetProperty("ordersByStatus").EnumerateObject()
            .ToDictionary(s => StatusKey(s.Name), s => s.Value.GetDecimal());
        Assert.True(statuses.Count >= 3);
        Assert.Equal(statuses.OrderBy(s => s.Key), baselineStatuses.OrderBy(s => s.Key));

        Assert.Equal(Artists(analytics), Artists(baseline));
        Assert.Equal(analytics.GetProperty("cartMetrics").GetProperty("activeCarts").GetDecimal(), baseline.GetProperty("carts").GetDecimal());

        var timeline = Timeline(analytics);
        Assert.Equal(366, timeline.Count);
        Assert.Contains(timeline, d => d.Orders > 0);
        Assert.Equal(timeline, Timeline(baseline));
    }

    /// <summary>The contract's status name ("partially_shipped") and the stored one ("PartiallyShipped") alike.</summary>
    private static string StatusKey(string name) => name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static List<(string, decimal, decimal, decimal)> Artists(JsonElement analytics) =>
        analytics.GetProperty("topArtists").EnumerateArray().Select(a => (a.GetProperty("orgId").GetString()!,
            a.GetProperty("totalOrders").GetDecimal(), a.GetProperty("totalRevenue").GetDecimal(), a.GetProperty("itemsSold").GetDecimal())).ToList();

    private static List<(string Date, decimal Orders, decimal Revenue)> Timeline(JsonElement analytics) =>
        analytics.GetProperty("timeline").EnumerateArray().Select(d =>
            (d.GetProperty("date").GetString()!, d.GetProperty("orders").GetDecimal(), d.GetProperty("revenue").GetDecimal())).ToList();

    private static async Task<JsonElement> GetAsync(IAlbaHost host, string url)
    {
        var result = await host.Scenario(s =>
        {
            s.Get.Url(url);
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(200);
        });
        using var document = JsonDocument.Parse(await result.ReadAsTextAsync());
        return document.RootElement.Clone();
    }
}
