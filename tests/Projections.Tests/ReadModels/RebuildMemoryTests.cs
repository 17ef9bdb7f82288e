using System.Net.Http.Headers;
using System.Text.Json;
using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Projections.Analytics;
using Projections.Orders;
using Projections.ReadModels;
using Projections.Tests.Analytics;
using Projections.Tests.Infrastructure;
using Projections.Tests.Metrics;

namespace Projections.Tests.ReadModels;

/// <summary>
/// A rebuild keeps the documents it computes in memory across chunks and batches and writes them now and then
/// (<c>RebuildCache</c>): whether it writes them once at the end, or every chunk with most of them dropped from memory
/// (over <c>Projections:RebuildMemory</c>), or is killed half way and taken up by a new process, the slot it makes active
/// holds exactly the documents live processing wrote, set-aside events included.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class RebuildMemoryTests
{
    private static readonly string[] All = ["UserMetrics", "InventoryMetrics", "GalleryAnalytics", "ReferralAnalytics"];

    /// <summary>Memory for the documents in megabytes: everything (written once), about 60 kB for the node (written and
    /// partly dropped every few chunks), none (written and dropped after every chunk).</summary>
    [Theory]
    [InlineData("40")]
    [InlineData("0.06")]
    [InlineData("0")]
    public async Task A_rebuild_in_many_chunks_makes_exactly_the_documents_of_live_processing(string memory)
    {
        var database = await ServiceProcess.CreateDatabaseAsync("rebuild_memory");
        await using var host = AppFixture.Build(b => b
            .UseSetting("ConnectionStrings:Postgres", database)
            .UseSetting("Projections:RebuildChunkSize", "150")
            .UseSetting("Projections:RebuildBatchTime", "00:00:00.050")
            .UseSetting("Projections:RebuildMemory", memory));
        var app = AppFixture.On(host);

        var shop = new RandomShop(71).WithUsers(150).WithProducts(150);
        var gallery = RandomGallery.Standard(73);
        await app.PublishAllAsync(shop.Delivery());
        // Events that throw, set aside live and again by the rebuild.
        await using (var session = app.Store.LightweightSession())
        {
            for (var i = 0; i < 5; i++)
            {
                session.Events.Append($"order:o-poison-{i}", new OrderPlaced($"o-poison-{i}",
                    [new OrderItem("p-1", "org-a", 2, 79_000_000_000_000_000_000_000_000_000m)], null, null, "USD", DateTimeOffset.Parse("2024-06-03T10:00:00Z")));
            }

            await session.SaveChangesAsync();
        }

        var last = (await app.PublishAllAsync(gallery.Delivery())).LastSequence;
        await WaitForAllAsync(app, last);
        var live = await DocumentsAsync(database, app);
        Assert.Equal(5, live.Count(d => d.Key.StartsWith("setasideevent", StringComparison.Ordinal)));

        var statusUrls = new List<string>();
        var fullCollections = GC.GetGCMemoryInfo(GCKind.FullBlocking).Index;
        foreach (var projection in All)
        {
            statusUrls.Add(await RequestRebuildAsync(host.Server.CreateClient(), projection));
        }

        foreach (var url in statusUrls)
        {
            Assert.Equal("completed", (await app.WaitForRebuildAsync(url, TimeSpan.FromMinutes(2))).GetProperty("status").GetString());
        }

        var rebuilt = await DocumentsAsync(database, app);
        AssertSame(live, rebuilt);
        await AssertAnalyzedAsync(database, host);

        // The rebuilds over, the node gives the memory they took back: one full compacting collection.
        using var released = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (GC.GetGCMemoryInfo(GCKind.FullBlocking).Index == fullCollections)
        {
            await Task.Delay(20, released.Token);
        }
    }

    /// <summary>
    /// Every batch of the rebuild carries live events of its own (no ticks: the pump is off and a step of events is
    /// published once the previous one is processed). Each batch replays history only up to its first event, and its own
    /// events reach the new version only through later batches' history: none may be lost on the way (a chunk of history
    /// read for one batch and used by a later one, as a read-ahead once did, loses them).
    /// </summary>
    [Fact]
    public async Task A_rebuild_whose_every_batch_carries_live_events_misses_none_of_them()
    {
        var database = await ServiceProcess.CreateDatabaseAsync("rebuild_ahead");
        await using var host = AppFixture.Build(b => b
            .UseSetting("ConnectionStrings:Postgres", database)
            .UseSetting("Projections:RebuildChunkSize", "100")
            .ConfigureServices(s => s.Remove(s.Single(d => d.ImplementationType == typeof(RebuildPump)))));
        var app = AppFixture.On(host);
        var gallery = RandomGallery.Standard(91);
        var delivery = gallery.Delivery();
        var history = delivery.Count * 3 / 5;
        await app.PublishAllAsync(delivery[..history]);
        var range = AnalyticsApi.Range(gallery.FirstDay, gallery.LastDay);

        var statusUrl = await RequestRebuildAsync(host.Server.CreateClient(), GalleryAnalyticsProjection.ProjectionName);
        using var admin = host.Server.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Admin);
        var (next, steps) = (history, 0);
        while ((await StatusAsync(admin, statusUrl)).GetProperty("status").GetString() == "running")
        {
            Assert.True(next < delivery.Count, "the rebuild did not complete before the events ran out");
            var step = delivery[next..Math.Min(delivery.Count, next + 15)];
            next += step.Count;
            steps++;
            await app.GetJsonAsync(AnalyticsApi.Url(range, (await app.PublishAsync(step)).LastSequence));
        }

        Assert.Equal("completed", (await StatusAsync(admin, statusUrl)).GetProperty("status").GetString());
        Assert.True(steps > 20, $"the rebuild took only {steps} batches");
        var last = (await app.PublishAllAsync(delivery[next..])).LastSequence;
        AnalyticsApi.AssertMatches(AnalyticsReference.Replay(delivery).Expected(gallery.FirstDay, gallery.LastDay),
            await app.GetJsonAsync(AnalyticsApi.Url(range, last)));
    }

    [Fact]
    public async Task A_node_killed_mid_rebuild_leaves_a_successor_that_completes_it_with_exactly_the_same_documents()
    {
        var database = await ServiceProcess.CreateDatabaseAsync("rebuild_kill");
        var settings = new Dictionary<string, string>
        {
            // Small chunks, one per batch, written every few chunks: the kill falls between writes, after some.
            ["Projections__RebuildChunkSize"] = "40",
            ["Projections__RebuildBatchTime"] = "00:00:00",
            ["Projections__RebuildMemory"] = "0.03",
        };
        var port = ServiceProcess.FreePort();
        var service = await ServiceProcess.StartAsync(database, port, settings);
        try
        {
            var shop = new RandomShop(81).WithUsers(120).WithProducts(120);
            var gallery = RandomGallery.Standard(83);
            var last = 0L;
            foreach (var batch in shop.Delivery().Concat(gallery.Delivery()).Chunk(250))
            {
                last = (await ServiceProcess.PublishUntilAcceptedAsync(() => service.Client, batch)).Receipt.LastSequence;
            }

            foreach (var url in new[] { "/metrics/admin-dashboard", AnalyticsApi.Url(AnalyticsApi.Range(gallery.FirstDay, gallery.LastDay)) })
            {
                await service.ReadAsync(url, last);
            }

            var live = await DocumentsAsync(database);
            var client = AdminClient(service);
            var statusUrl = await RequestRebuildAsync(client, "GalleryAnalytics");

            // Kill once the rebuild has written some of its documents and is still running.
            JsonElement status;
            do
            {
                await Task.Delay(5);
                status = await StatusAsync(client, statusUrl);
            }
            while (status.GetProperty("status").GetString() == "running" && await WrittenAsync(database, "GalleryAnalytics") <= 0);

            await service.KillAsync();
            Assert.Equal("running", status.GetProperty("status").GetString());
            var written = await WrittenAsync(database, "GalleryAnalytics");
            Assert.True(written > 0 && written < last, $"written through {written} of {last}");

            service = await ServiceProcess.StartAsync(database, port, settings);
            client = AdminClient(service);
            do
            {
                await Task.Delay(25);
                status = await StatusAsync(client, statusUrl);
            }
            while (status.GetProperty("status").GetString() == "running");

            Assert.Equal("completed", status.GetProperty("status").GetString());
            AssertSame(live, await DocumentsAsync(database));
        }
        finally
        {
            await service.DisposeAsync();
        }
    }

    private static HttpClient AdminClient(ServiceProcess service)
    {
        var client = new HttpClient { BaseAddress = service.Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Admin);
        return client;
    }

    private static async Task<string> RequestRebuildAsync(HttpClient client, string projection)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/admin/projections/{projection}/rebuild");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Admin);
        using var response = await client.SendAsync(request);
        Assert.Equal(202, (int)response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("statusUrl").GetString()!;
    }

    private static async Task<JsonElement> StatusAsync(HttpClient client, string statusUrl) =>
        JsonDocument.Parse(await client.GetStringAsync(statusUrl)).RootElement;

    /// <summary>Waits until every projection has processed through <paramref name="last"/>.</summary>
    private static async Task WaitForAllAsync(AppFixture app, long last)
    {
        await app.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={last}");
        await app.GetJsonAsync($"/metrics/inventory?min_sequence={last}");
        await app.GetJsonAsync(AnalyticsApi.Url(AnalyticsApi.Range(new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 1)), last));
    }

    /// <summary>What the rebuild in progress of a projection has written its slot through (its stored
    /// <c>ProjectionSlots</c>).</summary>
    private static async Task<long> WrittenAsync(string database, string projection)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select coalesce((data->'rebuild'->>'written')::bigint, -1) from {MartenTables.DocumentTable(typeof(ProjectionSlots))} where id = $1", connection)
        {
            Parameters = { new() { Value = projection } },
        };
        return await command.ExecuteScalarAsync() is long written ? written : -1;
    }

    /// <summary>
    /// The rebuild analyzed every document table it wrote (a manual <c>ANALYZE</c>: autovacuum's sets
    /// <c>last_autoanalyze</c> instead), last after its final writes: the planner counts the rows there are, within the
    /// error of the small sample the rebuild analyzes (3,000 rows; a table of more pages is estimated from them). A
    /// slot that starts empty otherwise keeps statistics of no rows for the rest of the rebuild, and loading documents
    /// back by id scanned the whole slot.
    /// </summary>
    private static async Task AssertAnalyzedAsync(string database, IAlbaHost host)
    {
        var store = host.Services.GetRequiredService<IDocumentStore>();
        var tables = host.Services.GetRequiredService<ProjectionCatalogue>().Projections.SelectMany(p => p.DocumentTypes)
            .Select(t => store.Options.FindOrResolveDocumentType(t).TableName.Name).ToList();
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        foreach (var table in tables)
        {
            await using var command = new NpgsqlCommand(
                $"select s.last_analyze is not null, c.reltuples::bigint, (select count(*) from {MartenTables.Schema}.{table}) " +
                $"from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.schemaname = '{MartenTables.Schema}' and s.relname = '{table}'",
                connection);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), table);
            var (analyzed, estimated, rows) = (reader.GetBoolean(0), reader.GetInt64(1), reader.GetInt64(2));
            if (rows > 0)
            {
                Assert.True(analyzed, table);
                Assert.True(Math.Abs(estimated - rows) <= rows / 10, $"{table}: the planner estimates {estimated} rows, it holds {rows}");
            }
        }
    }

    /// <summary>Every projection document of every projection's active slot, by table and id, as JSON text (set-aside
    /// events without the time they were set aside).</summary>
    private static async Task<Dictionary<string, string>> DocumentsAsync(string database, AppFixture? app = null)
    {
        string[] tables =
        [
            "userstate", "usermetrics", "productstate", "inventorymetrics", "orderstate", "cartstate", "artistprofile", "analyticsbucket",
            "referral_day", "referral_calendar", "referralbucket", "setasideevent",
        ];
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        var documents = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            // The active slot of the projection that owns the table (set-aside events: each one's projection's).
            await using var command = new NpgsqlCommand($"""
                select d.id, (d.data - 'setAsideAt')::text from {MartenTables.Schema}.mt_doc_{table} d
                where d.tenant_id = (select s.data->>'active' from {MartenTables.DocumentTable(typeof(ProjectionSlots))} s
                                     where s.id = coalesce(d.data->>'projection', $1))
                """, connection)
            {
                Parameters = { new() { Value = OwnerOf(table) } },
            };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                documents[$"{table}/{reader.GetString(0)}"] = reader.GetString(1);
            }
        }

        Assert.Contains(documents.Keys, k => k.StartsWith("orderstate/", StringComparison.Ordinal));
        Assert.Contains(documents.Keys, k => k.StartsWith("userstate/", StringComparison.Ordinal));
        return documents;
    }

    private static string OwnerOf(string table) => table switch
    {
        "userstate" or "usermetrics" => "UserMetrics",
        "productstate" or "inventorymetrics" => "InventoryMetrics",
        "referral_day" or "referral_calendar" or "referralbucket" => ReferralAnalyticsProjection.ProjectionName,
        _ => GalleryAnalyticsProjection.ProjectionName,
    };

    private static void AssertSame(Dictionary<string, string> expected, Dictionary<string, string> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, json) in expected)
        {
            // Numbers by value: a sum's scale depends on the order of additions (0.00 after +12.50 and -12.50; 0 when never counted).
            using var live = JsonDocument.Parse(json);
            using var rebuilt = JsonDocument.Parse(actual[key]);
            Assert.True(JsonElement.DeepEquals(live.RootElement, rebuilt.RootElement), $"{key}: live {json}, rebuilt {actual[key]}");
        }
    }
}
