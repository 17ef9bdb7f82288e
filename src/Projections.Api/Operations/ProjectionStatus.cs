using JasperFx.Events.Projections;
using Marten;
using Npgsql;
using Projections.Hosting;
using Projections.Rebuilds;

namespace Projections.Operations;

/// <summary>One projection as an operator sees it.</summary>
public sealed record ProjectionInfo(string Name, int Version, string Status, long Sequence, long LagEvents, double LagSeconds, string? LastError);

/// <summary>The event store's high-water mark, every projection's progress and lag, and the events skipped as dead letters.</summary>
public sealed record ProjectionsReport(long HighWaterMark, long DeadLetterEvents, IReadOnlyList<ProjectionInfo> Projections)
{
    /// <summary>The last event appended (beyond the high-water mark while the daemon has not seen it yet).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long LastEvent { get; init; }

    /// <summary>How long the oldest event beyond the high-water mark has waited (0 when there is none).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double HighWaterLagSeconds { get; init; }
}

/// <summary>Reads the projections' state from the database, so any node answers for the whole cluster.</summary>
public sealed class ProjectionStatus(IDocumentStore store, TimeProvider clock)
{
    public async Task<ProjectionsReport> ReadAsync(CancellationToken cancellation)
    {
        var shards = await store.Advanced.AllProjectionProgress(token: cancellation);
        var highWaterMark = shards.FirstOrDefault(s => s.ShardName == ShardState.HighWaterMark)?.Sequence ?? 0;
        await using var session = store.QuerySession();
        var connection = (NpgsqlConnection)session.Connection!;

        var slots = (await session.LoadManyAsync<ProjectionSlots>(cancellation, StoreSetup.Projections.Select(p => p.Name))).ToDictionary(s => s.Id);
        var projections = new List<ProjectionInfo>();
        foreach (var (name, shardName) in StoreSetup.Projections)
        {
            var shard = shards.FirstOrDefault(s => s.ShardName == shardName);
            var sequence = shard?.Sequence ?? 0;
            var lag = Math.Max(0, highWaterMark - sequence);
            var lagSeconds = lag == 0 ? 0 : await SecondsSinceEventAfterAsync(connection, sequence, cancellation);
            var slot = slots.GetValueOrDefault(name);
            var status = StatusOf(shard) is "running" && slot?.Rebuild is not null ? "rebuilding" : StatusOf(shard);
            projections.Add(new ProjectionInfo(name, slot?.Version ?? 1, status, sequence, lag, lagSeconds,
                shard?.Failure?.Message ?? shard?.PauseReason ?? LastRebuildError(slot)));
        }

        await using var last = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {StoreSetup.SchemaName}.mt_events", connection);
        var lastEvent = Convert.ToInt64(await last.ExecuteScalarAsync(cancellation));
        return new ProjectionsReport(highWaterMark, await DeadLettersAsync(connection, cancellation), projections)
        {
            LastEvent = lastEvent,
            HighWaterLagSeconds = lastEvent > highWaterMark ? await SecondsSinceEventAfterAsync(connection, highWaterMark, cancellation) : 0,
        };
    }

    /// <summary>Why the last rebuild failed, while no later one has completed.</summary>
    private static string? LastRebuildError(ProjectionSlots? slots) =>
        slots?.History is [{ Status: RebuildRun.Failed } last, ..] ? $"Rebuild {last.Id} failed: {last.Error}" : null;

    private static string StatusOf(ShardState? shard) => shard switch
    {
        null => "running", // not started yet: nothing processed, nothing wrong
        { Failure: not null } => "failed",
        { Mode: ShardMode.rebuilding } => "rebuilding",
        { AgentStatus: { } s } when s.Contains("Pause", StringComparison.OrdinalIgnoreCase) || s.Contains("Stop", StringComparison.OrdinalIgnoreCase) => "paused",
        _ => "running",
    };

    /// <summary>How long the oldest event the projection has not processed has been waiting.</summary>
    private async Task<double> SecondsSinceEventAfterAsync(NpgsqlConnection connection, long sequence, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            $"select timestamp from {StoreSetup.SchemaName}.mt_events where seq_id > @seq order by seq_id limit 1", connection);
        command.Parameters.AddWithValue("seq", sequence);
        return await command.ExecuteScalarAsync(cancellation) is DateTime appended
            ? Math.Max(0, Math.Round((clock.GetUtcNow() - new DateTimeOffset(appended, TimeSpan.Zero)).TotalSeconds, 3))
            : 0;
    }

    private static async Task<long> DeadLettersAsync(NpgsqlConnection connection, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            $"select case when to_regclass('{StoreSetup.SchemaName}.mt_doc_deadletterevent') is null then 0 " +
            $"else (select count(*) from {StoreSetup.SchemaName}.mt_doc_deadletterevent) end", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellation));
    }
}
