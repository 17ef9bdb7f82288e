using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Projections.Tests.Infrastructure;
using static Projections.Tests.Analytics.AnalyticsApi;

namespace Projections.Tests.Analytics;

/// <summary>
/// A time zone added to <c>Analytics:TimeZones</c> after events were processed has no buckets for them: the service, a
/// real process restarted with the new setting, refuses it with a 503 that says a rebuild is needed, and its status says
/// which zones are not built, until rebuilds of GalleryAnalytics and ReferralAnalytics (a report sums both) fill them;
/// then the zone answers exactly. A zone taken out of the setting misses the events processed meanwhile, so putting it
/// back needs a rebuild again.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class TimeZoneCoverageTests
{
    private const string Gallery = "GalleryAnalytics";
    private const string Referrals = "ReferralAnalytics";
    private const string TwoDays = "start_date=2024-03-30&end_date=2024-03-31";

    [Fact]
    public async Task A_zone_added_later_is_refused_until_a_rebuild_fills_it_and_then_answers_exactly()
    {
        var database = await ServiceProcess.CreateDatabaseAsync("zones");

        // 14:59:59Z and 15:00:00Z on 2024-03-30: either side of midnight in Tokyo (+09:00), the same afternoon in Berlin.
        var first = await RunAsync(database, ["Europe/Berlin"], async service =>
        {
            var last = await PublishAsync(service,
                OrderPlaced("o-a", At("2024-03-30T14:59:59Z"), ("org-a", 1, 10.00m)),
                OrderPlaced("o-b", At("2024-03-30T15:00:00Z"), ("org-a", 2, 5.00m)),
                Clicked("r-a", "v-a", "org-a", At("2024-03-30T16:00:00Z")));
            var berlin = await ReadAsync(service, "tz=Europe/Berlin&" + TwoDays, last);
            AssertTimeline(berlin, ("2024-03-30", 2, 20.00m), ("2024-03-31", 0, 0m));
            Assert.Empty(await NotBuiltAsync(service));
            return last;
        });

        var second = await RunAsync(database, ["Europe/Berlin", "Asia/Tokyo"], async service =>
        {
            var (status, body, retryAfter) = await GetAsync(service, "tz=Asia/Tokyo&" + TwoDays, first);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.NotNull(retryAfter);
            Assert.Contains("Asia/Tokyo", body.GetProperty("detail").GetString());
            Assert.Contains($"Rebuild {Gallery} (POST /api/admin/projections/{Gallery}/rebuild", body.GetProperty("detail").GetString());
            Assert.Contains($"and {Referrals} (POST /api/admin/projections/{Referrals}/rebuild", body.GetProperty("detail").GetString());
            Assert.EndsWith("the zone is served once both rebuilds complete.", body.GetProperty("detail").GetString());
            Assert.Equal(["Asia/Tokyo"], await NotBuiltAsync(service));

            // The zones built before still answer, and so does UTC.
            AssertTimeline(await ReadAsync(service, "tz=Europe/Berlin&" + TwoDays, first), ("2024-03-30", 2, 20.00m), ("2024-03-31", 0, 0m));
            AssertTimeline(await ReadAsync(service, TwoDays, first), ("2024-03-30", 2, 20.00m), ("2024-03-31", 0, 0m));

            // An event processed before the rebuild is in the rebuilt zone too.
            var last = await PublishAsync(service, OrderPlaced("o-c", At("2024-03-31T03:00:00Z"), ("org-a", 1, 7.50m)));
            await RebuildAsync(service, Gallery);

            // The gallery's buckets are built, the referrals' not yet: still refused, naming only what is left to rebuild.
            (status, body, _) = await GetAsync(service, "tz=Asia/Tokyo&" + TwoDays, last);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains($"Rebuild {Referrals} (POST", body.GetProperty("detail").GetString());
            Assert.DoesNotContain(Gallery, body.GetProperty("detail").GetString());
            Assert.EndsWith("the zone is served once the rebuild completes.", body.GetProperty("detail").GetString());
            await RebuildAsync(service, Referrals);
            AssertTimeline(await ReadAsync(service, "tz=Asia/Tokyo&" + TwoDays, last), ("2024-03-30", 1, 10.00m), ("2024-03-31", 2, 17.50m));
            Assert.Empty(await NotBuiltAsync(service));
            return last;
        });

        // Berlin taken out: refused as any zone that is not configured, and events go by without its buckets.
        var third = await RunAsync(database, ["Asia/Tokyo"], async service =>
        {
            var (status, body, _) = await GetAsync(service, "tz=Europe/Berlin&" + TwoDays, second);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("UTC, Asia/Tokyo", body.GetProperty("detail").GetString());
            var last = await PublishAsync(service, OrderPlaced("o-d", At("2024-03-31T12:00:00Z"), ("org-a", 1, 2.50m)),
                Clicked("r-d", "v-a", "org-a", At("2024-03-31T13:00:00Z")));
            AssertTimeline(await ReadAsync(service, "tz=Asia/Tokyo&" + TwoDays, last), ("2024-03-30", 1, 10.00m), ("2024-03-31", 3, 20.00m));
            return last;
        });

        // Berlin back: its buckets miss o-d, so it waits for a rebuild again.
        await RunAsync(database, ["Asia/Tokyo", "Europe/Berlin"], async service =>
        {
            var (status, _, _) = await GetAsync(service, "tz=Europe/Berlin&" + TwoDays, third);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal(["Europe/Berlin"], await NotBuiltAsync(service));
            await RebuildAsync(service, Gallery);
            await RebuildAsync(service, Referrals);
            AssertTimeline(await ReadAsync(service, "tz=Europe/Berlin&" + TwoDays, third), ("2024-03-30", 2, 20.00m), ("2024-03-31", 2, 10.00m));
            return third;
        });
    }

    [Fact]
    public void A_zone_this_machine_does_not_know_in_the_setting_stops_the_start_naming_it()
    {
        var error = Assert.ThrowsAny<Exception>(() => AppFixture.Build(b => b.UseSetting($"Analytics:TimeZones:{AppFixture.TimeZones.Length}", "Europe/Atlantis")));
        Assert.Contains("Analytics:TimeZones: 'Europe/Atlantis'", error.ToString());
    }

    private static async Task<long> RunAsync(string database, string[] zones, Func<ServiceProcess, Task<long>> steps)
    {
        var settings = zones.Select((zone, i) => ($"Analytics__TimeZones__{i}", zone)).ToDictionary(s => s.Item1, s => s.zone);
        await using var service = await ServiceProcess.StartAsync(database, settings: settings);
        return await steps(service);
    }

    private static async Task<long> PublishAsync(ServiceProcess service, params JsonObject[] events) =>
        (await ServiceProcess.PublishUntilAcceptedAsync(() => service.Client, events)).Receipt.LastSequence;

    private static async Task<JsonElement> ReadAsync(ServiceProcess service, string query, long sequence) =>
        (await service.ReadAsync(Route + "?" + query, sequence)).GetProperty("analytics");

    private static async Task<(HttpStatusCode Status, JsonElement Body, RetryConditionHeaderValue? RetryAfter)> GetAsync(
        ServiceProcess service, string query, long sequence)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Route}?{query}&min_sequence={sequence}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Admin);
        using var response = await service.Client.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone(), response.Headers.RetryAfter);
    }

    /// <summary>The zones neither analytics projection has built (the two always agree here: they are rebuilt together).</summary>
    private static async Task<List<string>> NotBuiltAsync(ServiceProcess service)
    {
        var status = await service.ReadAsync("/api/admin/projections", 0);
        List<string> NotBuilt(string name) => [.. status.GetProperty("projections").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name)
            .GetProperty("notBuilt").EnumerateArray().Select(z => z.GetString()!)];
        Assert.Equal(NotBuilt(Gallery), NotBuilt(Referrals));
        return NotBuilt(Gallery);
    }

    private static async Task RebuildAsync(ServiceProcess service, string projection)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/admin/projections/{projection}/rebuild");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Admin);
        using var response = await service.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var statusUrl = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("statusUrl").GetString()!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var status = (await service.ReadAsync(statusUrl, 0)).GetProperty("status").GetString();
            if (status != "running")
            {
                Assert.Equal("completed", status);
                return;
            }

            await Task.Delay(25, timeout.Token);
        }
    }

    private static void AssertTimeline(JsonElement analytics, params (string Date, int Orders, decimal Revenue)[] days) =>
        AssertMatches(new JsonArray(days.Select(d => (JsonNode)new JsonObject
        {
            ["date"] = d.Date,
            ["orders"] = d.Orders,
            ["revenue"] = d.Revenue,
            ["newCarts"] = 0,
        }).ToArray()), analytics.GetProperty("timeline"));
}
