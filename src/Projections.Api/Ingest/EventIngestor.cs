using JasperFx.Events;
using Marten;
using Npgsql;
using Projections.Hosting;

namespace Projections.Ingest;

/// <summary>
/// Appends a validated batch to the event store in one transaction, each envelope at most once. The envelope id is the
/// stored event's id and the database keeps event ids unique, so a duplicate is refused however it arrives (same batch,
/// later batch, concurrent request, another instance); a batch that loses such a race is retried without the ids that
/// won. A batch that loses a race for the next version of an entity's stream to a concurrent batch is retried too:
/// in both cases nothing of it was committed.
/// </summary>
public sealed class EventIngestor(IDocumentStore store, ProjectionsMetrics metrics, ILogger<EventIngestor> logger)
{
    private const int MaxAttempts = 8;
    private static readonly string StoredIdsSql = $"select id from {StoreSetup.SchemaName}.mt_events where id = any(?)";
    private static readonly string LastSequenceSql = $"select coalesce(max(seq_id), 0) from {StoreSetup.SchemaName}.mt_events";

    public async Task<IngestReceipt> AppendAsync(IReadOnlyList<Envelope> envelopes, CancellationToken cancellation)
    {
        using var activity = Telemetry.Source.StartActivity("ingest batch");
        activity?.SetTag("projections.batch.size", envelopes.Count);
        var ids = envelopes.Select(e => e.Id).Distinct().ToArray();
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var alreadyStored = await session.AdvancedSql.QueryAsync<Guid>(StoredIdsSql, cancellation, ids);

            var seen = new HashSet<Guid>(alreadyStored);
            var appended = new List<IEvent>(envelopes.Count);
            foreach (var envelope in envelopes)
            {
                if (!seen.Add(envelope.Id))
                {
                    continue;
                }

                var stream = session.Events.Append(envelope.StreamKey, envelope.Event);
                var appendedEvent = stream.Events[^1];
                appendedEvent.Id = envelope.Id;
                appended.Add(appendedEvent);
            }

            if (appended.Count == 0)
            {
                var current = (await session.AdvancedSql.QueryAsync<long>(LastSequenceSql, cancellation)).Single();
                metrics.Ingested(0, envelopes.Count);
                return new IngestReceipt(0, envelopes.Count, current);
            }

            try
            {
                await session.SaveChangesAsync(cancellation);
                metrics.Ingested(appended.Count, envelopes.Count - appended.Count);
                return new IngestReceipt(appended.Count, envelopes.Count - appended.Count, appended.Max(e => e.Sequence));
            }
            catch (Exception e) when (IsConcurrentAppend(e))
            {
                // Another request stored some of these ids, or appended to one of these streams, first: nothing of ours
                // was committed; look again after a short, jittered pause.
                if (attempt == MaxAttempts)
                {
                    throw new IngestContentionException(e);
                }

                logger.LogDebug(e, "Batch raced a concurrent append (attempt {Attempt}); retrying", attempt);
                await Task.Delay(Random.Shared.Next(5, 25) * attempt, cancellation);
            }
        }
    }

    private static bool IsConcurrentAppend(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is EventStreamUnexpectedMaxEventIdException or PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>A batch kept losing races with concurrent appends to the same streams; the publisher should retry it.</summary>
public sealed class IngestContentionException(Exception inner)
    : Exception("The batch kept colliding with concurrent appends to the same entities.", inner);
