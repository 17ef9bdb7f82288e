using System.Collections.Frozen;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;
using Npgsql;
using Projections.Hosting;
using Projections.Ingest;

namespace Projections.Rebuilds;

/// <summary>
/// Runs a <see cref="IReadModelBuilder"/> as a Marten async projection with blue/green slots (see
/// <see cref="ProjectionSlots"/>). Every batch applies its events to the active slot. While a rebuild runs, the same
/// batch also replays the next chunk of history (at most the chunk size of events older than the batch) into
/// the other slot; once nothing older is left, it applies the batch's own events there too and makes that slot the active
/// one, atomically with the batch.
/// </summary>
public sealed class SlottedProjection : ProjectionBase, IProjection
{
    private readonly IReadModelBuilder _builder;
    private readonly int _chunkSize;
    private readonly TimeProvider _clock;
    private readonly FrozenDictionary<string, Type> _typesByName;
    private readonly string[] _typeNames;

    public SlottedProjection(IReadModelBuilder builder, int chunkSize, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        (_builder, _chunkSize, _clock) = (builder, chunkSize, clock);
        _typesByName = builder.EventTypes.ToFrozenDictionary(t => EventContract.ByClrType[t].Name, StringComparer.Ordinal);
        _typeNames = [.. _typesByName.Keys];
        Name = builder.Name;
        foreach (var type in builder.EventTypes)
        {
            IncludeType(type);
        }

        IncludeType<RebuildRequested>();
        IncludeType<RebuildTick>();
    }

    public IReadModelBuilder Builder => _builder;

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var slots = await operations.LoadAsync<ProjectionSlots>(Name, cancellation);
        var own = events.Any(e => e.Data is RebuildRequested or RebuildTick)
            ? events.Where(e => e.Data is not (RebuildRequested or RebuildTick)).ToList()
            : events;

        if (own.Count > 0)
        {
            await _builder.ApplyAsync(operations.ForTenant(slots?.Active ?? ProjectionSlots.Blue), own.Select(e => e.Data).ToList(), cancellation);
        }

        var requests = events.Where(e => e.Data is RebuildRequested r && r.Projection == Name).ToList();
        if (requests.Count == 0 && slots?.Rebuild is null)
        {
            return;
        }

        slots ??= new ProjectionSlots { Id = Name };
        foreach (var request in requests)
        {
            Start(slots, request);
        }

        if (slots.Rebuild is { } run)
        {
            try
            {
                await ContinueAsync(operations, slots, run, events, own, cancellation);
            }
            catch (Exception e) when (!cancellation.IsCancellationRequested)
            {
                // The live slot has its changes already; only the rebuild stops. Its half-filled slot is never read and is
                // emptied by the next rebuild.
                slots.Finish(RebuildRun.Failed, _clock.GetUtcNow(), e.Message);
            }
        }

        operations.Store(slots);
    }

    private void Start(ProjectionSlots slots, IEvent request)
    {
        var data = (RebuildRequested)request.Data;
        if (request.Version <= slots.RequestVersion || slots.Find(data.RebuildId) is not null)
        {
            return; // seen before (the event store is being replayed)
        }

        slots.RequestVersion = request.Version;
        if (slots.Rebuild is not null)
        {
            slots.History.Insert(0, new RebuildRun
            {
                Id = data.RebuildId, Status = RebuildRun.Failed, RequestedAt = data.RequestedAt, FinishedAt = _clock.GetUtcNow(),
                Error = $"Rebuild {slots.Rebuild.Id} of {Name} was running.",
            });
            return;
        }

        slots.Rebuild = new RebuildRun { Id = data.RebuildId, Target = ProjectionSlots.Other(slots.Active), RequestedAt = data.RequestedAt };
    }

    private async Task ContinueAsync(IDocumentOperations operations, ProjectionSlots slots, RebuildRun run, IReadOnlyList<IEvent> events,
        IReadOnlyList<IEvent> own, CancellationToken cancellation)
    {
        run.Total = Math.Max(run.Total, events[^1].Sequence);
        var target = operations.ForTenant(run.Target);
        if (!run.Cleared)
        {
            // Queued deletes run at commit: replaying in this batch would read documents they are about to remove.
            foreach (var type in _builder.DocumentTypes)
            {
                ClearMethod.MakeGenericMethod(type).Invoke(null, [target]);
            }

            run.Cleared = true;
            return;
        }

        // Everything of this projection's types older than this batch is what the live projection processed before it.
        var (chunk, last) = await ReadHistoryAsync(operations, run.Processed, events[0].Sequence, cancellation);
        var caughtUp = chunk.Count < _chunkSize;
        if (caughtUp && own.Count > 0)
        {
            chunk.AddRange(own.Select(e => e.Data));
            last = own[^1].Sequence;
        }

        if (chunk.Count > 0)
        {
            await _builder.ApplyAsync(target, chunk, cancellation);
            run.Processed = last;
        }

        if (caughtUp)
        {
            slots.Finish(RebuildRun.Completed, _clock.GetUtcNow());
        }
    }

    /// <summary>
    /// The data of at most the chunk size of this projection's events after <paramref name="after"/> and before
    /// <paramref name="before"/>, in sequence order, with the last one's sequence. Read with plain SQL and Marten's own
    /// serializer: history needs only the events' data, and skipping Marten's event envelopes makes the replay several
    /// times faster. Older events are committed and never change, so a connection of its own reads them.
    /// </summary>
    private async Task<(List<object> Data, long Last)> ReadHistoryAsync(IDocumentOperations operations, long after, long before,
        CancellationToken cancellation)
    {
        var options = operations.DocumentStore.Options;
        var serializer = options.Serializer();
        await using var connection = operations.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"select seq_id, type, data from {options.Events.DatabaseSchemaName}.mt_events " +
            "where seq_id > $1 and seq_id < $2 and type = any($3) and is_archived = false order by seq_id limit $4", connection)
        {
            Parameters = { new() { Value = after }, new() { Value = before }, new() { Value = _typeNames }, new() { Value = _chunkSize } },
        };

        var data = new List<object>(Math.Min(_chunkSize, 4096));
        var last = after;
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            last = reader.GetInt64(0);
            data.Add(serializer.FromJson(_typesByName[reader.GetString(1)], reader, 2));
        }

        return (data, last);
    }

    private static readonly System.Reflection.MethodInfo ClearMethod =
        typeof(SlottedProjection).GetMethod(nameof(Clear), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;

    private static void Clear<T>(IDocumentOperations slot) where T : notnull => slot.HardDeleteWhere<T>(_ => true);
}
