using Projections.Hosting;
using System.Globalization;
using System.Data;
using Marten;
using Npgsql;
using Microsoft.AspNetCore.Http.Headers;
using Microsoft.Net.Http.Headers;

namespace Projections.ReadModels;

/// <summary>
/// Query sessions on the slot each projection's reads come from (see <see cref="ProjectionSlots"/>), all in one
/// <c>REPEATABLE READ</c> transaction: everything one answer loads is from one snapshot of the database, so a
/// projection batch committing between two of its loads (the gallery's buckets, then its artists' names) cannot mix two
/// of its states in one answer.
/// </summary>
public sealed class ReadModelSessions : IAsyncDisposable
{
    private readonly IDocumentStore _store;
    private readonly IReadOnlyDictionary<string, string> _slots;
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _snapshot;
    private readonly Dictionary<string, IQuerySession> _open = new(StringComparer.Ordinal);

    private ReadModelSessions(IDocumentStore store, IReadOnlyDictionary<string, string> slots, NpgsqlConnection connection, NpgsqlTransaction snapshot)
    {
        (_store, _slots, _connection, _snapshot) = (store, slots, connection, snapshot);
    }

    /// <param name="store">The document store.</param>
    /// <param name="slots">The slot to read for each projection.</param>
    /// <param name="cancellation">Cancels opening the connection.</param>
    public static async Task<ReadModelSessions> OpenAsync(IDocumentStore store, IReadOnlyDictionary<string, string> slots, CancellationToken cancellation)
    {
        var connection = store.Storage.Database.CreateConnection();
        try
        {
            await connection.OpenAsync(cancellation);
            var snapshot = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellation);
            return new ReadModelSessions(store, slots, connection, snapshot);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A session on the active slot of <paramref name="projection"/>.</summary>
    public IQuerySession Of(string projection)
    {
        var slot = _slots[projection];
        if (!_open.TryGetValue(slot, out var session))
        {
            var options = Marten.Services.SessionOptions.ForTransaction(_snapshot);
            options.TenantId = slot;
            _open[slot] = session = _store.QuerySession(options);
        }

        return session;
    }

    /// <summary>Whether the connection went away (the database restarted, or the network or a pooler dropped it).</summary>
    private bool ConnectionLost =>
        (_connection.FullState & ConnectionState.Broken) != 0 || _connection.State == ConnectionState.Closed || _snapshot.Connection is null;

    /// <summary>
    /// Runs what loads an answer from these sessions. Once the connection is lost, Npgsql and Marten throw whatever the
    /// next step meets (a <c>57P01</c> from the server, then "Transaction is already completed" from the snapshot):
    /// all of it is the database being unavailable (<see cref="DatabaseUnavailableException"/>), which readers are
    /// told with <c>503</c> and <c>Retry-After</c>, not <c>500</c>.
    /// </summary>
    public async Task<T> Load<T>(Func<ReadModelSessions, Task<T>> load)
    {
        try
        {
            return await load(this);
        }
        catch (Exception e) when (!DatabaseResilience.IsUnavailable(e) && ConnectionLost)
        {
            throw new DatabaseUnavailableException("The connection to the database was lost while an answer was loaded.", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var session in _open.Values)
            {
                await session.DisposeAsync();
            }

            // Nothing was written: ending the snapshot is all there is to do.
            await _snapshot.DisposeAsync();
        }
        catch (Exception) when (ConnectionLost)
        {
            // A lost connection has nothing left to end; what the answer loaded (or the failure it met) stands.
        }
        finally
        {
            // Back to the pool whatever happened above (a broken one is dropped by it).
            await _connection.DisposeAsync();
        }
    }
}

/// <summary>
/// What a read route answers, resolved from its request (and, for answers that depend on the date, the clock).
/// </summary>
/// <param name="Key">What the response shows (route and view): responses with equal keys are byte-equal.</param>
/// <param name="Projections">The projections whose documents the response is read from.</param>
/// <param name="Render">Loads the documents and writes the response; runs only when the cached bytes are out of date,
/// once for all concurrent readers, so it must not use the request (its HttpContext or services).</param>
public sealed record ReadQuery(string Key, IReadOnlyList<string> Projections, Func<ReadModelSessions, CancellationToken, Task<byte[]>> Render)
{
    /// <summary>The media type of what <see cref="Render"/> writes.</summary>
    public string ContentType { get; init; } = "application/json";

    /// <summary>Sent with the read model's answer (200 or 304), never with a problem.</summary>
    public string? ContentDisposition { get; init; }

    /// <summary>For an answer that also depends on the clock (a default range that ends today): since when it has
    /// looked this way, at the latest; <c>Last-Modified</c> is never earlier.</summary>
    public DateTimeOffset? ValidFrom { get; init; }
}

/// <summary>
/// The one way read endpoints answer (<c>shared/contract/reads.md</c>): honour <c>min_sequence</c>, serve the cached
/// bytes while the projections behind the response have not moved, and send <c>X-Projection-Sequence</c>, <c>ETag</c>
/// and <c>Last-Modified</c> (304 on <c>If-None-Match</c> or <c>If-Modified-Since</c>) and <c>Cache-Control: private</c>;
/// with <c>Accept: text/event-stream</c>, live updates of the same answer (<see cref="ReadStreams"/>).
/// </summary>
public static class ReadModelEndpoint
{
    public const string SequenceHeader = "X-Projection-Sequence";
    public const string EventStream = "text/event-stream";

    /// <param name="context">The request.</param>
    /// <param name="query">What to answer; called again for each update of a live stream (its answer may depend on the
    /// date).</param>
    public static async Task<IResult> Serve(HttpContext context, Func<ReadQuery> query)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var progress = services.GetRequiredService<ProjectionProgress>();
        var catalogue = services.GetRequiredService<ProjectionCatalogue>();
        var cancellation = context.RequestAborted;
        var read = query();
        context.Response.Headers.Vary = HeaderNames.Accept;

        long? minSequence = null;
        if (context.Request.Query.TryGetValue("min_sequence", out var raw))
        {
            if (!long.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var min))
            {
                return Problems.BadRequest($"min_sequence must be a non-negative integer, not '{Problems.Quote(raw.ToString())}'.");
            }

            if (!await progress.WaitForAsync([.. read.Projections.Select(catalogue.ShardOf)], min, cancellation))
            {
                context.Response.Headers.RetryAfter = "1";
                return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Read model not caught up",
                    $"The read model has not processed through sequence {min} yet; retry shortly.");
            }

            minSequence = min;
        }

        if (context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(EventStream, StringComparison.OrdinalIgnoreCase)))
        {
            return await services.GetRequiredService<ReadStreams>().ServeAsync(context, query, minSequence ?? 0);
        }

        var (response, outcome) = await AnswerAsync(services, read, minSequence ?? 0, allowPrevious: true, cancellation);
        var headers = context.Response.Headers;
        headers[SequenceHeader] = response.Sequence.ToString(CultureInfo.InvariantCulture);
        headers.ETag = response.ETag;
        headers.CacheControl = "private";
        var lastModified = LastModified(response, read);
        if (lastModified is { } at)
        {
            headers.LastModified = HeaderUtilities.FormatDate(at.At);
        }

        if (read.ContentDisposition is not null)
        {
            headers.ContentDisposition = read.ContentDisposition;
        }

        if (NotModified(context.Request.GetTypedHeaders(), response, lastModified))
        {
            Record(services, read.Key, "not_modified", started);
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        Record(services, read.Key, outcome, started);
        return Results.Bytes(response.Body, read.ContentType);
    }

    /// <summary>
    /// The answer to <paramref name="read"/> at the projections' progress as last seen (at least
    /// <paramref name="minSequence"/>): from the cache while they have not moved, else loaded once for every concurrent
    /// reader. With <paramref name="allowPrevious"/>, while a load runs the previous answer (which says which sequence it
    /// reflects) is given instead of waiting for it.
    /// </summary>
    public static async Task<(CachedResponse Response, string Outcome)> AnswerAsync(IServiceProvider services, ReadQuery read, long minSequence,
        bool allowPrevious, CancellationToken cancellation)
    {
        var progress = services.GetRequiredService<ProjectionProgress>();
        var catalogue = services.GetRequiredService<ProjectionCatalogue>();
        var current = new long[read.Projections.Count];
        for (var i = 0; i < current.Length; i++)
        {
            current[i] = progress.Of(catalogue.ShardOf(read.Projections[i]));
        }

        var cache = services.GetRequiredService<ReadModelCache>();
        if (cache.Find(read.Key, current) is { } cached)
        {
            return (cached, "hit");
        }

        var store = services.GetRequiredService<IDocumentStore>();
        var resilience = services.GetRequiredService<DatabaseResilience>();
        var lastChanged = progress.LastChanged(read.Projections, current);
        Task<CachedResponse> Load() => cache.LoadAsync(read.Key, current, ct => resilience.Pipeline.ExecuteAsync(async token =>
        {
            // The slots are looked up after the progress above (and the poller publishes them first), so the documents
            // hold at least what that progress says, whichever slot a rebuild has just switched to.
            await using var sessions = await ReadModelSessions.OpenAsync(store, read.Projections.ToDictionary(p => p, progress.ActiveSlot), token);
            return await sessions.Load(s => read.Render(s, token));
        }, ct).AsTask(), lastChanged);

        // While the projections move on, a reader that did not ask for a newer sequence gets the previous answer
        // (which says which sequence it reflects) instead of waiting for the load, which runs once for everyone.
        var loading = Load();
        var response = allowPrevious && cache.Latest(read.Key) is { } previous && previous.Sequence >= minSequence && !loading.IsCompleted
            ? previous
            : await loading.WaitAsync(cancellation);

        // A load this reader joined may have started before the progress it asked for: load again.
        while (response.Sequence < minSequence)
        {
            response = await Load().WaitAsync(cancellation);
        }

        return (response, "miss");
    }

    /// <summary>The answer's <c>Last-Modified</c>: when its documents last changed, or since when the clock has made it
    /// look this way, whichever is later; null when unknown.</summary>
    public static (DateTimeOffset At, bool Ambiguous)? LastModified(CachedResponse response, ReadQuery read)
    {
        if (response.LastModified is not { } changed)
        {
            return null;
        }

        if (read.ValidFrom is not { } valid || valid < changed)
        {
            return (changed, response.LastModifiedAmbiguous);
        }

        return (valid, response.LastModifiedAmbiguous || valid.ToUnixTimeSeconds() == changed.ToUnixTimeSeconds());
    }

    /// <summary>
    /// 304 when the client's copy is current: by <c>If-None-Match</c> (the exact validator) when sent, else by
    /// <c>If-Modified-Since</c> when nothing changed after that second, and it is not a second in which another change
    /// may have fallen (HTTP dates have whole seconds).
    /// </summary>
    private static bool NotModified(RequestHeaders request, CachedResponse response, (DateTimeOffset At, bool Ambiguous)? lastModified)
    {
        if (request.IfNoneMatch is { Count: > 0 } tags)
        {
            return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag == response.ETag);
        }

        if (request.IfModifiedSince is not { } since || lastModified is not { } modified)
        {
            return false;
        }

        var changedSecond = modified.At.ToUnixTimeSeconds();
        var sinceSecond = since.ToUnixTimeSeconds();
        return changedSecond < sinceSecond || (changedSecond == sinceSecond && !modified.Ambiguous);
    }

    private static void Record(IServiceProvider services, string key, string outcome, long started)
    {
        var metrics = services.GetRequiredService<ProjectionsMetrics>();
        if (metrics.ReadsObserved)
        {
            var end = key.IndexOf(':', StringComparison.Ordinal);
            var readModel = end > 0 ? key[..end] : key;
            metrics.Read(readModel, outcome, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
    }
}
