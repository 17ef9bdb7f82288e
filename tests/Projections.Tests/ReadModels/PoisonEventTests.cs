using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Projections.Orders;
using Projections.Referrals;
using Projections.Tests.Infrastructure;
using static Projections.Tests.Analytics.AnalyticsApi;

namespace Projections.Tests.ReadModels;

/// <summary>
/// An event that makes a projection throw (history stored before the contract's limits, or a bug) is set aside with its
/// reason, every other event goes on being counted, live and in a rebuild, status and readiness say what is true, and an
/// operator can list and replay what was set aside. A database that refuses a batch makes the projection "retrying",
/// and not ready, until it accepts it again.
/// </summary>
public sealed class PoisonEventTests(AppFixture app) : AppTest(app)
{
    private static readonly DateTimeOffset Day = new(2024, 6, 3, 10, 0, 0, TimeSpan.Zero);
    private const string OneDay = "start_date=2024-06-03&end_date=2024-06-03";

    /// <summary>Events as history stored before the limits had them: appended to the event store directly, past ingest.</summary>
    private async Task<long> StoreBeforeTheLimitsAsync(string stream, object data)
    {
        await using var session = App.Store.LightweightSession();
        var action = session.Events.Append(stream, data);
        await session.SaveChangesAsync();
        return action.Events[^1].Sequence;
    }

    public static TheoryData<string> Poisons => new() { "order with a unit price of 7.9e28", "store sale at 0001-01-01" };

    /// <summary>What the issue found freezing the analytics: events stored ahead of the poison one, the poison one, the
    /// exception it throws, and the projection that sets it aside.</summary>
    private static (List<(string Stream, object Data)> Before, (string Stream, object Data) Poison, string Reason, string Projection) Poison(string name) =>
        name switch
    {
        "order with a unit price of 7.9e28" => ([], ("order:o-poison",
            new OrderPlaced("o-poison", [new OrderItem("p-1", "org-a", 2, 79_000_000_000_000_000_000_000_000_000m)], null, null, "USD", Day)),
            "OverflowException", "GalleryAnalytics"),
        _ => ([("referral:r-old", new ReferralClicked("r-old", "v-9", "org-a", Day.AddDays(-400)))],
            ("store-order:org-a:s-poison", new ArtistStoreOrderCompleted("s-poison", "v-1", "org-a", 10m, "USD", DateTimeOffset.MinValue)),
            "ArgumentOutOfRangeException", "ReferralAnalytics"),
    };

    [Theory]
    [MemberData(nameof(Poisons))]
    public async Task A_poison_event_is_set_aside_and_every_other_event_counts_live_and_after_a_rebuild(string poison)
    {
        await App.PublishAsync([OrderPlaced("o-1", Day, ("org-a", 1, 100m)), Clicked("r-1", "v-1", "org-a", Day)]);
        var (before, (stream, data), reason, projection) = Poison(poison);
        foreach (var (beforeStream, beforeData) in before)
        {
            await StoreBeforeTheLimitsAsync(beforeStream, beforeData);
        }

        var poisonSequence = await StoreBeforeTheLimitsAsync(stream, data);
        var last = (await App.PublishAsync([OrderPlaced("o-2", Day.AddHours(1), ("org-a", 3, 10m)), StoreSale("s-1", "v-1", "org-a", 25m, Day.AddHours(2))]))
            .LastSequence;

        // The projection went past the poison event: a read that waits for the last event answers (no 503).
        await AssertFiguresAsync(last);
        var status = await StatusAsync(projection);
        Assert.Equal("running", status.GetProperty("status").GetString());
        Assert.Equal(1, status.GetProperty("deadLetterEvents").GetInt64());
        Assert.Contains(reason, status.GetProperty("lastError").GetString());
        Assert.Contains($"at sequence {poisonSequence}", status.GetProperty("lastError").GetString());
        Assert.Equal(1, (await App.GetJsonAsync("/api/admin/projections")).GetProperty("deadLetterEvents").GetInt64());
        var listed = Assert.Single((await App.GetJsonAsync("/api/admin/projections/dead-letters")).GetProperty("deadLetterEvents").EnumerateArray());
        Assert.Equal(projection, listed.GetProperty("projection").GetString());
        Assert.Equal(poisonSequence, listed.GetProperty("sequence").GetInt64());
        Assert.StartsWith(reason, listed.GetProperty("reason").GetString());
        await WaitForReadinessAsync(200);

        // A rebuild meets the same event, sets it aside again and completes with the same figures.
        var rebuild = await App.RebuildAsync(projection);
        Assert.Equal("completed", rebuild.GetProperty("status").GetString());
        await AssertFiguresAsync(last);
        status = await StatusAsync(projection);
        Assert.Equal(2, status.GetProperty("version").GetInt32());
        Assert.Equal(1, status.GetProperty("deadLetterEvents").GetInt64());
    }

    private async Task AssertFiguresAsync(long last)
    {
        var analytics = (await GetAsync(App, OneDay, last)).GetProperty("analytics");
        AssertMatches(JsonNode.Parse("""{ "totalOrders": 2, "totalRevenue": 130.00, "galleryRevenue": 15.60, "artistPayouts": 114.40, "averageOrderValue": 65.00, "totalItemsSold": 4 }"""),
            analytics.GetProperty("overview"));
        AssertMatches(JsonNode.Parse("""{ "totalReferrals": 1, "conversions": 1, "conversionRate": 100.00, "attributedRevenue": 25.00 }"""),
            analytics.GetProperty("referralMetrics"));
    }

    [Fact]
    public async Task Many_poison_events_among_many_good_ones_are_each_set_aside_and_the_rest_counted()
    {
        // 60 poison orders among 600 good ones, appended together so that they share daemon batches.
        await using (var session = App.Store.LightweightSession())
        {
            for (var i = 0; i < 660; i++)
            {
                var poison = i % 11 == 5;
                session.Events.Append($"order:o-{i}", new OrderPlaced($"o-{i}", [new OrderItem("p-1", $"org-{i % 7}", 2, poison ? 7.9e28m : 1.25m)],
                    null, null, "USD", Day.AddMinutes(i)));
            }

            await session.SaveChangesAsync();
        }

        var last = (await App.PublishAsync([OrderPlaced("o-last", Day, ("org-a", 1, 100m))])).LastSequence;
        var overview = (await GetAsync(App, OneDay, last)).GetProperty("analytics").GetProperty("overview");

        Assert.Equal(601, overview.GetProperty("totalOrders").GetInt32());
        Assert.Equal(600 * 2.50m + 100m, overview.GetProperty("totalRevenue").GetDecimal());
        var setAside = (await App.GetJsonAsync("/api/admin/projections/dead-letters")).GetProperty("deadLetterEvents").EnumerateArray().ToList();
        Assert.Equal(60, setAside.Count);
        Assert.All(setAside, e => Assert.StartsWith("OverflowException", e.GetProperty("reason").GetString()));
        Assert.Equal(60, (await StatusAsync("GalleryAnalytics")).GetProperty("deadLetterEvents").GetInt64());
    }

    [Fact]
    public async Task A_replay_after_a_fix_counts_the_event_and_one_that_still_fails_stays_set_aside()
    {
        var fixable = await StoreBeforeTheLimitsAsync("order:o-fix", new OrderPlaced("o-fix", [new OrderItem("p-1", "org-a", 2, 7.9e28m)], null, null, "USD", Day));
        var hopeless = await StoreBeforeTheLimitsAsync("order:o-bad", new OrderPlaced("o-bad", [new OrderItem("p-1", "org-b", 2, 7.9e28m)], null, null, "USD", Day));
        var last = (await App.PublishAsync([OrderPlaced("o-1", Day, ("org-a", 1, 100m))])).LastSequence;
        await GetAsync(App, OneDay, last);
        var listed = (await App.GetJsonAsync("/api/admin/projections/dead-letters")).GetProperty("deadLetterEvents").EnumerateArray().ToList();
        Assert.Equal([fixable, hopeless], listed.Select(e => e.GetProperty("sequence").GetInt64()));

        // The operator repairs one stored event (the fix), then replays everything that was set aside.
        await ExecuteAsync($"update projections.mt_events set data = jsonb_set(data, '{{items,0,unitPrice}}', '79') where seq_id = {fixable}");
        var replay = await PostAsync("/api/admin/projections/dead-letters/replay", 202);
        Assert.Equal(2, replay.GetProperty("events").GetInt32());

        var overview = (await GetAsync(App, OneDay, replay.GetProperty("sequence").GetInt64())).GetProperty("analytics").GetProperty("overview");
        Assert.Equal(2, overview.GetProperty("totalOrders").GetInt32());
        Assert.Equal(258m, overview.GetProperty("totalRevenue").GetDecimal());
        var remaining = Assert.Single((await App.GetJsonAsync("/api/admin/projections/dead-letters")).GetProperty("deadLetterEvents").EnumerateArray());
        Assert.Equal(hopeless, remaining.GetProperty("sequence").GetInt64());
        Assert.Equal(2, remaining.GetProperty("attempts").GetInt32());
        Assert.Equal(1, (await StatusAsync("GalleryAnalytics")).GetProperty("deadLetterEvents").GetInt64());

        // One event by its id: still failing, it stays; an id nobody set aside is a 404.
        var one = await PostAsync($"/api/admin/projections/dead-letters/{remaining.GetProperty("id").GetString()}/replay", 202);
        Assert.Equal(1, one.GetProperty("events").GetInt32());
        await GetAsync(App, OneDay, one.GetProperty("sequence").GetInt64());
        Assert.Equal(3, Assert.Single((await App.GetJsonAsync("/api/admin/projections/dead-letters")).GetProperty("deadLetterEvents").EnumerateArray())
            .GetProperty("attempts").GetInt32());
        await PostAsync($"/api/admin/projections/dead-letters/{Guid.NewGuid()}/replay", 404);
    }

    [Fact]
    public async Task While_the_database_refuses_a_batch_status_says_retrying_and_ready_is_503_until_it_is_accepted()
    {
        // Break the thing on purpose: the user states' table refuses every write, so UserMetrics' batch fails as a whole.
        await ExecuteAsync("""
            create function projections.test_refuse_writes() returns trigger language plpgsql as
              $$ begin raise exception 'test: writes to user states are refused'; end $$;
            create trigger test_refuse_writes before insert or update on projections.mt_doc_userstate
              for each row execute function projections.test_refuse_writes();
            """);
        long last;
        try
        {
            last = (await App.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = "u-1", ["role"] = "customer" })])).LastSequence;
            var status = await WaitForStatusAsync("UserMetrics", "retrying");
            Assert.Contains("test: writes to user states are refused", status.GetProperty("lastError").GetString());
            var ready = await WaitForReadinessAsync(503);
            Assert.Equal("Unhealthy: projection UserMetrics is retrying after an error", ready.Trim());
            // Reads keep answering what the read model holds, and one that waits for the event says it is not there.
            await App.Host.Scenario(s =>
            {
                s.Get.Url($"/metrics/staff-dashboard?min_sequence={last}");
                s.WithBearerToken(TestTokens.Admin);
                s.StatusCodeShouldBe(503);
            });
        }
        finally
        {
            await ExecuteAsync("drop trigger test_refuse_writes on projections.mt_doc_userstate; drop function projections.test_refuse_writes();");
        }

        // The daemon's next attempt goes through: running again, the event counted, ready.
        var running = await WaitForStatusAsync("UserMetrics", "running");
        Assert.Equal(JsonValueKind.Null, running.GetProperty("lastError").ValueKind);
        var counts = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}");
        Assert.Equal(1, counts.GetProperty("total_customers").GetInt32());
        await WaitForReadinessAsync(200);
    }

    // ---- helpers ----

    private async Task<JsonElement> StatusAsync(string projection) =>
        (await App.GetJsonAsync("/api/admin/projections")).GetProperty("projections").EnumerateArray()
        .Single(p => p.GetProperty("name").GetString() == projection);

    /// <summary>Asks the status route until the projection has the status (the daemon retries on its own schedule).</summary>
    private async Task<JsonElement> WaitForStatusAsync(string projection, string expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var status = await StatusAsync(projection);
            if (status.GetProperty("status").GetString() == expected)
            {
                return status;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    /// <summary>Asks the readiness probe until it answers the status (its result is at most a second old); returns the body.</summary>
    private async Task<string> WaitForReadinessAsync(int expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var result = await App.Host.Scenario(s =>
            {
                s.Get.Url("/health/ready");
                s.IgnoreStatusCode();
            });
            if (result.Context.Response.StatusCode == expected)
            {
                return await result.ReadAsTextAsync();
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    private async Task<JsonElement> PostAsync(string url, int status)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Post.Url(url);
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(status);
        });
        using var document = JsonDocument.Parse(await result.ReadAsTextAsync());
        return document.RootElement.Clone();
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
