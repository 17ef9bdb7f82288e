using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Marten;
using Marten.Events.Daemon.Coordination;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Projections.Ingest;
using Projections.ReadModels;
using Wolverine.Persistence.Durability.DeadLetterManagement;
using Wolverine.Runtime;

namespace Projections.Tests.Infrastructure;

/// <summary>
/// One service host for the whole suite: the real Program, a real PostgreSQL (ops/test starts a throwaway one and sets
/// ConnectionStrings__Postgres), the async daemon in HotCold mode as in production, and real signed tokens.
/// </summary>
public sealed class AppFixture : IAsyncLifetime
{
    public IAlbaHost Host { get; private set; } = null!;

    /// <summary>The time zones the test hosts keep analytics for, besides UTC.</summary>
    public static readonly string[] TimeZones = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham"];

    public static IAlbaHost Build(Action<IWebHostBuilder>? configure = null, string environment = "Testing") =>
        AlbaHost.For<Program>(builder =>
        {
            builder.UseEnvironment(environment);
            builder.UseSetting("ConnectionStrings:Postgres", ConnectionString);
            builder.UseSetting("Auth:SigningKey", TestTokens.SigningKey);
            builder.UseSetting("Auth:Issuer", TestTokens.Issuer);
            builder.UseSetting("Auth:Audience", TestTokens.Audience);
            builder.UseSetting("Projections:MinSequenceTimeout", "00:00:10");
            // Small daemon batches, so that entities span many batches (and transactions) in every test.
            builder.UseSetting("Projections:BatchSize", "200");
            // Small rebuild chunks, so that a rebuild takes many steps while reads and ingests go on.
            builder.UseSetting("Projections:RebuildChunkSize", "300");
            // One chunk per batch, as many batches as chunks (RebuildMemoryTests run several chunks per batch).
            builder.UseSetting("Projections:RebuildBatchTime", "00:00:00");
            // The zones of the time-zone tests: daylight-saving changes and fractional offsets.
            for (var i = 0; i < TimeZones.Length; i++)
            {
                builder.UseSetting($"Analytics:TimeZones:{i}", TimeZones[i]);
            }

            // A dashboard's origin, for the CORS tests; keep-alives every second, so a test sees them soon.
            builder.UseSetting("Cors:AllowedOrigins:0", AllowedOrigin);
            builder.UseSetting("Reads:KeepAliveInterval", "00:00:01");
            configure?.Invoke(builder);
        }).GetAwaiter().GetResult();

    /// <summary>A host on a new, empty database of its own, without the daemon: the test moves the projections' progress
    /// itself (in <c>mt_event_progression</c>).</summary>
    public static async Task<(IAlbaHost Host, string Database)> BuildWithoutDaemonAsync(string prefix, Action<IWebHostBuilder>? configure = null)
    {
        var database = await ServiceProcess.CreateDatabaseAsync(prefix);
        return (Build(b =>
        {
            b.UseSetting("ConnectionStrings:Postgres", database);
            b.UseSetting("Projections:RunDaemon", "false");
            configure?.Invoke(b);
        }), database);
    }

    /// <summary>The browser origin the test hosts let read (<c>Cors:AllowedOrigins</c>).</summary>
    public const string AllowedOrigin = "https://dashboard.example";

    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
        ?? throw new InvalidOperationException("Run the tests with ops/test, which starts PostgreSQL and sets ConnectionStrings__Postgres.");

    /// <summary>The helpers of this fixture on another host (its own settings or database).</summary>
    public static AppFixture On(IAlbaHost host) => new() { Host = host };

    public Task InitializeAsync()
    {
        // The shared host also ingests from the Wolverine queue (off by default), so every test runs beside it.
        Host = Build(b => b.UseSetting("Queue:Enabled", "true"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();

    /// <summary>Empties the event store, every document and the queue's dead letters, and forgets cached responses and
    /// progress.</summary>
    public async Task ResetAsync()
    {
        await Host.ResetAllMartenDataAsync();
        if (Host.Services.GetService<IWolverineRuntime>() is { } wolverine)
        {
            await wolverine.Storage.DeadLetters.DiscardAsync(new DeadLetterEnvelopeQuery(), CancellationToken.None);
        }

        Host.Services.GetRequiredService<ReadModelCache>().Clear();
        await Host.Services.GetRequiredService<ProjectionProgress>().RefreshAsync(CancellationToken.None);
    }

    /// <summary>Publishes envelopes as one batch through <c>POST /api/events</c> and returns the receipt.</summary>
    public async Task<IngestReceipt> PublishAsync(IEnumerable<JsonObject> envelopes)
    {
        var body = new JsonArray(envelopes.Select(e => (JsonNode)e.DeepClone()).ToArray()).ToJsonString();
        var result = await Host.Scenario(s =>
        {
            s.Post.Text(body).ContentType("application/json").ToUrl("/api/events");
            s.WithBearerToken(TestTokens.Service);
            s.StatusCodeShouldBe(202);
        });
        return (await result.ReadAsJsonAsync<IngestReceipt>())!;
    }

    /// <summary>Publishes in batches of the given size, in order; returns the last receipt and the totals.</summary>
    public Task<(long LastSequence, int Accepted, int Duplicates)> PublishAllAsync(IReadOnlyList<JsonObject> envelopes, int batchSize = 250) =>
        PublishBatchesAsync(envelopes.Chunk(batchSize));

    /// <summary>Publishes the batches one after another; returns the last sequence and the totals of the receipts.</summary>
    public async Task<(long LastSequence, int Accepted, int Duplicates)> PublishBatchesAsync(IEnumerable<JsonObject[]> batches)
    {
        var (last, accepted, duplicates) = (0L, 0, 0);
        foreach (var chunk in batches)
        {
            var receipt = await PublishAsync(chunk);
            (last, accepted, duplicates) = (receipt.LastSequence, accepted + receipt.Accepted, duplicates + receipt.Duplicates);
        }

        return (last, accepted, duplicates);
    }

    /// <summary>GETs a read endpoint as the given caller and returns the JSON object it answered.</summary>
    public async Task<JsonElement> GetJsonAsync(string url, string? token = null)
    {
        var result = await Host.Scenario(s =>
        {
            s.Get.Url(url);
            s.WithBearerToken(token ?? TestTokens.Admin);
            s.StatusCodeShouldBe(200);
        });
        using var document = JsonDocument.Parse(await result.ReadAsTextAsync());
        return document.RootElement.Clone();
    }

    /// <summary>
    /// Rebuilds a projection as an operator would, through <c>POST /api/admin/projections/{name}/rebuild</c>, and follows
    /// its status URL until the rebuild has finished; returns the last status.
    /// </summary>
    public async Task<JsonElement> RebuildAsync(string projection, TimeSpan? timeout = null)
    {
        var accepted = await Host.Scenario(s =>
        {
            s.Post.Url($"/api/admin/projections/{projection}/rebuild");
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(202);
        });
        var statusUrl = (await accepted.ReadAsJsonAsync<JsonElement>()).GetProperty("statusUrl").GetString()!;
        return await WaitForRebuildAsync(statusUrl, timeout);
    }

    /// <summary>Follows a rebuild's status URL until it is no longer running (or fails the test after the timeout).</summary>
    public async Task<JsonElement> WaitForRebuildAsync(string statusUrl, TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var status = await GetJsonAsync(statusUrl);
            if (status.GetProperty("status").GetString() != "running")
            {
                return status;
            }

            // The rebuild moves with the daemon; ask again shortly (the status is a plain read, not a wait).
            await Task.Delay(25, cancellation.Token);
        }
    }

    /// <summary>A query session on the slot a projection's reads come from now.</summary>
    public async Task<IQuerySession> ActiveSlotSessionAsync(string projection)
    {
        await using var session = Store.QuerySession();
        var slot = (await session.LoadAsync<ProjectionSlots>(projection))?.Active ?? ProjectionSlots.Blue;
        return Store.QuerySession(slot);
    }

    /// <summary>Rebuilds projections with Marten's own (offline) rebuild, and restarts them afterwards.</summary>
    public async Task RebuildOfflineAsync(params string[] projections)
    {
        var daemon = Host.Services.GetRequiredService<IProjectionCoordinator>().DaemonForMainDatabase();
        foreach (var projection in projections)
        {
            await daemon.RebuildProjectionAsync(projection, CancellationToken.None);
            // The rebuilt agent stays stopped until it is started again.
            await daemon.StartAgentAsync(projection + ":All", CancellationToken.None);
        }

        await Host.Services.GetRequiredService<ProjectionProgress>().RefreshAsync(CancellationToken.None);
    }

    public IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<AppFixture>
{
    public const string Name = "app";
}

/// <summary>Base for tests on the shared host: each test starts from an empty store.</summary>
[Collection(AppCollection.Name)]
public abstract class AppTest(AppFixture app) : IAsyncLifetime
{
    protected AppFixture App { get; } = app;

    public Task InitializeAsync() => App.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}
