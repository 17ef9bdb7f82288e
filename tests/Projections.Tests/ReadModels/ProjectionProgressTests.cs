using JasperFx.Events.Projections;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.ReadModels;

/// <summary>
/// The projections' progress, looked up once for every concurrent caller: a caller that gives up stops waiting, and
/// the look-up goes on for the others (the poller, other reads waiting for <c>min_sequence</c>).
/// </summary>
public sealed class ProjectionProgressTests
{
    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_look_up_the_others_share()
    {
        // The poller looks once, at startup: the look-ups below are the test's own.
        var (host, database) = await AppFixture.BuildWithoutDaemonAsync("progress", b => b.UseSetting("Projections:ProgressPollInterval", "01:00:00"));
        await using var _ = host;
        var progress = host.Services.GetRequiredService<ProjectionProgress>();
        await using var db = new NpgsqlConnection(database);
        await db.OpenAsync();
        await Execute(db, $"insert into {MartenTables.Schema}.mt_event_progression (name, last_seq_id) values ('{ShardState.HighWaterMark}', 42)");

        // The look-up waits for the progress table, locked by the test.
        await using var locked = await db.BeginTransactionAsync();
        await Execute(db, $"lock table {MartenTables.Schema}.mt_event_progression in access exclusive mode");
        using var givesUp = new CancellationTokenSource();
        var first = progress.RefreshAsync(givesUp.Token);
        var second = progress.RefreshAsync(CancellationToken.None);
        givesUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(TimeSpan.FromSeconds(20)));

        await locked.RollbackAsync();
        await second.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(42, progress.Of(ShardState.HighWaterMark));
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
