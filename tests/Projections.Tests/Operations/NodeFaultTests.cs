using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Projections.Tests.Infrastructure;
using Projections.Tests.Metrics;
using Xunit.Abstractions;

namespace Projections.Tests.Operations;

/// <summary>
/// Real service processes on a database of their own: killed with SIGKILL mid-stream, run as two nodes with the same
/// events sent to both, and cut off from PostgreSQL while under load. Publishers behave as the contract asks
/// (at-least-once: a batch is sent again until it is answered 202); every figure must then equal the reference.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class NodeFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killed_mid_stream_and_restarted_every_accepted_event_counts_exactly_once()
    {
        var database = await ServiceProcess.CreateDatabaseAsync("kill");
        var (delivery, batches) = Shop(seed: 5);
        var port = ServiceProcess.FreePort();
        var service = await ServiceProcess.StartAsync(database, port);
        try
        {
            var current = service;
            var last = 0L;
            var killAt = delivery.Count / 3;
            var publishing = Task.Run(async () =>
            {
                foreach (var batch in batches)
                {
                    last = Math.Max(last, (await ServiceProcess.PublishUntilAcceptedAsync(() => current.Client, batch)).Receipt.LastSequence);
                }
            });

            // Kill once about a third is stored, while batches are in flight; then start again on the same address.
            while (await CountAsync(database) < killAt && !publishing.IsCompleted)
            {
                await Task.Delay(10);
            }

            Assert.False(publishing.IsCompleted, "everything was published before the kill");

            await service.KillAsync();
            current = service = await ServiceProcess.StartAsync(database, port);
            await publishing;

            await AssertMetricsAsync(service, delivery, last);
            Assert.Equal(delivery.Select(e => (string)e["id"]!).Distinct().Count(), await CountAsync(database));
        }
        finally
        {
            await service.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_nodes_with_the_same_events_count_exactly_and_the_survivor_takes_over_from_a_killed_leader() =>
        await TwoNodesAsync(await ServiceProcess.CreateDatabaseAsync("nodes"), output);

    /// <summary>The same behind a real PgBouncer in transaction mode, with no setting changed (no direct connection).</summary>
    [Fact]
    public async Task Two_nodes_behind_pgbouncer_count_exactly_and_the_survivor_takes_over_from_a_killed_leader()
    {
        await using var pooler = await PgBouncer.StartAsync();
        await TwoNodesAsync(pooler.Through(await ServiceProcess.CreateDatabaseAsync("nodes_pooled")), output);
    }

    private static async Task TwoNodesAsync(string database, ITestOutputHelper output)
    {
        var (delivery, batches) = Shop(seed: 9);
        var half = batches.Count / 2;

        await using var leader = await ServiceProcess.StartAsync(database);
        // The first node takes the projections' leadership before the second starts.
        var first = await ServiceProcess.PublishUntilAcceptedAsync(() => leader.Client, batches[0]);
        await leader.ReadAsync("/metrics/staff-dashboard", first.Receipt.LastSequence);
        await using var follower = await ServiceProcess.StartAsync(database);

        // Every batch to both nodes at once: the duplicates across them must not count twice.
        var last = first.Receipt.LastSequence;
        var stored = batches[0].Select(e => (string)e["id"]!).ToHashSet();
        foreach (var batch in batches.Take(half).Skip(1))
        {
            var receipts = await Task.WhenAll(
                ServiceProcess.PublishUntilAcceptedAsync(() => leader.Client, batch), ServiceProcess.PublishUntilAcceptedAsync(() => follower.Client, batch));
            // Between them, the two nodes stored each new id exactly once.
            var fresh = batch.Select(e => (string)e["id"]!).Distinct().Count(id => stored.Add(id));
            Assert.Equal(fresh, receipts.Sum(r => r.Receipt.Accepted));
            last = Math.Max(last, receipts.Max(r => r.Receipt.LastSequence));
        }

        var sent = batches.Take(half).SelectMany(b => b).ToList();
        await AssertMetricsAsync(leader, sent, last);
        await AssertMetricsAsync(follower, sent, last);

        // The leader dies (SIGKILL: its sessions, and the advisory locks in them, go with its connections); the follower
        // must take the projections over within 10 s: the first event published after the kill is visible on it by then.
        await leader.KillAsync();
        var clock = Stopwatch.StartNew();
        last = Math.Max(last, (await ServiceProcess.PublishUntilAcceptedAsync(() => follower.Client, batches[half])).Receipt.LastSequence);
        var published = clock.Elapsed;
        await follower.ReadAsync("/metrics/staff-dashboard", last);
        var takeover = clock.Elapsed;
        output.WriteLine($"The survivor took over {takeover.TotalSeconds:0.0} s after the kill (the publish was accepted after {published.TotalSeconds:0.0} s)");
        Assert.True(takeover < TimeSpan.FromSeconds(10), $"the survivor took over after {takeover} (published after {published})\n{follower.Output}");

        foreach (var batch in batches.Skip(half + 1))
        {
            last = Math.Max(last, (await ServiceProcess.PublishUntilAcceptedAsync(() => follower.Client, batch)).Receipt.LastSequence);
        }

        await AssertMetricsAsync(follower, delivery, last);
    }

    [Fact]
    public async Task PostgreSQL_restart_under_load_answers_503_with_retry_after_then_recovers_with_nothing_lost_or_doubled()
    {
        var control = Environment.GetEnvironmentVariable("PROJECTIONS_PG_CTL")
            ?? throw new InvalidOperationException("Run with ops/test, which starts a throwaway PostgreSQL and sets PROJECTIONS_PG_CTL.");
        var database = await ServiceProcess.CreateDatabaseAsync("restart");
        var (delivery, batches) = Shop(seed: 13);
        await using var service = await ServiceProcess.StartAsync(database, settings: new Dictionary<string, string>
        {
            ["Resilience__Timeout"] = "00:00:02",
        });

        var answers = new ConcurrentBag<(string What, HttpStatusCode Status, bool RetryAfter, TimeSpan Took)>();
        using var stop = new CancellationTokenSource();
        var readers = new[] { "/metrics/staff-dashboard", "/metrics/inventory", "/api/admin/analytics" }.Select(url => Task.Run(async () =>
        {
            var index = 0;
            while (!stop.IsCancellationRequested)
            {
                // Now and then a range never asked before: an answer that needs the database.
                var target = url.StartsWith("/api", StringComparison.Ordinal) ? $"{url}?end_date={new DateOnly(2024, 1, 1).AddDays(index++ % 500):yyyy-MM-dd}" : url;
                using var request = new HttpRequestMessage(HttpMethod.Get, target);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Admin);
                var clock = Stopwatch.StartNew();
                using var response = await service.Client.SendAsync(request);
                answers.Add((target, response.StatusCode, response.Headers.RetryAfter is not null, clock.Elapsed));
                await Task.Delay(20);
            }
        })).ToList();

        var last = 0L;
        var ingestStatuses = new ConcurrentBag<HttpStatusCode>();
        var third = batches.Count / 3;
        async Task Publish(IEnumerable<JsonObject[]> part)
        {
            foreach (var batch in part)
            {
                var (receipt, statuses) = await ServiceProcess.PublishUntilAcceptedAsync(() => service.Client, batch);
                statuses.ForEach(ingestStatuses.Add);
                last = Math.Max(last, receipt.LastSequence);
            }
        }

        await Publish(batches.Take(third));
        await RunAsync(control, "stop");
        // While the database is down: publishing goes on (answered 503 until it is back).
        var during = Publish(batches.Skip(third).Take(third));
        await Task.Delay(TimeSpan.FromSeconds(4));
        await RunAsync(control, "start");
        await during;
        await Publish(batches.Skip(2 * third));

        await AssertMetricsAsync(service, delivery, last);
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Contains(HttpStatusCode.ServiceUnavailable, ingestStatuses);
        Assert.DoesNotContain(ingestStatuses, s => s is not (HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable));
        Assert.Contains(answers, a => a.Status == HttpStatusCode.ServiceUnavailable);
        foreach (var answer in answers)
        {
            Assert.True(answer.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable,
                $"{answer.What} answered {(int)answer.Status}\n--- service output ---\n{service.Output}");
            Assert.True(answer.Status == HttpStatusCode.OK || answer.RetryAfter, $"{answer.What}: 503 without Retry-After");
            Assert.True(answer.Took < TimeSpan.FromSeconds(8), $"{answer.What} took {answer.Took}");
        }

        // The suite's shared host lost its connections too: drop the dead pooled ones and wait for the database.
        Npgsql.NpgsqlConnection.ClearAllPools();
        await WaitForSharedDatabaseAsync();
    }

    private static (List<JsonObject> Delivery, List<JsonObject[]> Batches) Shop(int seed)
    {
        var shop = new RandomShop(seed).WithUsers(150).WithProducts(150);
        var delivery = shop.Delivery();
        return (delivery, shop.Batches(delivery, maxBatch: 60).ToList());
    }

    private static async Task AssertMetricsAsync(ServiceProcess service, List<JsonObject> delivery, long last)
    {
        MetricsReference.AssertMatches(MetricsReference.Admin(delivery, activeOnly: true), await service.ReadAsync("/metrics/admin-dashboard", last));
        MetricsReference.AssertMatches(MetricsReference.InventoryOnly(delivery, activeOnly: false),
            await service.ReadAsync("/metrics/inventory?active_only=false", last));
        MetricsReference.AssertMatches(MetricsReference.Staff(delivery), await service.ReadAsync("/metrics/staff-dashboard", last));
    }

    private static async Task<long> CountAsync(string database)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "select case when to_regclass('projections.mt_events') is null then 0 else (select count(*) from projections.mt_events where type not like 'ops.%') end",
            connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static async Task RunAsync(string control, string action)
    {
        using var process = Process.Start(new ProcessStartInfo(control, [action]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{control} {action}: {await process.StandardError.ReadToEndAsync()}");
    }

    private static async Task WaitForSharedDatabaseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                await using var connection = new Npgsql.NpgsqlConnection(AppFixture.ConnectionString + ";Pooling=false");
                await connection.OpenAsync(timeout.Token);
                return;
            }
            catch (Npgsql.NpgsqlException)
            {
                await Task.Delay(100, timeout.Token);
            }
        }
    }
}
