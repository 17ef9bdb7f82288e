using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Projections.Bench;

/// <summary>Publish-to-visible latencies: p50, p99 and the worst, in milliseconds, over every publisher and round.</summary>
public sealed record FreshnessResult(int Publishers, int Rounds, int BatchSize, double P50Ms, double P99Ms, double MaxMs);

/// <summary>
/// How long a publisher waits from sending a batch until its reads show it: <c>POST /api/events</c>, then the admin
/// dashboard and the analytics with <c>min_sequence</c> set to the receipt's <c>lastSequence</c>, both answered 200.
/// Measured with one publisher, and with four publishers sending the very same batch at the same moment, as
/// at-least-once delivery does when a broker redelivers or a publisher retries.
/// </summary>
public static class Freshness
{
    /// <param name="budget">Stop after the round that passes it (a shop too busy for the service to keep up makes every
    /// round as long as the projections' lag): the result says how many rounds were done.</param>
    public static async Task<FreshnessResult> MeasureAsync(HttpClient http, int publishers, int rounds, int batchSize, string tag, TimeSpan? budget = null)
    {
        var latencies = new List<double>();
        var clock = Stopwatch.StartNew();
        var round = 0;
        for (; round < rounds && (budget is null || clock.Elapsed < budget); round++)
        {
            var body = Encoding.UTF8.GetBytes(Batch($"{tag}-{round}", batchSize).ToJsonString());
            using var start = new Barrier(publishers);
            var times = await Task.WhenAll(Enumerable.Range(0, publishers).Select(_ => Task.Run(async () =>
            {
                start.SignalAndWait();
                return await PublishAndReadAsync(http, body);
            })));
            latencies.AddRange(times);
        }

        latencies.Sort();
        double At(double quantile) => latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(quantile * latencies.Count) - 1)];
        return new FreshnessResult(publishers, round, batchSize, At(0.50), At(0.99), latencies[^1]);
    }

    private static async Task<double> PublishAndReadAsync(HttpClient http, byte[] body)
    {
        var clock = Stopwatch.StartNew();
        var last = (await Publishing.PostAsync(http, body)).LastSequence;
        await Task.WhenAll(ReadAsync(http, $"/metrics/admin-dashboard?min_sequence={last}"), ReadAsync(http, $"/api/admin/analytics?min_sequence={last}"));
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>Until the read answers 200: a 503 with <c>Retry-After</c> (not caught up within the service's wait) is
    /// asked again after that long, as a dashboard would; the time counts.</summary>
    private static async Task ReadAsync(HttpClient http, string url)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await http.GetAsync(url);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || Publishing.RetryAfter(response) is not { } wait || attempt >= 60)
            {
                throw new InvalidOperationException($"{url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }

            await Task.Delay(wait);
        }
    }

    /// <summary>A mixed batch, new entities every round: users, products with stock, and gallery orders.</summary>
    private static JsonArray Batch(string tag, int size)
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var batch = new JsonArray();
        for (var i = 0; i < size; i++)
        {
            var (type, data) = (i % 3) switch
            {
                0 => ("user.registered", new JsonObject { ["userId"] = $"fresh-{tag}-{i}", ["role"] = "customer" }),
                1 => ("inventory.stock_set", new JsonObject { ["productId"] = $"fresh-{tag}-{i}", ["quantity"] = 7 }),
                _ => ("order.placed", new JsonObject
                {
                    ["orderId"] = $"fresh-{tag}-{i}",
                    ["items"] = new JsonArray(new JsonObject { ["productId"] = "p-fresh", ["orgId"] = "org-fresh", ["quantity"] = 1, ["unitPrice"] = 12.5 }),
                }),
            };
            batch.Add(new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["type"] = type, ["occurredAt"] = at, ["data"] = data });
        }

        return batch;
    }
}
