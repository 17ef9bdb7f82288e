// Operations/: what operators rely on: status, faults of retried batches, readiness and the probes, the operator's
// command line. Uses ReadModels, Hosting and Auth.
using JasperFx.Events.Projections;
using Marten;
using Npgsql;
using Projections.ReadModels;

namespace Projections.Operations;

/// <summary>
/// One projection as an operator sees it. <c>DeadLetterEvents</c>: the events it has set aside. <c>NotBuilt</c>: what it is
/// configured to keep but its active slot has not built yet (the analytics: time zones added since the last rebuild), and
/// which reads refuse until a rebuild. <c>Rebuild</c>: the rebuild in progress, if any, whoever asked for it.
/// </summary>
public sealed record ProjectionInfo(string Name, int Version, string Status, long Sequence, long LagEvents, double LagSeconds, string? LastError,
    long DeadLetterEvents, IReadOnlyList<string> NotBuilt, RunningRebuild? Rebuild);

/// <summary>The event store's high-water mark, every projection's progress and lag, and the events set aside as dead letters
/// (by the projections, and any Marten's daemon skipped because it could not read them).</summary>
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
public sealed class ProjectionStatus(IDocumentStore store, ProjectionCatalogue catalogue, TimeProvider clock)
{
    public async Task<ProjectionsReport> ReadAsync(CancellationToken cancellation)
    {
        var shards = await store.Advanced.AllProjectionProgress(token: cancellation);
        var highWaterMark = shards.FirstOrDefault(s => s.ShardName == ShardState.HighWaterMark)?.Sequence ?? 0;
        await using var session = store.QuerySession();
        var connection = (NpgsqlConnection)session.Connection!;

        var slots = (await session.LoadManyAsync<ProjectionSlots>(cancellation, catalogue.Names)).ToDictionary(s => s.Id);
        var faults = (await session.LoadManyAsync<ProjectionFault>(cancellation, catalogue.Projections.Select(p => p.Shard))).ToDictionary(f => f.Id);
        var now = clock.GetUtcNow();
        var projections = new List<ProjectionInfo>();
        foreach (var (name, shardName, coverage) in catalogue.Projections.Select(p => (p.Name, p.Shard, p.Builder.Coverage)))
        {
            var shard = shards.FirstOrDefault(s => s.ShardName == shardName);
            var sequence = shard?.Sequence ?? 0;
            var lag = Math.Max(0, highWaterMark - sequence);
            var lagSeconds = lag == 0 ? 0 : await SecondsSinceEventAfterAsync(connection, sequence, cancellation);
            var slot = slots.GetValueOrDefault(name);
            var fault = faults.GetValueOrDefault(shardName) is { } f && f.IsCurrent(sequence, now) ? f : null;
            var (setAside, latest) = await SetAsideAsync(name, slot?.Active ?? ProjectionSlots.Blue, cancellation);
            var status = fault is not null ? Retrying : StatusOf(shard) is "running" && slot?.Rebuild is not null ? "rebuilding" : StatusOf(shard);
            var lastError = fault is not null
                ? $"Retrying since {fault.FirstFailedAt:yyyy-MM-ddTHH:mm:ssZ} ({fault.Attempts} attempts) after: {fault.Error}"
                : shard?.Failure?.Message ?? shard?.PauseReason ?? LastRebuildError(slot) ?? SetAsideError(setAside, latest);
            var hadOwnEvents = coverage.Count > 0 && !ProjectionSlots.Recorded(slot) && await MartenTables.OwnEventsThroughAsync(connection,
                MartenTables.TypeNames(store, catalogue.Find(name)!.Builder), sequence, cancellation);
            projections.Add(new ProjectionInfo(name, slot?.Version ?? 1, status, sequence, lag, lagSeconds, lastError, setAside,
                ProjectionSlots.NotBuilt(slot, coverage, hadOwnEvents),
                slot?.Rebuild is { } run ? new RunningRebuild(run.Id, RebuildEndpoints.StatusUrl(name, run.Id)) : null));
        }

        await using var last = new NpgsqlCommand(MartenTables.LastSequence, connection);
        var lastEvent = Convert.ToInt64(await last.ExecuteScalarAsync(cancellation));
        return new ProjectionsReport(highWaterMark, projections.Sum(p => p.DeadLetterEvents) + await MartenDeadLettersAsync(connection, cancellation),
            projections)
        {
            LastEvent = lastEvent,
            HighWaterLagSeconds = lastEvent > highWaterMark ? await SecondsSinceEventAfterAsync(connection, highWaterMark, cancellation) : 0,
        };
    }

    /// <summary>The status of a projection whose daemon retries a failed batch (see <see cref="ProjectionFaults"/>).</summary>
    public const string Retrying = "retrying";

    /// <summary>How many events the projection's active slot has set aside, and the latest.</summary>
    private async Task<(long Count, SetAsideEvent? Latest)> SetAsideAsync(string projection, string slot, CancellationToken cancellation)
    {
        await using var session = store.QuerySession(slot);
        var count = await session.Query<SetAsideEvent>().Where(s => s.Projection == projection).CountAsync(cancellation);
        var latest = count == 0 ? null : await session.Query<SetAsideEvent>().Where(s => s.Projection == projection)
            .OrderByDescending(s => s.Sequence).FirstOrDefaultAsync(cancellation);
        return (count, latest);
    }

    private static string? SetAsideError(long count, SetAsideEvent? latest) => latest is null
        ? null
        : $"{count} event(s) set aside; the latest, {latest.Type} {latest.EventId} at sequence {latest.Sequence}: {latest.Reason}";

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
        await using var command = new NpgsqlCommand(MartenTables.FirstAppendAfter, connection) { Parameters = { new() { Value = sequence } } };
        return await command.ExecuteScalarAsync(cancellation) is DateTime appended
            ? Math.Max(0, Math.Round((clock.GetUtcNow() - new DateTimeOffset(appended, TimeSpan.Zero)).TotalSeconds, 3))
            : 0;
    }

    /// <summary>Events Marten's daemon skipped itself (stored data it could not deserialize), kept in its own table.</summary>
    private static async Task<long> MartenDeadLettersAsync(NpgsqlConnection connection, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(MartenTables.MartenDeadLetters, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellation));
    }
}
