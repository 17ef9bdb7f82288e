using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Projections.ReadModels;
using Projections.Tests.Analytics;
using Projections.Tests.Infrastructure;
using Projections.Tests.Metrics;

namespace Projections.Tests.Hosting;

/// <summary>
/// The service behind a real PgBouncer in transaction mode. With no setting changed: it starts (no startup parameters),
/// its session settings are its role's defaults, nothing listens through the pooler, and the randomized metrics and
/// analytics comparisons hold, with duplicates and reordering. With <c>ConnectionStrings:PostgresDirect</c>: the
/// daemon's wake-ups listen on a direct session, not on one of the pooler's.
/// </summary>
public sealed class ConnectionPoolerTests
{
    /// <summary>A backend whose last statement listened for the daemon's wake-up, and the port it was reached from.</summary>
    private const string Listeners =
        "select client_port from pg_stat_activity where datname = current_database() and query ~* '^\\s*listen\\s+\"?mt_events_appended'";

    [Fact]
    public async Task Behind_pgbouncer_in_transaction_mode_the_numbers_are_exact()
    {
        await using var pooler = await PgBouncer.StartAsync();
        var direct = await ServiceProcess.CreateDatabaseAsync("pooled");
        await using var host = AppFixture.Build(b => b.UseSetting("ConnectionStrings:Postgres", pooler.Through(direct)));
        var app = AppFixture.On(host);

        var shop = new RandomShop(20261202).WithUsers(150).WithProducts(150);
        var shopDelivery = shop.Delivery();
        var (last, accepted, _) = await app.PublishBatchesAsync(shop.Batches(shopDelivery));
        Assert.Equal(shop.EventCount, accepted);
        await RandomizedMetricsTests.AssertEveryEndpointMatches(app, shopDelivery, last);

        var gallery = RandomGallery.Standard(20261202);
        var galleryDelivery = gallery.Delivery();
        (last, accepted, _) = await app.PublishBatchesAsync(gallery.Batches(galleryDelivery));
        Assert.Equal(gallery.EventCount, accepted);
        var reference = AnalyticsReference.Replay(galleryDelivery);
        var (first, lastDay) = (gallery.FirstDay, gallery.LastDay);
        var whole = await AnalyticsApi.GetAsync(app, AnalyticsApi.Range(first, lastDay), last);
        AnalyticsApi.AssertMatches(reference.Expected(first, lastDay), whole, "[the whole span, through the pooler] $");

        // The session settings the service wants are its role's defaults in this database, not startup parameters.
        await using var connection = new NpgsqlConnection(direct);
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand(
            "select s.setconfig from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase where d.datname = current_database()",
            connection))
        {
            var settings = (string[])(await command.ExecuteScalarAsync())!;
            Assert.Equal(["client_connection_check_interval=1000", "random_page_cost=1.1", "max_parallel_workers_per_gather=0"], settings);
        }

        // Notifications do not arrive through a transaction pooler: nothing listens there (the daemon polls).
        Assert.Empty(await ListenerPortsAsync(connection));

        // The leader locks, one per projection, are held in open transactions, and no advisory lock is left with an idle
        // session (through a pooler, a session-level lock stays with whichever server session took it, and holds up the
        // next node).
        var projections = host.Services.GetRequiredService<ProjectionCatalogue>().Projections.Count;
        await using (var command = new NpgsqlCommand(
            """
            select count(*) filter (where a.state in ('idle in transaction', 'active')), count(*) filter (where a.state = 'idle')
            from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.granted and a.datname = current_database()
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            Assert.Equal(((long)projections, 0L), (reader.GetInt64(0), reader.GetInt64(1)));
        }
    }

    [Fact]
    public async Task With_a_direct_connection_the_wake_ups_listen_on_it_and_the_numbers_are_exact()
    {
        await using var pooler = await PgBouncer.StartAsync();
        var direct = await ServiceProcess.CreateDatabaseAsync("pooled_direct");
        await using var host = AppFixture.Build(b => b
            .UseSetting("ConnectionStrings:Postgres", pooler.Through(direct))
            .UseSetting("ConnectionStrings:PostgresDirect", direct));
        var app = AppFixture.On(host);

        var shop = new RandomShop(20261203).WithUsers(100).WithProducts(100);
        var delivery = shop.Delivery();
        var (last, accepted, _) = await app.PublishBatchesAsync(shop.Batches(delivery));
        Assert.Equal(shop.EventCount, accepted);
        await RandomizedMetricsTests.AssertEveryEndpointMatches(app, delivery, last);

        // One session listens for the daemon's wake-ups, and it is not one of the pooler's server connections.
        await using var connection = new NpgsqlConnection(direct);
        await connection.OpenAsync();
        var listener = Assert.Single(await ListenerPortsAsync(connection));
        Assert.DoesNotContain(listener, await pooler.ServerPortsAsync());
    }

    [Fact]
    public async Task A_node_that_starts_while_another_changes_the_schema_waits_for_it()
    {
        var database = await ServiceProcess.CreateDatabaseAsync("schema_wait");
        // Another node is changing the schema: it holds the schema lock.
        await using var other = new NpgsqlConnection(database);
        await other.OpenAsync();
        await using (var take = new NpgsqlCommand($"select pg_advisory_lock({new Marten.StoreOptions().ApplyChangesLockId})", other))
        {
            await take.ExecuteNonQueryAsync();
        }

        var starting = Task.Run(() => AppFixture.Build(b => b.UseSetting("ConnectionStrings:Postgres", database)));
        // It does not start beside it, nor give up.
        var early = await Task.WhenAny(starting, Task.Delay(TimeSpan.FromSeconds(2)));
        Assert.NotSame(starting, early);

        await using (var release = new NpgsqlCommand("select pg_advisory_unlock_all()", other))
        {
            await release.ExecuteNonQueryAsync();
        }

        await using var host = await starting;
        var app = AppFixture.On(host);
        var receipt = await app.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = "after-the-wait", ["role"] = "customer" })]);
        var staff = await app.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={receipt.LastSequence}");
        Assert.Equal(1, staff.GetProperty("total_customers").GetInt32());
    }

    private static async Task<List<int>> ListenerPortsAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand(Listeners, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ports = new List<int>();
        while (await reader.ReadAsync())
        {
            ports.Add(reader.GetInt32(0));
        }

        return ports;
    }
}
