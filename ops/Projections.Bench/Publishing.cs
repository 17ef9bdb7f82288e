using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Projections.Bench;

/// <summary>What <c>POST /api/events</c> answered a batch, and how often it was told to come back first.</summary>
public sealed record Receipt(int Accepted, int Duplicates, long LastSequence, int Refusals);

/// <summary>
/// How every publisher of the benchmark sends a batch, as the service's docs ask of publishers: a <c>503</c> (or a
/// <c>429</c>) with <c>Retry-After</c> stored nothing, so the same batch is sent again after that long (a duplicate
/// is harmless); anything but a <c>202</c> otherwise stops the benchmark.
/// </summary>
public static class Publishing
{
    /// <summary>A publisher that is refused this often in a row is not being throttled: something is wrong.</summary>
    private const int MaxRefusals = 600;

    public static async Task<Receipt> PostAsync(HttpClient http, byte[] batch, CancellationToken cancellation = default)
    {
        for (var refusals = 0; ; refusals++)
        {
            using var content = new ByteArrayContent(batch);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync("/api/events", content, cancellation);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                var receipt = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellation)).RootElement;
                return new Receipt(receipt.GetProperty("accepted").GetInt32(), receipt.GetProperty("duplicates").GetInt32(),
                    receipt.GetProperty("lastSequence").GetInt64(), refusals);
            }

            if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
                || RetryAfter(response) is not { } wait || refusals >= MaxRefusals)
            {
                throw new InvalidOperationException($"Ingest answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
            }

            await Task.Delay(wait, cancellation);
        }
    }

    /// <summary>How long the answer asks to wait: <c>Retry-After</c> as seconds or as a date; null without one.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero,
        _ => null,
    };
}
