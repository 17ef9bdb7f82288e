using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Marten;
using Projections.Tests.Analytics;
using Projections.Tests.Infrastructure;
using Projections.Tests.Metrics;

namespace Projections.Tests.ReadModels;

/// <summary>
/// Blue/green rebuilds through <c>POST /api/admin/projections/{name}/rebuild</c>: readers polling every endpoint while
/// every projection rebuilds and new events arrive only ever see complete states (each projection's part of an answer is
/// the reference over some prefix of what was delivered), never an error; afterwards every figure equals the reference over everything.
/// </summary>
public sealed class RebuildTests(AppFixture app) : AppTest(app)
{
    private static readonly string[] All = ["UserMetrics", "InventoryMetrics", "GalleryAnalytics", "ReferralAnalytics"];

    [Fact]
    public async Task Readers_see_only_complete_states_while_every_projection_rebuilds_under_ingest()
    {
        var shop = new RandomShop(41).WithUsers(200).WithProducts(200);
        var gallery = RandomGallery.Standard(43);
        var (shopDelivery, galleryDelivery) = (shop.Delivery(), gallery.Delivery());

        // Before the rebuild: 60% of each delivery. During it: the rest, in steps; state k = before + the first k steps.
        // Each step is published once the previous one is processed, and is smaller than a daemon batch (200 events in
        // the tests), so that the live projections only ever stand at a step.
        const int steps = 24;
        var (shopBefore, shopSteps) = Split(shopDelivery, steps);
        var (galleryBefore, gallerySteps) = Split(galleryDelivery, steps);
        var last = (await App.PublishAllAsync([.. shopBefore, .. galleryBefore])).LastSequence;
        await App.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={last}");
        await App.GetJsonAsync($"{AnalyticsApi.Url(WholeRange(gallery))}&min_sequence={last}");

        var shopStates = Enumerable.Range(0, steps + 1)
            .Select(k => MetricsState.Of([.. shopBefore, .. shopSteps.Take(k).SelectMany(s => s)])).ToList();
        var galleryStates = Enumerable.Range(0, steps + 1)
            .Select(k => AnalyticsReference.Replay(galleryBefore.Concat(gallerySteps.Take(k).SelectMany(s => s))).Expected(gallery.FirstDay, gallery.LastDay))
            .ToList();

        // Readers poll every endpoint until the rebuilds have finished and every step is in.
        var seen = new ConcurrentBag<(string Url, HttpStatusCode Status, string Body)>();
        using var stop = new CancellationTokenSource();
        string[] urls =
        [
            "/metrics/admin-dashboard", "/metrics/admin-dashboard?active_only=false", "/metrics/staff-dashboard", "/metrics/inventory",
            AnalyticsApi.Url(WholeRange(gallery)),
        ];
        var readers = urls.Select(url => Task.Run(async () =>
        {
            using var client = App.Host.Server.CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Admin);
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.GetAsync(url);
                seen.Add((url, response.StatusCode, await response.Content.ReadAsStringAsync()));
            }
        })).ToList();

        var statusUrls = new List<string>();
        foreach (var projection in All)
        {
            var accepted = await App.Host.Scenario(s =>
            {
                s.Post.Url($"/api/admin/projections/{projection}/rebuild");
                s.WithBearerToken(TestTokens.Admin);
                s.StatusCodeShouldBe(202);
            });
            var body = await accepted.ReadAsJsonAsync<JsonElement>();
            Assert.StartsWith("rb-", body.GetProperty("rebuildId").GetString());
            statusUrls.Add(body.GetProperty("statusUrl").GetString()!);
        }

        var (duringRebuild, namedInStatus) = (0, 0);
        for (var k = 0; k < steps; k++)
        {
            if (await AnyRunning(statusUrls))
            {
                duringRebuild++;
            }

            namedInStatus += await RunningInStatus(statusUrls);

            JsonObject[] step = [.. shopSteps[k], .. gallerySteps[k]];
            Assert.True(step.Length < 200, $"step {k} has {step.Length} events");
            last = (await App.PublishAsync(step)).LastSequence;
            await App.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={last}");
            await App.GetJsonAsync($"{AnalyticsApi.Url(WholeRange(gallery))}&min_sequence={last}");
        }

        var finished = new List<JsonElement>();
        foreach (var url in statusUrls)
        {
            finished.Add(await App.WaitForRebuildAsync(url));
        }

        await App.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={last}");
        await App.GetJsonAsync($"{AnalyticsApi.Url(WholeRange(gallery))}&min_sequence={last}");
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.True(duringRebuild > 0, "no events were ingested while a rebuild ran");
        Assert.True(namedInStatus > 0, "the status never named a running rebuild");
        foreach (var status in finished)
        {
            Assert.Equal("completed", status.GetProperty("status").GetString());
            Assert.Equal(100, status.GetProperty("percent").GetDouble());
            Assert.Equal(status.GetProperty("total").GetInt64(), status.GetProperty("processed").GetInt64());
        }

        // Every answer during the rebuilds: 200, and a complete state (each projection's part of it at some step).
        Assert.True(seen.Count >= urls.Length, $"only {seen.Count} reads");
        foreach (var (url, status, body) in seen.Distinct())
        {
            Assert.True(status == HttpStatusCode.OK, $"{url} answered {(int)status}: {body}");
            using var json = JsonDocument.Parse(body);
            var activeOnly = !url.Contains("active_only=false", StringComparison.Ordinal);
            var matched = url.StartsWith(AnalyticsApi.Route, StringComparison.Ordinal)
                ? AnalyticsParts(json.RootElement).All(part => galleryStates.Any(state => part(state)))
                : MetricsParts(url, activeOnly).All(part => shopStates.Any(state => part(state, json.RootElement)));
            Assert.True(matched, $"{url} answered a state that is none of the complete ones: {body}");
        }

        // Afterwards: every figure equals the reference over everything delivered, from the new version of each projection.
        var everything = shopStates[^1];
        foreach (var part in MetricsParts("/metrics/admin-dashboard", activeOnly: true))
        {
            Assert.True(part(everything, await App.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={last}")));
        }

        AnalyticsApi.AssertMatches(galleryStates[^1],
            await App.GetJsonAsync($"{AnalyticsApi.Url(WholeRange(gallery))}&min_sequence={last}"));

        var projections = await App.GetJsonAsync("/api/admin/projections");
        foreach (var projection in projections.GetProperty("projections").EnumerateArray())
        {
            Assert.Equal(2, projection.GetProperty("version").GetInt32());
            Assert.Equal("running", projection.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, projection.GetProperty("rebuild").ValueKind);
        }
    }

    /// <summary>How many projections the status shows with a rebuild in progress; each must be one of those requested,
    /// named by its id and status URL, and the projection <c>rebuilding</c>.</summary>
    private async Task<int> RunningInStatus(List<string> statusUrls)
    {
        var named = 0;
        foreach (var projection in (await App.GetJsonAsync("/api/admin/projections")).GetProperty("projections").EnumerateArray())
        {
            if (projection.GetProperty("rebuild") is not { ValueKind: JsonValueKind.Object } rebuild)
            {
                continue;
            }

            var statusUrl = rebuild.GetProperty("statusUrl").GetString()!;
            Assert.Contains(statusUrl, statusUrls);
            Assert.EndsWith("/" + rebuild.GetProperty("rebuildId").GetString(), statusUrl);
            Assert.Equal("rebuilding", projection.GetProperty("status").GetString());
            named++;
        }

        return named;
    }

    [Fact]
    public async Task A_second_request_while_one_is_pending_or_running_is_a_conflict()
    {
        await App.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = "u-1", ["role"] = "customer" })]);
        await App.Host.PauseAllDaemonsAsync();
        string statusUrl;
        try
        {
            var first = await Post("UserMetrics", 202);
            statusUrl = first.GetProperty("statusUrl").GetString()!;
            var pending = await App.GetJsonAsync(statusUrl);
            Assert.Equal("running", pending.GetProperty("status").GetString());

            var second = await Post("UserMetrics", 409);
            Assert.Equal(409, second.GetProperty("status").GetInt32());
            Assert.Contains("UserMetrics", second.GetProperty("detail").GetString());

            // Another projection is independent.
            await Post("InventoryMetrics", 202);
        }
        finally
        {
            await App.Host.ResumeAllDaemonsAsync();
        }

        Assert.Equal("completed", (await App.WaitForRebuildAsync(statusUrl)).GetProperty("status").GetString());
        Assert.Equal("completed", (await App.RebuildAsync("UserMetrics")).GetProperty("status").GetString());
        var projections = await App.GetJsonAsync("/api/admin/projections");
        var users = projections.GetProperty("projections").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "UserMetrics");
        Assert.Equal(3, users.GetProperty("version").GetInt32());
        Assert.Equal(1, (await App.GetJsonAsync("/metrics/staff-dashboard")).GetProperty("total_customers").GetInt32());
    }

    [Fact]
    public async Task Concurrent_requests_start_exactly_one_rebuild()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var client = App.Host.Server.CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Admin);
            using var response = await client.PostAsync("/api/admin/projections/GalleryAnalytics/rebuild", null);
            return response.StatusCode;
        }));
        Assert.Single(answers, HttpStatusCode.Accepted);
        Assert.All(answers.Where(a => a != HttpStatusCode.Accepted), a => Assert.Equal(HttpStatusCode.Conflict, a));
    }

    [Fact]
    public async Task Unknown_projection_or_rebuild_is_404_and_only_admins_may_rebuild()
    {
        var unknown = await App.Host.Scenario(s =>
        {
            s.Post.Url("/api/admin/projections/Nope/rebuild");
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(404);
            s.ContentTypeShouldBe("application/problem+json");
        });
        Assert.Contains("UserMetrics, InventoryMetrics, GalleryAnalytics, ReferralAnalytics", await unknown.ReadAsTextAsync());

        await App.Host.Scenario(s =>
        {
            s.Get.Url("/api/admin/projections/UserMetrics/rebuilds/rb-none");
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(404);
        });
        await App.Host.Scenario(s =>
        {
            s.Post.Url("/api/admin/projections/UserMetrics/rebuild");
            s.WithBearerToken(TestTokens.For("staff", "view_customers", "manage_inventory"));
            s.StatusCodeShouldBe(403);
        });
        await App.Host.Scenario(s =>
        {
            s.Post.Url("/api/admin/projections/UserMetrics/rebuild");
            s.StatusCodeShouldBe(401);
        });
    }

    private async Task<JsonElement> Post(string projection, int status)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Post.Url($"/api/admin/projections/{projection}/rebuild");
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(status);
        });
        return await result.ReadAsJsonAsync<JsonElement>();
    }

    private async Task<bool> AnyRunning(List<string> statusUrls)
    {
        foreach (var url in statusUrls)
        {
            if ((await App.GetJsonAsync(url)).GetProperty("status").GetString() == "running")
            {
                return true;
            }
        }

        return false;
    }

    private static string WholeRange(RandomGallery gallery) => AnalyticsApi.Range(gallery.FirstDay, gallery.LastDay);

    private static (List<JsonObject> Before, List<JsonObject[]> Steps) Split(List<JsonObject> delivery, int steps)
    {
        var before = delivery.Count * 6 / 10;
        var rest = delivery.Skip(before).ToList();
        var size = (rest.Count + steps - 1) / steps;
        return ([.. delivery.Take(before)], [.. rest.Chunk(size)]);
    }

    /// <summary>
    /// The independently computed parts of a Metrics answer: user counts (one projection) and inventory figures (another);
    /// each part must equal the reference over some prefix of the delivery, since the two projections move separately.
    /// </summary>
    /// <summary>An analytics answer's two parts, each one projection's: <c>referralMetrics</c> (ReferralAnalytics) and
    /// everything else (GalleryAnalytics). Each must be a complete state; the two may stand at different steps.</summary>
    private static IEnumerable<Func<JsonNode, bool>> AnalyticsParts(JsonElement answer)
    {
        static (JsonNode Gallery, JsonNode Referrals) Split(JsonNode document)
        {
            var gallery = document.DeepClone();
            var analytics = gallery["analytics"]!.AsObject();
            var referrals = analytics["referralMetrics"]!.DeepClone();
            analytics.Remove("referralMetrics");
            return (gallery, referrals);
        }

        var (gallery, referrals) = Split(JsonNode.Parse(answer.GetRawText())!);
        var (galleryAnswer, referralAnswer) = (JsonSerializer.SerializeToElement(gallery), JsonSerializer.SerializeToElement(referrals));
        yield return state => AnalyticsApi.Matches(Split(state).Gallery, galleryAnswer);
        yield return state => AnalyticsApi.Matches(Split(state).Referrals, referralAnswer);
    }

    private static IEnumerable<Func<MetricsState, JsonElement, bool>> MetricsParts(string url, bool activeOnly)
    {
        static bool IsUserField(string name) => name.Contains("customers") || name.Contains("staff") || name.Contains("admins");

        static bool FieldsMatch(MetricsReference.Expected expected, JsonElement actual, Func<string, bool> which)
        {
            var names = actual.EnumerateObject().Select(p => p.Name).Where(which).Order().ToList();
            var expectedNames = expected.Fields.Keys.Where(which).Order().ToList();
            return names.SequenceEqual(expectedNames)
                && expectedNames.All(n => actual.GetProperty(n).ValueKind == JsonValueKind.Number && actual.GetProperty(n).GetDecimal() == expected.Fields[n]);
        }

        static bool RevenueMatches(MetricsReference.Expected expected, JsonElement actual)
        {
            if (!actual.TryGetProperty("inventory_revenue_by_currency", out var byCurrency))
            {
                return expected.RevenueByCurrency.Count == 0;
            }

            return byCurrency.EnumerateObject().Select(p => p.Name).Order().SequenceEqual(expected.RevenueByCurrency.Keys.Order())
                && expected.RevenueByCurrency.All(c => c.Value.All(f => byCurrency.GetProperty(c.Key).GetProperty(f.Key).GetDecimal() == f.Value));
        }

        if (url.StartsWith("/metrics/staff-dashboard", StringComparison.Ordinal))
        {
            yield return (state, actual) => FieldsMatch(state.Staff, actual, IsUserField);
            yield break;
        }

        if (url.StartsWith("/metrics/admin-dashboard", StringComparison.Ordinal))
        {
            yield return (state, actual) => FieldsMatch(state.Admin(activeOnly), actual, IsUserField);
        }

        yield return (state, actual) =>
        {
            var expected = state.Inventory(activeOnly);
            return FieldsMatch(expected, actual, n => !IsUserField(n) && n != "inventory_revenue_by_currency") && RevenueMatches(expected, actual);
        };
    }

    /// <summary>The reference's Metrics answers for one delivered prefix, computed once.</summary>
    private sealed record MetricsState(MetricsReference.Expected Staff, MetricsReference.Expected[] Admins, MetricsReference.Expected[] Inventories)
    {
        public static MetricsState Of(List<JsonObject> delivery) => new(MetricsReference.Staff(delivery),
            [MetricsReference.Admin(delivery, activeOnly: false), MetricsReference.Admin(delivery, activeOnly: true)],
            [MetricsReference.InventoryOnly(delivery, activeOnly: false), MetricsReference.InventoryOnly(delivery, activeOnly: true)]);

        public MetricsReference.Expected Admin(bool activeOnly) => Admins[activeOnly ? 1 : 0];

        public MetricsReference.Expected Inventory(bool activeOnly) => Inventories[activeOnly ? 1 : 0];
    }
}
