using System.Buffers;
using Microsoft.Net.Http.Headers;
using Projections.Auth;
using Projections.Hosting;

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

    private static async Task<IResult> Post(HttpContext context, EventIngestor ingestor, DatabaseResilience resilience, TimeProvider clock)
    {
        if (!IsJson(context.Request.ContentType))
        {
            return Problems.Result(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Send the events as application/json, not '{Problems.Quote(context.Request.ContentType ?? "(no content type)")}'.");
        }

        var body = await ReadBodyAsync(context.Request, context.RequestAborted);
        if (body is null)
        {
            return Problems.Result(StatusCodes.Status413PayloadTooLarge, "Payload too large",
                $"A batch may be at most {MaxBodyBytes} bytes (5 MiB); send fewer envelopes per request.");
        }

        switch (EnvelopeBatch.Parse(body.Value, clock.GetUtcNow()))
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
                    context.Response.Headers.RetryAfter = "1";
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

    /// <summary>The body, or null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, CancellationToken cancellation)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 64 * 1024, MaxBodyBytes) + 1);
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await request.Body.ReadAsync(memory, cancellation);
            if (read == 0)
            {
                return buffer.WrittenMemory;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBodyBytes)
            {
                return null;
            }
        }
    }
}
