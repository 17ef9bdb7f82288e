using Projections.Hosting;
using System.Globalization;
using Marten;
using Microsoft.Net.Http.Headers;

namespace Projections.ReadModels;

/// <summary>Query sessions on the slot each projection's reads come from (see <see cref="ProjectionSlots"/>).</summary>
public sealed class ReadModelSessions(IDocumentStore store, IReadOnlyDictionary<string, string> slots) : IAsyncDisposable
{
    private readonly Dictionary<string, IQuerySession> _open = new(StringComparer.Ordinal);

    /// <summary>A session on the active slot of <paramref name="projection"/>.</summary>
    public IQuerySession Of(string projection)
    {
        var slot = slots[projection];
        if (!_open.TryGetValue(slot, out var session))
        {
            _open[slot] = session = store.QuerySession(slot);
        }

        return session;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _open.Values)
        {
            await session.DisposeAsync();
        }
    }
}

/// <summary>
/// The one way read endpoints answer: honour <c>min_sequence</c>, serve the cached bytes while the projections behind
/// the response have not moved, and send <c>X-Projection-Sequence</c>, <c>ETag</c> (304 on a match) and
/// <c>Cache-Control: private</c>.
/// </summary>
public static class ReadModelEndpoint
{
    public const string SequenceHeader = "X-Projection-Sequence";

    /// <param name="key">What the response shows (route and view): responses with equal keys are byte-equal.</param>
    /// <param name="projections">The projections whose documents the response is read from.</param>
    /// <param name="render">Loads the documents and writes the response; runs only when the cached bytes are out of date,
    /// once for all concurrent readers, so it must not use the request (its HttpContext or services).</param>
    /// <param name="contentType">The media type of what <paramref name="render"/> writes.</param>
    /// <param name="contentDisposition">Sent with the read model's answer (200 or 304), never with a problem.</param>
    public static async Task<IResult> Serve(HttpContext context, string key, IReadOnlyList<string> projections,
        Func<ReadModelSessions, CancellationToken, Task<byte[]>> render, string contentType = "application/json",
        string? contentDisposition = null)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var progress = services.GetRequiredService<ProjectionProgress>();
        var catalogue = services.GetRequiredService<ProjectionCatalogue>();
        var cancellation = context.RequestAborted;

        long? minSequence = null;
        if (context.Request.Query.TryGetValue("min_sequence", out var raw))
        {
            if (!long.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var min))
            {
                return Problems.BadRequest($"min_sequence must be a non-negative integer, not '{Problems.Quote(raw.ToString())}'.");
            }

            if (!await progress.WaitForAsync([.. projections.Select(catalogue.ShardOf)], min, cancellation))
            {
                context.Response.Headers.RetryAfter = "1";
                return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Read model not caught up",
                    $"The read model has not processed through sequence {min} yet; retry shortly.");
            }

            minSequence = min;
        }

        var current = new long[projections.Count];
        for (var i = 0; i < current.Length; i++)
        {
            current[i] = progress.Of(catalogue.ShardOf(projections[i]));
        }

        var cache = services.GetRequiredService<ReadModelCache>();
        var response = cache.Find(key, current);
        var outcome = "hit";
        if (response is null)
        {
            outcome = "miss";
            var store = services.GetRequiredService<IDocumentStore>();
            var resilience = services.GetRequiredService<DatabaseResilience>();
            Task<CachedResponse> Load() => cache.LoadAsync(key, current, ct => resilience.Pipeline.ExecuteAsync(async token =>
            {
                // The slots are looked up after the progress above (and the poller publishes them first), so the documents
                // hold at least what that progress says, whichever slot a rebuild has just switched to.
                await using var sessions = new ReadModelSessions(store, projections.ToDictionary(p => p, progress.ActiveSlot));
                return await render(sessions, token);
            }, ct).AsTask());

            // While the projections move on, a reader that did not ask for a newer sequence gets the previous answer
            // (which says which sequence it reflects) instead of waiting for the load, which runs once for everyone.
            var loading = Load();
            response = cache.Latest(key) is { } previous && previous.Sequence >= (minSequence ?? 0) && !loading.IsCompleted
                ? previous
                : await loading.WaitAsync(cancellation);

            // A load this reader joined may have started before the progress it asked for: load again.
            while (response.Sequence < (minSequence ?? 0))
            {
                response = await Load().WaitAsync(cancellation);
            }
        }

        var headers = context.Response.Headers;
        headers[SequenceHeader] = response.Sequence.ToString(CultureInfo.InvariantCulture);
        headers.ETag = response.ETag;
        headers.CacheControl = "private";
        if (contentDisposition is not null)
        {
            headers.ContentDisposition = contentDisposition;
        }

        if (context.Request.GetTypedHeaders().IfNoneMatch is { Count: > 0 } tags
            && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag == response.ETag))
        {
            Record(services, key, "not_modified", started);
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        Record(services, key, outcome, started);
        return Results.Bytes(response.Body, contentType);
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
