using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Projections.Auth;
using Projections.Hosting;
using Projections.ReadModels;

namespace Projections.Ingest;

/// <summary>The answer to an accepted batch.</summary>
public sealed record IngestReceipt(int Accepted, int Duplicates, long LastSequence);

/// <summary><c>POST /api/events</c>: validate the whole batch first, then append it atomically, once per envelope id.</summary>
public static class IngestEndpoint
{
    public const int MaxBodyBytes = 5 * 1024 * 1024;

    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/events", Post)
            .WithTags("Ingest")
            .RequireAuthorization(AuthSetup.PublishEvents)
            .RequireRateLimiting(IngestConcurrency.Policy)
            .Produces<IngestReceipt>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    private static async Task<IResult> Post(HttpContext context, EventIngestor ingestor, DatabaseResilience resilience, TimeProvider clock,
        ProjectionProgress progress, IOptions<IngestSettings> settings, ProjectionsMetrics metrics)
    {
        if (!IsJson(context.Request.ContentType))
        {
            return Problems.Result(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Send the events as application/json, not '{Problems.Quote(context.Request.ContentType ?? "(no content type)")}'.");
        }

        // Backpressure: while the projections are far behind, a publisher waits instead of adding to what a dashboard lags.
        var (bound, stalledAfter) = (settings.Value.MaxProjectionLag, settings.Value.StalledProjectionAfter);
        if (bound > 0 && progress.BehindBy(stalledAfter) is var behind && behind > bound)
        {
            metrics.Refused(RefusalReason.Lag);
            context.Response.Headers.RetryAfter = IngestConcurrency.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Projections behind",
                $"The projections are {behind} events behind the newest stored event, more than Ingest:MaxProjectionLag ({bound}); " +
                "nothing of this batch was stored. Send it again after Retry-After, when they have caught up.");
        }

        EnvelopeBatch.Result parsed;
        using (var body = await RentedBody.ReadAsync(context.Request, MaxBodyBytes, context.RequestAborted))
        {
            if (body is null)
            {
                return Problems.Result(StatusCodes.Status413PayloadTooLarge, "Payload too large",
                    $"A batch may be at most {MaxBodyBytes} bytes (5 MiB); send fewer envelopes per request.");
            }

            // Nothing parsed keeps a reference to the body: its buffer goes back to the pool before the append.
            parsed = EnvelopeBatch.Parse(body.Memory, clock.GetUtcNow());
        }

        switch (parsed)
        {
            case EnvelopeBatch.Malformed malformed:
                return Problems.BadRequest(malformed.Detail);
            case EnvelopeBatch.Invalid invalid:
                return Problems.BadRequest(
                    $"{invalid.Errors.Count} envelope(s) are invalid; nothing of this batch was stored.",
                    new Dictionary<string, object?> { ["errors"] = invalid.Errors });
            case EnvelopeBatch.Valid valid:
                try
                {
                    // A retry after a lost connection is safe: envelopes already stored count as duplicates.
                    var receipt = await resilience.Pipeline.ExecuteAsync(
                        async (envelopes, ct) => await ingestor.AppendAsync(envelopes, ct), valid.Envelopes, context.RequestAborted);
                    return Results.Json(receipt, statusCode: StatusCodes.Status202Accepted);
                }
                catch (IngestContentionException e)
                {
                    metrics.Refused(RefusalReason.Contention);
                    context.Response.Headers.RetryAfter = IngestConcurrency.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                    return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Busy", e.Message + " Nothing was stored; send it again.");
                }
            default:
                throw new InvalidOperationException("Unexpected parse result");
        }
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Value is { } type
        && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase)));

    /// <summary>
    /// A request body in a buffer rented from the shared pool. A batch of 1,000 envelopes is about 200 KB: allocated per
    /// request, every body went to the large object heap, whose budget then set off a full collection about every second
    /// while publishers sent at full speed, stopping every request of the node, the dashboards' reads included.
    /// </summary>
    private sealed class RentedBody : IDisposable
    {
        private byte[]? _buffer;
        private int _length;

        private RentedBody(int capacity) => _buffer = ArrayPool<byte>.Shared.Rent(capacity);

        public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

        /// <summary>The body, or null when it is larger than <paramref name="limit"/> bytes.</summary>
        public static async Task<RentedBody?> ReadAsync(HttpRequest request, int limit, CancellationToken cancellation)
        {
            if (request.ContentLength > limit)
            {
                return null;
            }

            var body = new RentedBody((int)Math.Min(request.ContentLength ?? 64 * 1024, limit) + 1);
            try
            {
                while (true)
                {
                    if (body._length == body._buffer!.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(body._buffer.Length * 2, limit + 1));
                        body._buffer.AsSpan(0, body._length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(body._buffer);
                        body._buffer = larger;
                    }

                    var read = await request.Body.ReadAsync(body._buffer.AsMemory(body._length), cancellation);
                    if (read == 0)
                    {
                        return body;
                    }

                    body._length += read;
                    if (body._length > limit)
                    {
                        body.Dispose();
                        return null;
                    }
                }
            }
            catch
            {
                body.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            if (_buffer is { } buffer)
            {
                _buffer = null;
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
