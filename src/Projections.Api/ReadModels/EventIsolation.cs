using Projections.Hosting;
using System.Text;
using Marten;
using Npgsql;

namespace Projections.ReadModels;

/// <summary>An event a projection could not apply: its position in the batch and what it threw.</summary>
public sealed record Unapplied(int Index, Exception Error);

/// <summary>
/// Applies a batch so that no single event can stop a projection. Normally the whole batch is prepared at once. When
/// that throws for any reason but the database (a bug, or history stored before the contract's limits), the batch is
/// prepared again in chunks, each reading what the chunks before it computed; a chunk that throws is searched, by
/// halving, for the first event whose inclusion makes it throw. That event is set aside with its error and everything
/// else is applied, in order. A chunk costs a few document loads, so even many bad events cost seconds, not a stall.
/// </summary>
public static class EventIsolation
{
    private const int ChunkSize = 128;

    public static async Task<(DocumentChanges Changes, IReadOnlyList<Unapplied> SetAside)> PrepareAsync(IReadModelBuilder builder,
        IDocumentSource source, ISerializer serializer, IReadOnlyList<ProjectedEvent> events, CancellationToken cancellation)
    {
        try
        {
            return (await builder.PrepareAsync(source, events, cancellation), []);
        }
        catch (Exception e) when (IsEventFailure(e, cancellation))
        {
            return await IsolateAsync(builder, new OverlaySource(source, serializer), events, cancellation);
        }
    }

    /// <summary>
    /// Whether the exception comes from applying events rather than from the database, the event store's machinery or a
    /// shutdown. For those the batch is not searched (every event would seem to fail, and good events would be set aside):
    /// it fails as a whole, the daemon retries it and status says "retrying". Anything else, the projection's own code
    /// throwing on what an event holds, is searched for the event at fault.
    /// </summary>
    public static bool IsEventFailure(Exception e, CancellationToken cancellation)
    {
        if (cancellation.IsCancellationRequested)
        {
            return false;
        }

        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is NpgsqlException or OperationCanceledException or TimeoutException or ObjectDisposedException
                || DatabaseResilience.IsUnavailable(inner) || IsInfrastructure(inner.GetType()))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsInfrastructure(Type type) =>
        type.Namespace is { } name && (name.StartsWith("Marten", StringComparison.Ordinal) || name.StartsWith("Npgsql", StringComparison.Ordinal)
                                       || name.StartsWith("Weasel", StringComparison.Ordinal) || name.StartsWith("JasperFx", StringComparison.Ordinal)
                                       || name.StartsWith("Polly", StringComparison.Ordinal));

    private static async Task<(DocumentChanges, IReadOnlyList<Unapplied>)> IsolateAsync(IReadModelBuilder builder, OverlaySource overlay,
        IReadOnlyList<ProjectedEvent> events, CancellationToken cancellation)
    {
        var setAside = new List<Unapplied>();
        for (var start = 0; start < events.Count; start += ChunkSize)
        {
            var chunk = Enumerable.Range(start, Math.Min(ChunkSize, events.Count - start)).ToList();
            while (chunk.Count > 0)
            {
                var (changes, error) = await TryAsync(builder, overlay, events, chunk, cancellation);
                if (changes is not null)
                {
                    overlay.Absorb(changes);
                    break;
                }

                // The whole chunk throws: find the shortest prefix that does. Its last event is the one at fault.
                var (good, bad) = (0, chunk.Count);
                while (bad - good > 1)
                {
                    var middle = (good + bad) / 2;
                    var (_, prefixError) = await TryAsync(builder, overlay, events, chunk[..middle], cancellation);
                    if (prefixError is null)
                    {
                        good = middle;
                    }
                    else
                    {
                        (bad, error) = (middle, prefixError);
                    }
                }

                setAside.Add(new Unapplied(chunk[bad - 1], error!));
                chunk.RemoveAt(bad - 1);
            }
        }

        return (overlay.Changes, setAside);
    }

    private static async Task<(DocumentChanges?, Exception?)> TryAsync(IReadModelBuilder builder, IDocumentSource source,
        IReadOnlyList<ProjectedEvent> events, List<int> indexes, CancellationToken cancellation)
    {
        try
        {
            return (await builder.PrepareAsync(source, indexes.Select(i => events[i]).ToList(), cancellation), null);
        }
        catch (Exception e) when (IsEventFailure(e, cancellation))
        {
            return (null, e);
        }
    }

    /// <summary>The slot's documents as the chunks prepared so far left them. Every load is a copy, so a chunk that throws
    /// half way leaves nothing changed.</summary>
    private sealed class OverlaySource(IDocumentSource slot, ISerializer serializer) : IDocumentSource
    {
        public DocumentChanges Changes { get; } = new();

        public void Absorb(DocumentChanges changes) => Changes.Absorb(changes);

        public async Task<IReadOnlyDictionary<string, T>> LoadManyAsync<T>(IReadOnlyCollection<string> ids, CancellationToken cancellation)
            where T : class, IEntityState
        {
            var found = new Dictionary<string, T>(StringComparer.Ordinal);
            var missing = new List<string>();
            foreach (var id in ids)
            {
                if (Changes.Find<T>(id) is { } prepared)
                {
                    found[id] = serializer.FromJson<T>(new MemoryStream(Encoding.UTF8.GetBytes(serializer.ToJson(prepared))));
                }
                else
                {
                    missing.Add(id);
                }
            }

            foreach (var (id, document) in await slot.LoadManyAsync<T>(missing, cancellation))
            {
                found[id] = document;
            }

            return found;
        }
    }
}
