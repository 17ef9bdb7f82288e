using JasperFx.Events;
using Marten;
using Npgsql;
using Projections.Hosting;

namespace Projections.Ingest;

/// <summary>
/// Appends a validated batch to the event store in one transaction, each envelope at most once. The envelope id is the
/// stored event's id and the database keeps event ids unique, so a duplicate is refused however it arrives (same batch,
/// later batch, concurrent request, another instance); a batch that loses such a race is retried without the ids that
/// won.
/// </summary>
public sealed class EventIngestor(IDocumentStore store, ILogger<EventIngestor> logger)
{
    private const int MaxAttempts = 5;
    private static readonly string StoredIdsSql = $"select id from {StoreSetup.SchemaName}.mt_events where id = any(?)";
    private static readonly string LastSequenceSql = $"select coalesce(max(seq_id), 0) from {StoreSetup.SchemaName}.mt_events";

    public async Task<IngestReceipt> AppendAsync(IReadOnlyList<Envelope> envelopes, CancellationToken cancellation)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var ids = envelopes.Select(e => e.Id).Distinct().ToArray();
            var stored = (await session.AdvancedSql.QueryAsync<Guid>(StoredIdsSql, cancellation, ids)).ToHashSet();

            var seen = new HashSet<Guid>(stored);
            var appended = new List<IEvent>(envelopes.Count);
            foreach (var envelope in envelopes)
            {
                if (!seen.Add(envelope.Id))
                {
                    continue;
                }

                var action = session.Events.Append(envelope.StreamKey, envelope.Event);
                var stored1 = action.Events[^1];
                stored1.Id = envelope.Id;
                appended.Add(stored1);
            }

            if (appended.Count == 0)
            {
                var current = (await session.AdvancedSql.QueryAsync<long>(LastSequenceSql, cancellation)).Single();
                return new IngestReceipt(0, envelopes.Count, current);
            }

            try
            {
                await session.SaveChangesAsync(cancellation);
                return new IngestReceipt(appended.Count, envelopes.Count - appended.Count, appended.Max(e => e.Sequence));
            }
            catch (Exception e) when (IsUniqueViolation(e) && attempt < MaxAttempts)
            {
                // Another request stored some of these ids first: nothing of ours was committed; look again.
                logger.LogDebug("Batch raced a concurrent delivery of the same events (attempt {Attempt}); retrying", attempt);
            }
        }
    }

    private static bool IsUniqueViolation(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return true;
            }
        }

        return false;
    }
}
