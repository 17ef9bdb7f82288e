using Projections.Analytics;
using Projections.Hosting;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.ReadModels;

/// <summary>
/// Everything one answer loads comes from one snapshot of the database. An analytics answer loads the gallery's buckets,
/// then its top artists' names: a projection batch committing between the two once put a name from a newer state beside
/// the figures of the older one (seen by <see cref="RebuildTests"/>' readers under load).
/// </summary>
public sealed class ReadModelSessionsTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task Loads_of_one_answer_do_not_see_a_commit_made_between_them()
    {
        var store = App.Store;
        const string slot = ProjectionSlots.Blue;
        await using (var write = store.LightweightSession(slot))
        {
            write.Store(new ArtistProfile { Id = "org-snapshot", Name = "Before" });
            await write.SaveChangesAsync();
        }

        var slots = new Dictionary<string, string> { [GalleryAnalyticsProjection.ProjectionName] = slot };
        await using var sessions = await ReadModelSessions.OpenAsync(store, slots, CancellationToken.None);
        var first = await sessions.Of(GalleryAnalyticsProjection.ProjectionName).LoadAsync<ArtistProfile>("org-snapshot");

        // A batch of the projection commits while the answer is being put together.
        await using (var write = store.LightweightSession(slot))
        {
            write.Store(new ArtistProfile { Id = "org-snapshot", Name = "After" });
            write.Store(new ArtistProfile { Id = "org-new", Name = "New" });
            await write.SaveChangesAsync();
        }

        var again = await sessions.Of(GalleryAnalyticsProjection.ProjectionName).LoadManyAsync<ArtistProfile>("org-snapshot", "org-new");
        Assert.Equal("Before", first!.Name);
        Assert.Equal(["Before"], again.Select(p => p.Name));

        // A new answer sees the commit.
        await using var next = await ReadModelSessions.OpenAsync(store, slots, CancellationToken.None);
        var now = await next.Of(GalleryAnalyticsProjection.ProjectionName).LoadManyAsync<ArtistProfile>("org-snapshot", "org-new");
        Assert.Equal(["After", "New"], now.Select(p => p.Name).Order());
    }

    /// <summary>
    /// The database going away in the middle of an answer (a restart, a failover) is the database being unavailable,
    /// which readers are told with <c>503</c> and <c>Retry-After</c>, never <c>500</c>: whatever the answer's next load
    /// throws on the lost connection, and ending its snapshot afterwards.
    /// </summary>
    [Fact]
    public async Task A_connection_lost_in_the_middle_of_an_answer_is_the_database_being_unavailable()
    {
        var store = App.Store;
        var slots = new Dictionary<string, string> { [GalleryAnalyticsProjection.ProjectionName] = ProjectionSlots.Blue };
        var sessions = await ReadModelSessions.OpenAsync(store, slots, CancellationToken.None);
        var session = sessions.Of(GalleryAnalyticsProjection.ProjectionName);
        await session.LoadAsync<ArtistProfile>("org-lost");
        var backend = session.Connection!.ProcessID;

        await using (var admin = store.Storage.Database.CreateConnection())
        {
            await admin.OpenAsync();
            await using var terminate = new Npgsql.NpgsqlCommand("select pg_terminate_backend($1)", admin) { Parameters = { new() { Value = backend } } };
            await terminate.ExecuteScalarAsync();
        }

        var failed = await Record.ExceptionAsync(() => sessions.Load(s => s.Of(GalleryAnalyticsProjection.ProjectionName).LoadAsync<ArtistProfile>("org-lost")));
        Assert.True(DatabaseResilience.IsUnavailable(failed), $"Not taken for the database being unavailable: {failed}");
        var again = await Record.ExceptionAsync(() => sessions.Load(s => s.Of(GalleryAnalyticsProjection.ProjectionName).LoadAsync<ArtistProfile>("org-lost")));
        Assert.True(DatabaseResilience.IsUnavailable(again), $"Not taken for the database being unavailable: {again}");
        Assert.Null(await Record.ExceptionAsync(async () => await sessions.DisposeAsync()));
    }
}
