using Npgsql;
using Projections.Tests.Analytics;
using Projections.Tests.Infrastructure;
using Projections.Tests.Metrics;

namespace Projections.Tests.Hosting;

/// <summary>
/// The service with every connection through a real PgBouncer in transaction mode and no setting changed: it starts
/// (no startup parameters), its session settings are the role's defaults, and the randomized metrics and analytics
/// comparisons hold, with duplicates and reordering.
/// </summary>
public sealed class ConnectionPoolerTests
{
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
        await using var command = new NpgsqlCommand(
            "select s.setconfig from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase where d.datname = current_database()",
            connection);
        var settings = (string[])(await command.ExecuteScalarAsync())!;
        Assert.Equal(["client_connection_check_interval=1000", "random_page_cost=1.1", "max_parallel_workers_per_gather=0"], settings);
    }
}
