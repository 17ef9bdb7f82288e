using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Projections.Bench;

/// <summary>The hot key run: events, how long until the analytics had them all, and whether its figures were exact.</summary>
public sealed record HotVisitorResult(long Events, double Seconds, double EventsPerSecond, bool Exact, string Figures);

/// <summary>
/// One visitor with a huge share of the traffic: publishers send every visitor without a cookie as <c>anonymous</c>. A
/// year (2025, after the generated shop's 2024) of clicks from that one visitor to one artist's store and sales in it,
/// in the order they happen, published like the shop (four publishers, round robin, so somewhat reordered), until the
/// analytics have caught up; then the year's referral figures are checked against an attribution worked out here,
/// independently: for each sale the latest click at or before it within 30 days.
/// </summary>
public static class HotVisitor
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task<HotVisitorResult> RunAsync(HttpClient http, int events, int publishers,
        Func<HttpClient, List<List<byte[]>>, Task<long>> publish, Func<HttpClient, long, Task> waitForCatchUp)
    {
        var random = new Random(7);
        var clicks = new List<(DateTimeOffset At, string Id)>();
        var sales = new List<(DateTimeOffset At, decimal Amount)>();
        var envelopes = new List<JsonObject>(events);
        var times = Enumerable.Range(0, events).Select(_ => Start.AddSeconds(random.NextInt64(0, 365L * 86400))).Order().ToList();
        for (var i = 0; i < events; i++)
        {
            var at = times[i];
            if (i % 3 == 2)
            {
                var amount = random.Next(100, 50_000) / 100m;
                sales.Add((at, amount));
                envelopes.Add(Envelope("artist_store.order_completed", at,
                    new JsonObject { ["orderId"] = $"hot-sale-{i:D7}", ["visitorId"] = "anonymous", ["orgId"] = "org-hot", ["amount"] = amount }));
            }
            else
            {
                var id = $"hot-click-{i:D7}";
                clicks.Add((at, id));
                envelopes.Add(Envelope("referral.clicked", at, new JsonObject { ["referralId"] = id, ["visitorId"] = "anonymous", ["orgId"] = "org-hot" }));
            }
        }

        // Clicks and sales are entities of their own: any order between them is allowed. Publishers share them round robin.
        var batches = Enumerable.Range(0, publishers)
            .Select(p => envelopes.Where((_, i) => i % publishers == p).Chunk(1000)
                .Select(chunk => System.Text.Encoding.UTF8.GetBytes(new JsonArray(chunk.Select(e => (JsonNode)e).ToArray()).ToJsonString())).ToList())
            .ToList();
        var clock = Stopwatch.StartNew();
        var last = await publish(http, batches);
        await waitForCatchUp(http, last);
        var seconds = clock.Elapsed.TotalSeconds;

        var (expectedReferrals, expectedConversions, expectedRevenue) = Expected(clicks, sales);
        var answer = JsonDocument.Parse(await http.GetStringAsync($"/api/admin/analytics?start_date=2025-01-01&end_date=2025-12-31&min_sequence={last}"))
            .RootElement.GetProperty("analytics").GetProperty("referralMetrics");
        var (referrals, conversions, revenue) = (answer.GetProperty("totalReferrals").GetInt64(), answer.GetProperty("conversions").GetInt64(),
            answer.GetProperty("attributedRevenue").GetDecimal());
        var exact = referrals == expectedReferrals && conversions == expectedConversions && revenue == expectedRevenue;
        return new HotVisitorResult(events, seconds, events / seconds, exact,
            $"{referrals} clicks, {conversions} converted, {revenue:F2} attributed" + (exact ? "" : $" (expected {expectedReferrals}, {expectedConversions}, {expectedRevenue:F2})"));
    }

    /// <summary>The contract's attribution, worked out directly: each sale to the latest click (ties: the greater id) at or
    /// before it and at most 30 days before it.</summary>
    private static (long Referrals, long Conversions, decimal Revenue) Expected(List<(DateTimeOffset At, string Id)> clicks,
        List<(DateTimeOffset At, decimal Amount)> sales)
    {
        var sorted = clicks.OrderBy(c => c.At).ThenBy(c => c.Id, StringComparer.Ordinal).ToList();
        var times = sorted.Select(c => c.At).ToList();
        var converted = new HashSet<string>(StringComparer.Ordinal);
        var revenue = 0m;
        foreach (var (at, amount) in sales)
        {
            // The last click at or before the sale: the upper bound of its time, minus one.
            var index = times.BinarySearch(at);
            if (index >= 0)
            {
                while (index + 1 < times.Count && times[index + 1] == at)
                {
                    index++;
                }
            }
            else
            {
                index = ~index - 1;
            }

            if (index >= 0 && sorted[index].At >= at.AddDays(-30))
            {
                converted.Add(sorted[index].Id);
                revenue += amount;
            }
        }

        return (clicks.Count, converted.Count, revenue);
    }

    private static JsonObject Envelope(string type, DateTimeOffset at, JsonObject data) => new()
    {
        ["id"] = Guid.NewGuid().ToString(), ["type"] = type, ["occurredAt"] = at.ToString("yyyy-MM-ddTHH:mm:ssZ"), ["data"] = data,
    };
}
