using System.Collections.Concurrent;
using JasperFx;
using JasperFx.Events;
using Marten;
using Marten.Storage;
using Npgsql;
using NpgsqlTypes;
using Projections.Hosting;
using Projections.ReadModels;

namespace Projections.Ingest;

/// <summary>
/// Appends a validated batch to the event store in one transaction, each envelope at most once. The envelope id is the
/// stored event's id and the database keeps event ids unique, so a duplicate is refused however it arrives (same batch,
/// later batch, concurrent request, another instance). Nothing of a failed attempt is committed.
/// <para>
/// Appends take turns, cluster-wide, on a transaction-level advisory lock taken before anything else: the look-up of
/// stored ids and the append then see every batch committed before, so a duplicate delivered by two publishers at once
/// is found as stored by the second instead of colliding with the first. A collision used to roll the loser back after
/// it had drawn sequence numbers, and the daemon waits for such a gap to go stale (3 s) before it moves on: every racing
/// duplicate stalled publish-to-visible by 3 s. Taking turns also commits sequence numbers in order, so the high-water
/// mark never waits for an append still in flight. One batch appends in milliseconds, so turns cost little.
/// </para>
/// <para>
/// The batch is written with one set-based statement rather than Marten's per-stream append function: it bumps every
/// touched stream's version with one upsert of <c>mt_streams</c> (row locks taken in stream id order, so concurrent
/// batches over the same entities queue instead of deadlocking) and inserts every event with one insert into
/// <c>mt_events</c>, writing the same columns Marten's quick append writes. A batch touches hundreds of streams with
/// about one event each; one function call, three lookups and two writes per stream made the append the largest
/// cost of ingest in PostgreSQL.
/// </para>
/// </summary>
public sealed class EventIngestor(IDocumentStore store, ProjectionsMetrics metrics, ILogger<EventIngestor> logger)
{
    private const int MaxAttempts = 8;

    /// <summary>The advisory lock appends take turns on ("projections ingest"), distinct from Marten's own lock ids.</summary>
    public const long AppendLock = 0x70726f6a5f696e67;

    private static readonly string TakeTurnSql = $"select pg_advisory_xact_lock({AppendLock})";
    private readonly ConcurrentDictionary<Type, (string Name, string DotNet)> _mappings = new();

    public async Task<IngestReceipt> AppendAsync(IReadOnlyList<Envelope> envelopes, CancellationToken cancellation)
    {
        using var activity = Telemetry.Source.StartActivity("ingest batch");
        activity?.SetTag("projections.batch.size", envelopes.Count);
        var ids = envelopes.Select(e => e.Id).Distinct().ToArray();
        var database = (IMartenDatabase)store.Storage.Database;
        if (((StoreOptions)store.Options).AutoCreateSchemaObjects != AutoCreate.None)
        {
            await database.EnsureStorageExistsAsync(typeof(IEvent), cancellation);
        }

        for (var attempt = 1; ; attempt++)
        {
            await using var connection = database.CreateConnection();
            await connection.OpenAsync(cancellation);
            await using var transaction = await connection.BeginTransactionAsync(cancellation);
            await using (var turn = new NpgsqlCommand(TakeTurnSql, connection, transaction))
            {
                await turn.ExecuteNonQueryAsync(cancellation);
            }

            var seen = new HashSet<Guid>();
            await using (var command = new NpgsqlCommand(MartenTables.StoredEventIds, connection, transaction) { Parameters = { new() { Value = ids } } })
            await using (var reader = await command.ExecuteReaderAsync(cancellation))
            {
                while (await reader.ReadAsync(cancellation))
                {
                    seen.Add(reader.GetGuid(0));
                }
            }

            var appended = envelopes.Where(e => seen.Add(e.Id)).ToList();
            if (appended.Count == 0)
            {
                await using var last = new NpgsqlCommand(MartenTables.LastSequence, connection, transaction);
                var current = (long)(await last.ExecuteScalarAsync(cancellation))!;
                metrics.Ingested(0, envelopes.Count);
                return new IngestReceipt(0, envelopes.Count, current);
            }

            try
            {
                var lastSequence = await AppendAsync(connection, transaction, appended, cancellation);
                await transaction.CommitAsync(cancellation);
                metrics.Ingested(appended.Count, envelopes.Count - appended.Count);
                return new IngestReceipt(appended.Count, envelopes.Count - appended.Count, lastSequence);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DeadlockDetected)
            {
                // Not expected while appends take turns (only something appending without the lock could do it):
                // nothing of ours was committed; look again after a short, jittered pause.
                if (attempt == MaxAttempts)
                {
                    throw new IngestContentionException(e);
                }

                logger.LogDebug(e, "Batch raced a concurrent append (attempt {Attempt}); retrying", attempt);
                await transaction.RollbackAsync(CancellationToken.None);
                await Task.Delay(Random.Shared.Next(5, 25) * attempt, cancellation);
            }
        }
    }

    private async Task<long> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Envelope> envelopes,
        CancellationToken cancellation)
    {
        // Streams in id order (the order their rows are locked in); per stream, how many events it gets.
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var envelope in envelopes)
        {
            counts[envelope.StreamKey] = counts.GetValueOrDefault(envelope.StreamKey) + 1;
        }

        var serializer = store.Options.Serializer();
        var n = envelopes.Count;
        var (eventIds, streams, later, data, types, dotnet) = (new Guid[n], new string[n], new long[n], new string[n], new string[n], new string[n]);
        var remaining = new Dictionary<string, long>(counts, StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var envelope = envelopes[i];
            var mapping = _mappings.GetOrAdd(envelope.Event.GetType(), type =>
            {
                var m = store.Options.Events.AllKnownEventTypes().Single(t => t.EventType == type);
                return (m.EventTypeName, m.DotNetTypeName);
            });
            eventIds[i] = envelope.Id;
            streams[i] = envelope.StreamKey;
            later[i] = --remaining[envelope.StreamKey];
            data[i] = serializer.ToJson(envelope.Event);
            (types[i], dotnet[i]) = mapping;
        }

        await using var command = new NpgsqlCommand(MartenTables.AppendEvents, connection, transaction)
        {
            Parameters =
            {
                new() { Value = StorageConstants.DefaultTenantId },
                new() { Value = counts.Keys.ToArray() },
                new() { Value = counts.Values.ToArray() },
                new() { Value = (long)n },
                new() { Value = eventIds },
                new() { Value = streams },
                new() { Value = later },
                new() { Value = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb },
                new() { Value = types },
                new() { Value = dotnet },
            },
        };

        await using var reader = await command.ExecuteReaderAsync(cancellation);
        await reader.ReadAsync(cancellation);
        var (written, lastSequence) = (reader.GetInt64(0), reader.GetInt64(1));
        if (written != n)
        {
            throw new InvalidOperationException($"Appended {written} of {n} events; the batch was not committed.");
        }

        return lastSequence;
    }
}

/// <summary>A batch kept losing races with concurrent appends to the same entities; the publisher should retry it.</summary>
public sealed class IngestContentionException(Exception inner)
    : Exception("The batch kept colliding with concurrent appends to the same entities.", inner);
