using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Net.Http.Headers;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Analytics;

/// <summary>
/// What the analytics tests share: the route, reads of it (JSON and CSV), a field-by-field comparison of a response with
/// an expected JSON document, and builders for the wire envelopes the hand-written tests publish.
/// </summary>
public static class AnalyticsApi
{
    public const string Route = "/api/admin/analytics";

    /// <summary>GETs the analytics as an admin (waiting for <paramref name="minSequence"/>) and returns the whole JSON body.</summary>
    public static Task<JsonElement> GetAsync(AppFixture app, string query, long minSequence, string? token = null) =>
        app.GetJsonAsync(Url(query, minSequence), token);

    public static string Url(string query, long? minSequence = null)
    {
        var parts = new List<string>();
        if (query.Length > 0)
        {
            parts.Add(query);
        }

        if (minSequence is { } sequence)
        {
            parts.Add("min_sequence=" + sequence.ToString(CultureInfo.InvariantCulture));
        }

        return parts.Count == 0 ? Route : Route + "?" + string.Join("&", parts);
    }

    /// <summary><c>start_date=…&amp;end_date=…</c> with each value escaped (an offset's <c>+</c> must survive the query string).</summary>
    public static string Range(string? start, string? end)
    {
        var parts = new List<string>();
        if (start is not null)
        {
            parts.Add("start_date=" + Uri.EscapeDataString(start));
        }

        if (end is not null)
        {
            parts.Add("end_date=" + Uri.EscapeDataString(end));
        }

        return string.Join("&", parts);
    }

    public static string Range(DateOnly start, DateOnly end) => Range(Day(start), Day(end));

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly Today() => DateOnly.FromDateTime(DateTime.UtcNow);

    /// <summary>The CSV report: via <c>Accept: text/csv</c> or via <c>format=csv</c>. Returns body, media type and Content-Disposition.</summary>
    public static async Task<(string Body, string MediaType, string ContentDisposition)> GetCsvAsync(AppFixture app, string query, long minSequence, bool viaAccept)
    {
        var url = Url(viaAccept ? query : query.Length == 0 ? "format=csv" : query + "&format=csv", minSequence);
        var result = await app.Host.Scenario(s =>
        {
            s.Get.Url(url);
            s.WithBearerToken(TestTokens.Admin);
            if (viaAccept)
            {
                s.WithRequestHeader("Accept", "text/csv");
            }

            s.StatusCodeShouldBe(200);
        });
        var headers = result.Context.Response.Headers;
        var mediaType = MediaTypeHeaderValue.Parse(headers.ContentType.ToString()).MediaType.ToString();
        return (await result.ReadAsTextAsync(), mediaType, headers.ContentDisposition.ToString());
    }

    /// <summary>
    /// The CSV body equals the expected lines joined by "\n". A single line break after the last line is tolerated: the
    /// agreed format ("lines separated by \n") does not say whether the last line is terminated.
    /// </summary>
    public static void AssertCsv(string expected, string actual)
    {
        var body = actual.EndsWith('\n') ? actual[..^1] : actual;
        if (body != expected)
        {
            var expectedLines = expected.Split('\n');
            var actualLines = body.Split('\n');
            var first = Enumerable.Range(0, Math.Min(expectedLines.Length, actualLines.Length)).FirstOrDefault(i => expectedLines[i] != actualLines[i], -1);
            Assert.Fail(first >= 0
                ? $"CSV line {first + 1}: expected '{expectedLines[first]}', got '{actualLines[first]}'\n--- got ---\n{actual}"
                : $"CSV has {actualLines.Length} lines, expected {expectedLines.Length}\n--- got ---\n{actual}");
        }
    }

    /// <summary>
    /// Exactly the expected document: the same keys in every object, the same array lengths and order, equal strings,
    /// and numbers that are JSON numbers equal by decimal value (120.5 and 120.50 are the same amount). Lists every difference.
    /// </summary>
    public static bool Matches(JsonNode? expected, JsonElement actual)
    {
        var differences = new List<string>();
        Compare(expected, actual, "$", differences);
        return differences.Count == 0;
    }

    /// <summary>Fails with every difference between the expected JSON and the actual answer.</summary>
    public static void AssertMatches(JsonNode? expected, JsonElement actual, string what = "$")
    {
        var differences = new List<string>();
        Compare(expected, actual, what, differences);
        if (differences.Count > 0)
        {
            Assert.Fail($"{differences.Count} difference(s):\n" + string.Join("\n", differences.Take(40)));
        }
    }

    private static void Compare(JsonNode? expected, JsonElement actual, string path, List<string> differences)
    {
        switch (expected)
        {
            case JsonObject o:
                if (actual.ValueKind != JsonValueKind.Object)
                {
                    differences.Add($"{path}: expected an object, got {actual.ValueKind}");
                    return;
                }

                var names = actual.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var missing in o.Select(p => p.Key).Where(k => !names.Contains(k)))
                {
                    differences.Add($"{path}.{missing}: missing");
                }

                foreach (var extra in names.Where(n => !o.ContainsKey(n)))
                {
                    differences.Add($"{path}.{extra}: not expected");
                }

                foreach (var (key, value) in o)
                {
                    if (actual.TryGetProperty(key, out var property))
                    {
                        Compare(value, property, $"{path}.{key}", differences);
                    }
                }

                break;
            case JsonArray a:
                if (actual.ValueKind != JsonValueKind.Array)
                {
                    differences.Add($"{path}: expected an array, got {actual.ValueKind}");
                    return;
                }

                if (a.Count != actual.GetArrayLength())
                {
                    differences.Add($"{path}: expected {a.Count} elements, got {actual.GetArrayLength()}");
                }

                var index = 0;
                foreach (var element in actual.EnumerateArray().Take(a.Count))
                {
                    Compare(a[index], element, $"{path}[{index}]", differences);
                    index++;
                }

                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                var want = decimal.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                if (actual.ValueKind != JsonValueKind.Number)
                {
                    differences.Add($"{path}: expected the number {want}, got {actual.ValueKind} {actual.GetRawText()}");
                }
                else if (!actual.TryGetDecimal(out var got) || got != want)
                {
                    differences.Add($"{path}: expected {want}, got {actual.GetRawText()}");
                }

                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                if (actual.ValueKind != JsonValueKind.String || actual.GetString() != v.GetValue<string>())
                {
                    differences.Add($"{path}: expected {v.ToJsonString()}, got {actual.GetRawText()}");
                }

                break;
            default:
                if (!JsonNode.DeepEquals(expected, JsonNode.Parse(actual.GetRawText())))
                {
                    differences.Add($"{path}: expected {expected?.ToJsonString() ?? "null"}, got {actual.GetRawText()}");
                }

                break;
        }
    }

    // ---- Envelopes for the hand-written tests (instants in UTC, written with Z) ----

    public static DateTimeOffset At(string isoUtc) => DateTimeOffset.Parse(isoUtc, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();

    public static DateTimeOffset At(DateOnly day, int hour = 12, int minute = 0, int second = 0) =>
        new(day.ToDateTime(new TimeOnly(hour, minute, second)), TimeSpan.Zero);

    public static JsonObject OrderPlaced(string orderId, DateTimeOffset at, params (string OrgId, int Quantity, decimal UnitPrice)[] items) =>
        Envelopes.Of("order.placed", new JsonObject
        {
            ["orderId"] = orderId,
            ["items"] = new JsonArray(items.Select((i, n) => (JsonNode)new JsonObject
            {
                ["productId"] = $"{orderId}-p{n}",
                ["orgId"] = i.OrgId,
                ["quantity"] = i.Quantity,
                ["unitPrice"] = i.UnitPrice,
            }).ToArray()),
        }, at);

    public static JsonObject StatusChanged(string orderId, string status, DateTimeOffset at) =>
        Envelopes.Of("order.status_changed", new JsonObject { ["orderId"] = orderId, ["status"] = status }, at);

    public static JsonObject CartCreated(string cartId, DateTimeOffset at) =>
        Envelopes.Of("cart.created", new JsonObject { ["cartId"] = cartId }, at);

    public static JsonObject ItemAdded(string cartId, string productId, int quantity, decimal unitPrice, DateTimeOffset at) =>
        Envelopes.Of("cart.item_added", new JsonObject { ["cartId"] = cartId, ["productId"] = productId, ["quantity"] = quantity, ["unitPrice"] = unitPrice }, at);

    public static JsonObject ItemRemoved(string cartId, string productId, int quantity, DateTimeOffset at) =>
        Envelopes.Of("cart.item_removed", new JsonObject { ["cartId"] = cartId, ["productId"] = productId, ["quantity"] = quantity }, at);

    public static JsonObject CheckedOut(string cartId, DateTimeOffset at) =>
        Envelopes.Of("cart.checked_out", new JsonObject { ["cartId"] = cartId, ["orderId"] = "order-of-" + cartId }, at);

    public static JsonObject Clicked(string referralId, string visitorId, string orgId, DateTimeOffset at) =>
        Envelopes.Of("referral.clicked", new JsonObject { ["referralId"] = referralId, ["visitorId"] = visitorId, ["orgId"] = orgId }, at);

    public static JsonObject StoreSale(string orderId, string visitorId, string orgId, decimal amount, DateTimeOffset at) =>
        Envelopes.Of("artist_store.order_completed", new JsonObject { ["orderId"] = orderId, ["visitorId"] = visitorId, ["orgId"] = orgId, ["amount"] = amount }, at);

    public static JsonObject ProfileUpdated(string orgId, string name, DateTimeOffset at) =>
        Envelopes.Of("artist.profile_updated", new JsonObject { ["orgId"] = orgId, ["name"] = name }, at);
}
