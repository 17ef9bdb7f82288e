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
/// Appends take turns, cluster-wide, on a transaction-level advisory lock taken before anything else: the append's
/// look-up of stored ids then sees every batch committed before, so a duplicate delivered by two publishers at once is
/// found as stored by the second instead of colliding with the first. A collision used to roll the loser back after
/// it had drawn sequence numbers, and the daemon waits for such a gap to go stale (3 s) before it moves on: every racing
/// duplicate stalled publish-to-visible by 3 s. Taking turns also commits sequence numbers in order, so the high-water
/// mark never waits for an append still in flight. A turn is the lock and one statement (the batch is serialized and its
/// arrays built before taking it), so turns cost little.
/// </para>
/// <para>
/// The batch is written with one set-based statement rather than Marten's per-stream append function: it leaves out the
/// events already stored, bumps every touched stream's version with one upsert of <c>mt_streams</c> (row locks taken in
/// stream id order, so concurrent batches over the same entities queue instead of deadlocking) and inserts every new
/// event with one insert into <c>mt_events</c>, writing the same columns Marten's quick append writes. A batch touches
/// hundreds of streams with about one event each; one function call, three lookups and two writes per stream made the
/// append the largest cost of ingest in PostgreSQL.
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
        var database = (IMartenDatabase)store.Storage.Database;
        if (((StoreOptions)store.Options).AutoCreateSchemaObjects != AutoCreate.None)
        {
            await database.EnsureStorageExistsAsync(typeof(IEvent), cancellation);
        }

        // Everything the statement needs is made before taking a turn: the turn is only the database's work.
        var batch = Batch.Of(envelopes, store.Options.Serializer(), Mapping);
        for (var attempt = 1; ; attempt++)
        {
            await using var connection = database.CreateConnection();
            await connection.OpenAsync(cancellation);
            await using var transaction = await connection.BeginTransactionAsync(cancellation);
            await using (var turn = new NpgsqlCommand(TakeTurnSql, connection, transaction))
            {
                await turn.ExecuteNonQueryAsync(cancellation);
            }

            try
            {
                var (fresh, appended, lastSequence) = await AppendAsync(connection, transaction, batch, cancellation);
                if (appended != fresh)
                {
                    throw new InvalidOperationException($"Appended {appended} of {fresh} new events; the batch was not committed.");
                }

                await transaction.CommitAsync(cancellation);
                var accepted = (int)appended;
                metrics.Ingested(accepted, envelopes.Count - accepted);
                return new IngestReceipt(accepted, envelopes.Count - accepted, lastSequence);
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

    private (string Name, string DotNet) Mapping(Type type) => _mappings.GetOrAdd(type, t =>
    {
        var m = store.Options.Events.AllKnownEventTypes().Single(e => e.EventType == t);
        return (m.EventTypeName, m.DotNetTypeName);
    });

    /// <summary>The statement's arrays: each envelope id once (its first occurrence), in batch order, with the event
    /// serialized as it is stored.</summary>
    private sealed record Batch(Guid[] Ids, string[] Streams, string[] Data, string[] Types, string[] DotNetTypes)
    {
        public static Batch Of(IReadOnlyList<Envelope> envelopes, ISerializer serializer, Func<Type, (string Name, string DotNet)> mapping)
        {
            var seen = new HashSet<Guid>(envelopes.Count);
            var unique = envelopes.Where(e => seen.Add(e.Id)).ToList();
            var mappings = unique.Select(e => mapping(e.Event.GetType())).ToList();
            return new Batch([.. unique.Select(e => e.Id)], [.. unique.Select(e => e.StreamKey)], [.. unique.Select(e => serializer.ToJson(e.Event))],
                [.. mappings.Select(m => m.Name)], [.. mappings.Select(m => m.DotNet)]);
        }
    }

    private static async Task<(long Fresh, long Appended, long LastSequence)> AppendAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, Batch batch, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(MartenTables.AppendEvents, connection, transaction)
        {
            Parameters =
            {
                new() { Value = StorageConstants.DefaultTenantId },
                new() { Value = batch.Ids },
                new() { Value = batch.Streams },
                new() { Value = batch.Data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb },
                new() { Value = batch.Types },
                new() { Value = batch.DotNetTypes },
            },
        };

        await using var reader = await command.ExecuteReaderAsync(cancellation);
        await reader.ReadAsync(cancellation);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}

/// <summary>A batch kept losing races with concurrent appends to the same entities; the publisher should retry it.</summary>
public sealed class IngestContentionException(Exception inner)
    : Exception("The batch kept colliding with concurrent appends to the same entities.", inner);
