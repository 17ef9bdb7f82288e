using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Microsoft.Extensions.DependencyInjection;
using Projections.Ingest;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Ingest;

/// <summary>
/// <c>Ingest:MaxConcurrentBatches</c> and <c>Ingest:MaxQueuedBatches</c>: a node works on at most that many batches, lets
/// that many more wait, and answers one beyond them as the service answers any ingest it cannot take now: 503
/// problem+json with <c>Retry-After</c>, nothing stored, the same batch accepted when sent again.
/// </summary>
public sealed class IngestConcurrencyTests(AppFixture app) : AppTest(app)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private const string Refused = "projections_ingest_refused_total";

    [Fact]
    public async Task A_batch_beyond_the_running_and_the_waiting_ones_is_answered_503_with_Retry_After_and_nothing_stored()
    {
        await using var host = AppFixture.Build(b =>
        {
            b.UseSetting("Ingest:MaxConcurrentBatches", "1");
            b.UseSetting("Ingest:MaxQueuedBatches", "1");
            b.UseSetting("Projections:RunDaemon", "false");
            // The first batch waits for its turn in the database for as long as the test holds it: not a timeout.
            b.UseSetting("Resilience:Timeout", "00:01:00");
        });
        using var client = host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Service);

        // Appends take turns on an advisory lock: holding it keeps the first batch inside the service, in its append.
        await using var turn = new NpgsqlConnection(AppFixture.ConnectionString);
        await turn.OpenAsync();
        await Execute(turn, $"select pg_advisory_lock({EventIngestor.AppendLock})");
        var running = Post(client, Batch("running"));
        using (var appending = new CancellationTokenSource(Wait))
        {
            while ((long)(await Scalar(turn, "select count(*) from pg_locks where locktype = 'advisory' and not granted"))! == 0)
            {
                await Task.Delay(20, appending.Token);
            }
        }

        // One more may wait for its turn; of two sent now, one waits and the other is refused at once. Without the limit
        // both would wait on the lock, and this would time out.
        var (second, third) = (Batch("second"), Batch("third"));
        var bodies = new Dictionary<Task<HttpResponseMessage>, JsonArray> { [Post(client, second)] = second, [Post(client, third)] = third };
        var first = await Task.WhenAny(bodies.Keys).WaitAsync(Wait);
        using (var refused = await first)
        {
            await AssertRefusedAsync(refused, "Ingest:MaxConcurrentBatches");
        }

        var waiting = bodies.Keys.Single(t => t != first);
        Assert.False(waiting.IsCompleted);
        // Operators see it too, by reason.
        var scrape = await Prometheus.ScrapeAsync(host);
        Assert.Equal((1L, 0L), (Prometheus.Value(scrape, Refused, "concurrency"), Prometheus.Value(scrape, Refused, "lag")));

        // The turn is free: the running and the waiting batch are stored, and the refused one, sent again, is accepted whole.
        await Execute(turn, $"select pg_advisory_unlock({EventIngestor.AppendLock})");
        foreach (var answered in new[] { running, waiting })
        {
            using var response = await answered.WaitAsync(Wait);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        using var again = await Post(client, bodies[first]).WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var receipt = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((3, 0), (receipt.GetProperty("accepted").GetInt32(), receipt.GetProperty("duplicates").GetInt32()));
    }

    [Fact]
    public async Task While_the_projections_are_further_behind_than_the_bound_a_batch_is_refused_but_a_projection_that_stands_still_is_not_waited_for()
    {
        var (host, database) = await AppFixture.BuildWithoutDaemonAsync("lag", b =>
        {
            b.UseSetting("Ingest:MaxProjectionLag", "1000");
            b.UseSetting("Ingest:StalledProjectionAfter", "00:00:02");
        });
        await using var _ = host;
        var progress = host.Services.GetRequiredService<ProjectionProgress>();
        var shards = host.Services.GetRequiredService<ProjectionCatalogue>().Projections.Select(p => p.Shard).ToList();
        using var client = host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Service);
        await using var db = new NpgsqlConnection(database);
        await db.OpenAsync();
        async Task Progress(long highWaterMark, long projections)
        {
            foreach (var (name, sequence) in shards.Select(s => (s, projections)).Append(("HighWaterMark", highWaterMark)))
            {
                await using var command = new NpgsqlCommand(
                    $"insert into {MartenTables.Schema}.mt_event_progression (name, last_seq_id) values ($1, $2) " +
                    "on conflict (name) do update set last_seq_id = excluded.last_seq_id", db)
                {
                    Parameters = { new() { Value = name }, new() { Value = sequence } },
                };
                await command.ExecuteNonQueryAsync();
            }

            await progress.RefreshAsync(CancellationToken.None);
        }

        async Task<long> Stored() => (long)(await Scalar(db, $"select count(*) from {MartenTables.Schema}.mt_events"))!;

        using (var first = await Post(client, Batch("lag-first")))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        // 4,989 events behind and moving: refused, nothing stored.
        await Progress(5000, 10);
        await Progress(5000, 11);
        var stored = await Stored();
        using (var refused = await Post(client, Batch("lag-refused")))
        {
            await AssertRefusedAsync(refused, "4989 events behind", "Ingest:MaxProjectionLag (1000)");
        }

        Assert.Equal(stored, await Stored());
        var refusals = 1L;

        // Within the bound again: the same batch is accepted whole.
        await Progress(5000, 4500);
        using (var again = await Post(client, Batch("lag-refused")))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            Assert.Equal(3, JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("accepted").GetInt32());
        }

        // The newest event runs ahead and the projections stand still: refused while they moved less than
        // Ingest:StalledProjectionAfter ago, accepted from then on (they are not catching up; waiting would stop ingest).
        await Progress(5000, 4600);
        var lastMove = System.Diagnostics.Stopwatch.StartNew();
        await Progress(50_000, 4600);
        using (var refused = await Post(client, Batch("lag-stalled")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            refusals++;
        }

        using var deadline = new CancellationTokenSource(Wait);
        while (true)
        {
            using var response = await Post(client, Batch("lag-stalled"));
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                break;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            refusals++;
            await Task.Delay(50, deadline.Token);
        }

        Assert.True(lastMove.Elapsed >= TimeSpan.FromSeconds(2), $"accepted {lastMove.Elapsed} after the projections last moved");
        // Every refusal counted for operators, by reason.
        var scrape = await Prometheus.ScrapeAsync(host);
        Assert.Equal((refusals, 0L), (Prometheus.Value(scrape, Refused, "lag"), Prometheus.Value(scrape, Refused, "concurrency")));
    }

    [Fact]
    public async Task A_batch_that_keeps_colliding_with_appends_made_without_the_turn_is_refused_with_nothing_stored_and_counted()
    {
        var (host, database) = await AppFixture.BuildWithoutDaemonAsync("contention");
        await using var _ = host;
        using var client = host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Service);
        await using var db = new NpgsqlConnection(database);
        await db.OpenAsync();

        // What something appending without the service's turn would cause on every attempt: the database's own
        // unique-violation error on the event rows, raised by a trigger for as long as the test keeps it.
        await Execute(db, $"""
            create function {MartenTables.Schema}.collide() returns trigger language plpgsql as
              $$ begin raise exception 'duplicate key (test)' using errcode = 'unique_violation'; end $$;
            create trigger collide before insert on {MartenTables.Schema}.mt_events
              for each statement execute function {MartenTables.Schema}.collide();
            """);
        var batch = Batch("contention");
        using (var refused = await Post(client, batch).WaitAsync(TimeSpan.FromMinutes(1)))
        {
            await AssertRefusedAsync(refused, "colliding with concurrent appends", "Nothing was stored");
        }

        Assert.Equal(0L, (long)(await Scalar(db, $"select count(*) from {MartenTables.Schema}.mt_events"))!);
        var scrape = await Prometheus.ScrapeAsync(host);
        Assert.Equal((1L, 0L, 0L), (Prometheus.Value(scrape, Refused, "contention"), Prometheus.Value(scrape, Refused, "lag"),
            Prometheus.Value(scrape, Refused, "concurrency")));

        // Once the collisions stop, the same batch is accepted whole.
        await Execute(db, $"drop trigger collide on {MartenTables.Schema}.mt_events");
        using var again = await Post(client, batch);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(3, JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("accepted").GetInt32());
    }

    [Fact]
    public void A_negative_lag_bound_stops_the_service_naming_the_setting()
    {
        var error = Assert.ThrowsAny<Exception>(() => AppFixture.Build(b => b.UseSetting("Ingest:MaxProjectionLag", "-1")));
        Assert.Contains("Ingest:MaxProjectionLag", error.ToString());
    }

    [Fact]
    public void Negative_limits_stop_the_service_naming_the_setting()
    {
        var error = Assert.ThrowsAny<Exception>(() => AppFixture.Build(b => b.UseSetting("Ingest:MaxQueuedBatches", "-1")));
        Assert.Contains("Ingest:MaxQueuedBatches", error.ToString());
    }

    /// <summary>Refused as any ingest the node cannot take now: 503 problem+json with <c>Retry-After</c>, saying why.</summary>
    private static async Task AssertRefusedAsync(HttpResponseMessage refused, params string[] detail)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(IngestConcurrency.RetryAfterSeconds), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        foreach (var part in detail)
        {
            Assert.Contains(part, problem.GetProperty("detail").GetString());
        }
    }

    private static JsonArray Batch(string tag) => new(Enumerable.Range(0, 3)
        .Select(i => (JsonNode)Envelopes.Of("user.registered", new() { ["userId"] = $"limit-{tag}-{i}", ["role"] = "customer" })).ToArray());

    private static Task<HttpResponseMessage> Post(HttpClient client, JsonArray batch) =>
        client.PostAsync("/api/events", new StringContent(batch.ToJsonString(), Encoding.UTF8, "application/json"));

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
