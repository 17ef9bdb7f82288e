using System.Collections.Frozen;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;
using Npgsql;

namespace Projections.ReadModels;

/// <summary>
/// Runs a <see cref="IReadModelBuilder"/> as a Marten async projection with blue/green slots (see
/// <see cref="ProjectionSlots"/>). Every batch applies its events to the active slot. While a rebuild runs, the same
/// batch also replays the next chunk of history (at most the chunk size of events older than the batch) into
/// the other slot; once nothing older is left, it applies the batch's own events there too and makes that slot the active
/// one, atomically with the batch. An event that cannot be applied is set aside (<see cref="SetAsideEvent"/>), live and
/// in a rebuild alike, and the rest of the batch is applied without it (<see cref="EventIsolation"/>).
/// </summary>
public sealed class SlottedProjection : ProjectionBase, IProjection
{
    private readonly IReadModelBuilder _builder;
    private readonly string _shard;
    private readonly int _chunkSize;
    private readonly TimeProvider _clock;
    private readonly FrozenDictionary<string, Type> _typesByName;
    private readonly string[] _typeNames;
    private readonly TimeSpan _rebuildBatchTime;
    private readonly long _rebuildMemory;
    private readonly int _rowsPerCommand;

    /// <summary>The documents of the rebuild in progress, when this node runs it (one batch at a time: no locking).</summary>
    private RebuildCache? _cache;

    /// <param name="builder">What the projection does with its events.</param>
    /// <param name="shard">The daemon's shard for the projection (see <see cref="ProjectionCatalogue"/>).</param>
    /// <param name="eventNames">The name each event type is stored under.</param>
    /// <param name="chunkSize">Events of history a rebuild replays per batch.</param>
    /// <param name="clock">The clock rebuilds and set-aside events are stamped with.</param>
    /// <param name="rebuildBatchTime">How long one batch goes on replaying chunks (at least one chunk per batch).</param>
    /// <param name="rebuildMemory">Bytes of the rebuilt documents this projection keeps in memory before writing them.</param>
    /// <param name="rowsPerCommand">Documents per database command when loading and writing them.</param>
    public SlottedProjection(IReadModelBuilder builder, string shard, IReadOnlyDictionary<Type, string> eventNames, int chunkSize, TimeProvider clock,
        TimeSpan rebuildBatchTime, long rebuildMemory, int rowsPerCommand)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerCommand, 1);
        (_builder, _shard, _chunkSize, _clock, _rebuildBatchTime, _rebuildMemory, _rowsPerCommand) =
            (builder, shard, chunkSize, clock, rebuildBatchTime, rebuildMemory, rowsPerCommand);
        _typesByName = builder.EventTypes.ToFrozenDictionary(t => eventNames[t], StringComparer.Ordinal);
        _typeNames = [.. _typesByName.Keys];
        Name = builder.Name;
        foreach (var type in builder.EventTypes)
        {
            IncludeType(type);
        }

        IncludeType<RebuildRequested>();
        IncludeType<RebuildTick>();
        IncludeType<ReplayRequested>();
    }

    /// <summary>An event to apply: where it is in the store, and its data (null when the stored data cannot be read).</summary>
    private sealed record Sourced(long Sequence, Guid Id, string Type, long Version, object? Data, Exception? ReadError = null);

    private static bool IsOperation(object data) => data is RebuildRequested or RebuildTick or ReplayRequested;

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var slots = await operations.LoadAsync<ProjectionSlots>(Name, cancellation);
        var own = events.Where(e => !IsOperation(e.Data)).Select(e => new Sourced(e.Sequence, e.Id, e.EventTypeName, e.Version, e.Data)).ToList();
        var replays = events.Select(e => e.Data).OfType<ReplayRequested>().Where(r => r.Projection == Name).ToList();
        var changed = await ApplyToSlotAsync(operations, slots?.Active ?? ProjectionSlots.Blue, own, replays, cancellation);
        var covered = await KeepCoverageAsync(operations, slots, events[0].Sequence, cancellation);
        slots ??= covered;
        if (changed)
        {
            // Committed with the documents and the progress: reads learn when what they serve last changed.
            slots ??= new ProjectionSlots { Id = Name };
            slots.MarkChanged(_clock.GetUtcNow(), events[^1].Sequence);
        }

        var requests = events.Where(e => e.Data is RebuildRequested r && r.Projection == Name).ToList();
        if (requests.Count == 0 && slots?.Rebuild is null)
        {
            if (covered is not null || changed)
            {
                operations.Store(slots!);
            }

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

    /// <summary>
    /// Applies events to one slot, setting aside those that throw; with replay requests, the set-aside events they name
    /// are read again from the store and applied after the others. One preparation per slot and batch: documents loaded
    /// twice in a batch would miss the changes queued in between.
    /// </summary>
    /// <returns>Whether any document of the slot changed.</returns>
    private async Task<bool> ApplyToSlotAsync(IDocumentOperations operations, string slot, List<Sourced> events, IReadOnlyList<ReplayRequested> replays,
        CancellationToken cancellation, RebuildCache? cache = null)
    {
        var session = operations.ForTenant(slot);
        var replayed = replays.Count == 0 ? [] : await SetAsideToReplayAsync(session, replays, cancellation);
        if (replayed.Count > 0)
        {
            events = [.. events, .. await ReadEventsAsync(operations, replayed.Select(r => r.Sequence).ToArray(), cancellation)];
        }

        if (events.Count == 0)
        {
            return false;
        }

        var readable = events.Where(e => e.Data is not null).ToList();
        var (changes, unapplied) = await EventIsolation.PrepareAsync(_builder, cache?.Source(session) ?? new SlotSource(session, _rowsPerCommand),
            operations.DocumentStore.Options.Serializer(), readable.Select(e => new ProjectedEvent(e.Data!, e.Version)).ToList(), cancellation);
        var setAside = new List<SetAsideEvent>();

        var failures = new Dictionary<Guid, Exception>();
        foreach (var (index, error) in unapplied)
        {
            failures[readable[index].Id] = error;
        }

        foreach (var unreadable in events.Where(e => e.ReadError is not null))
        {
            failures[unreadable.Id] = unreadable.ReadError!;
        }

        var previous = replayed.ToDictionary(r => r.EventId);
        foreach (var e in events)
        {
            if (failures.TryGetValue(e.Id, out var error))
            {
                setAside.Add(new SetAsideEvent
                {
                    Id = SetAsideEvent.Key(Name, e.Id), Projection = Name, EventId = e.Id, Sequence = e.Sequence, Type = e.Type,
                    Reason = SetAsideEvent.Describe(error), SetAsideAt = _clock.GetUtcNow(),
                    Attempts = (previous.GetValueOrDefault(e.Id)?.Attempts ?? 0) + 1,
                });
            }
            else if (previous.ContainsKey(e.Id))
            {
                session.Delete<SetAsideEvent>(SetAsideEvent.Key(Name, e.Id));
            }
        }

        if (cache is not null)
        {
            // Written with the documents, so that the slot never holds a set-aside event its documents do not reflect.
            cache.Absorb(changes, setAside, events[^1].Sequence);
        }
        else
        {
            changes.QueueInto(session, _rowsPerCommand);
            setAside.ForEach(e => session.Store(e));
        }

        return changes.All().Any();
    }

    /// <summary>
    /// Keeps what the active slot covers true: a slot first met covers everything the projection covers when no event of
    /// its own came before this batch (it holds every one from the first on), and nothing otherwise (written before this
    /// coverage existed); a coverage the projection no longer keeps is dropped, since it would go stale.
    /// Returns the slots when they changed (to be stored), else null.
    /// </summary>
    private async Task<ProjectionSlots?> KeepCoverageAsync(IDocumentOperations operations, ProjectionSlots? slots, long firstSequence,
        CancellationToken cancellation)
    {
        var coverage = _builder.Coverage;
        var active = slots?.Active ?? ProjectionSlots.Blue;
        if (slots?.Coverage.TryGetValue(active, out var covered) == true)
        {
            if (covered.All(coverage.Contains))
            {
                return null;
            }

            slots.Coverage[active] = [.. covered.Where(coverage.Contains)];
            return slots;
        }

        if (coverage.Count == 0)
        {
            return null;
        }

        slots ??= new ProjectionSlots { Id = Name };
        await using var connection = operations.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        // Not the shard's progress: the daemon moves it past other events before the projection's first batch.
        var hadOwnEvents = await MartenTables.OwnEventsThroughAsync(connection, _typeNames, firstSequence - 1, cancellation);
        slots.Coverage[active] = hadOwnEvents ? [] : [.. coverage];
        return slots;
    }

    private async Task<List<SetAsideEvent>> SetAsideToReplayAsync(IQuerySession slot, IReadOnlyList<ReplayRequested> replays, CancellationToken cancellation)
    {
        var all = await slot.Query<SetAsideEvent>().Where(s => s.Projection == Name).OrderBy(s => s.Sequence).ToListAsync(cancellation);
        if (replays.Any(r => r.EventIds is null))
        {
            return [.. all];
        }

        var wanted = replays.SelectMany(r => r.EventIds!).ToHashSet();
        return [.. all.Where(s => wanted.Contains(s.EventId))];
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
        List<Sourced> own, CancellationToken cancellation)
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

            target.HardDeleteWhere<SetAsideEvent>(s => s.Projection == Name);
            (run.Cleared, run.Written, run.Processed) = (true, 0, 0);
            _cache = null;
            return;
        }

        // The documents in memory go on from where they stand when they match what the slot has stored; anything else
        // (a flush rolled back, another node moved the rebuild on, this node just took over) starts from the stored slot.
        var written = run.WrittenThrough();
        if (_cache is not { } cache || cache.RebuildId != run.Id || cache.Written != written)
        {
            _cache = cache = new RebuildCache(run.Id, written, complete: written == 0, operations.DocumentStore.Options.Serializer(), _rebuildMemory,
                _rowsPerCommand);
        }

        // Everything of this projection's types older than this batch is what the live projection processed before it.
        // Chunk after chunk, until the batch has taken its time or the documents their memory.
        var started = _clock.GetTimestamp();
        var caughtUp = false;
        try
        {
            do
            {
                var (chunk, last) = await ReadHistoryAsync(operations, cache.Applied, events[0].Sequence, cancellation);
                caughtUp = chunk.Count < _chunkSize;
                if (caughtUp && own.Count > 0)
                {
                    chunk.AddRange(own);
                    last = own[^1].Sequence;
                }

                if (chunk.Count > 0)
                {
                    await ApplyToSlotAsync(operations, run.Target, chunk, [], cancellation, cache);
                }

                run.Processed = Math.Max(run.Processed, last);
            }
            while (!caughtUp && !cache.Full && _clock.GetElapsedTime(started) < _rebuildBatchTime);
        }
        catch
        {
            // What a chunk left half-applied in memory must not be built on.
            _cache = null;
            throw;
        }

        if (caughtUp || cache.Full)
        {
            cache.Flush(target, final: caughtUp);
            run.Written = cache.Written;
        }

        if (caughtUp)
        {
            // The batch's own events are in the slot now: if it is rolled back, the next one starts again from the slot.
            _cache = null;
            slots.Finish(RebuildRun.Completed, _clock.GetUtcNow(), coverage: _builder.Coverage);
        }
    }

    /// <summary>
    /// At most the chunk size of this projection's events after <paramref name="after"/> and before
    /// <paramref name="before"/>, in sequence order, with the last one's sequence. Read with plain SQL and Marten's own
    /// serializer: history needs only the events' data, and skipping Marten's event envelopes makes the replay several
    /// times faster. Older events are committed and never change, so a connection of its own reads them.
    /// </summary>
    private async Task<(List<Sourced> Events, long Last)> ReadHistoryAsync(IDocumentOperations operations, long after, long before,
        CancellationToken cancellation)
    {
        var events = await QueryEventsAsync(operations, MartenTables.HistoryChunk, [after, before, _typeNames, _chunkSize], cancellation);
        return (events, events.Count > 0 ? events[^1].Sequence : after);
    }

    /// <summary>The events with these sequence numbers (set-aside events to replay), in sequence order.</summary>
    private Task<List<Sourced>> ReadEventsAsync(IDocumentOperations operations, long[] sequences, CancellationToken cancellation) =>
        QueryEventsAsync(operations, MartenTables.EventsBySequence, [sequences], cancellation);

    private async Task<List<Sourced>> QueryEventsAsync(IDocumentOperations operations, string sql, object[] parameters, CancellationToken cancellation)
    {
        var serializer = operations.DocumentStore.Options.Serializer();
        await using var connection = operations.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        var events = new List<Sourced>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var (sequence, id, type, version) = (reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetInt64(3));
            try
            {
                events.Add(new Sourced(sequence, id, type, version, serializer.FromJson(_typesByName[type], reader, 4)));
            }
            catch (Exception e) when (EventIsolation.IsEventFailure(e, cancellation))
            {
                // Stored data this version cannot read: set aside like an event that throws, never a stuck rebuild.
                events.Add(new Sourced(sequence, id, type, version, null, e));
            }
        }

        return events;
    }

    private static readonly System.Reflection.MethodInfo ClearMethod =
        typeof(SlottedProjection).GetMethod(nameof(Clear), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;

    private static void Clear<T>(IDocumentOperations slot) where T : notnull => slot.HardDeleteWhere<T>(_ => true);
}
