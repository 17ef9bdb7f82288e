using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Projections.Tests.Analytics;
using Projections.Tests.Infrastructure;
using Projections.Tests.Metrics;

namespace Projections.Tests.Ingest;

/// <summary>
/// A property-based fuzz test (CsCheck): thousands of envelopes, most of them valid and the rest mutated (wrong types,
/// missing and extra fields, numbers at and past the limits, long and odd strings, dates at and past the limits, deep
/// nesting, redeliveries), posted in batches. Every answer is 202, or 400 problem+json that names what is wrong, never
/// anything else; afterwards every projection is running, and every figure of every read equals the independent
/// references computed over the accepted batches only, before and after a rebuild. A failure prints CsCheck's seed;
/// set CsCheck_Seed to replay it.
/// </summary>
public sealed class IngestFuzzTests(AppFixture app) : AppTest(app)
{
    private static readonly DateTimeOffset Year = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Any_batch_is_accepted_or_refused_with_a_problem_and_the_figures_equal_the_references_over_what_was_accepted()
    {
        var accepted = new List<JsonObject>();
        var answers = new Dictionary<int, int>();
        // Sequential (threads: 1): batches are delivered one after another, as the references replay them.
        await Task.Run(() => Batch.Sample((envelopes, redeliver) =>
        {
            var batch = envelopes.ToList();
            if (redeliver >= 0 && accepted.Count > 0)
            {
                batch.Add((JsonObject)accepted[redeliver % accepted.Count].DeepClone());
            }

            var (status, body) = PostAsync(batch).GetAwaiter().GetResult();
            answers[status] = answers.GetValueOrDefault(status) + 1;
            if (status == 202)
            {
                accepted.AddRange(batch.Select(e => (JsonObject)e.DeepClone()));
                return;
            }

            Assert.True(status == 400, $"answered {status}: {body}\nfor {Show(batch)}");
            using var problem = JsonDocument.Parse(body);
            Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()), body);
        }, iter: 250, threads: 1));

        Assert.True(answers.GetValueOrDefault(202) >= 20 && answers.GetValueOrDefault(400) >= 20,
            $"the fuzz should produce both answers often: {string.Join(", ", answers.Select(a => $"{a.Key}: {a.Value}"))}");
        var last = (await App.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = "fuzz-end", ["role"] = "staff" }, Year)])).LastSequence;
        accepted.Add(Envelopes.Of("user.registered", new() { ["userId"] = "fuzz-end", ["role"] = "staff" }, Year));

        await AssertFiguresAsync(accepted, last);
        foreach (var projection in new[] { "UserMetrics", "InventoryMetrics", "GalleryAnalytics", "ReferralAnalytics" })
        {
            Assert.Equal("completed", (await App.RebuildAsync(projection)).GetProperty("status").GetString());
        }

        await AssertFiguresAsync(accepted, last);
    }

    private async Task AssertFiguresAsync(List<JsonObject> accepted, long last)
    {
        foreach (var activeOnly in new[] { true, false })
        {
            MetricsReference.AssertMatches(MetricsReference.Admin(accepted, activeOnly), await App.GetJsonAsync($"/metrics/admin-dashboard?active_only={activeOnly}&min_sequence={last}"));
            MetricsReference.AssertMatches(MetricsReference.InventoryOnly(accepted, activeOnly), await App.GetJsonAsync($"/metrics/inventory?active_only={activeOnly}&min_sequence={last}"));
        }

        MetricsReference.AssertMatches(MetricsReference.Staff(accepted), await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}"));
        var reference = AnalyticsReference.Replay(accepted);
        foreach (var (start, end) in new[] { (new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31)), (new DateOnly(2000, 1, 1), new DateOnly(2000, 1, 31)),
                     (DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-29), DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1)) })
        {
            AnalyticsApi.AssertMatches(reference.Expected(start, end), await AnalyticsApi.GetAsync(App, AnalyticsApi.Range(start, end), last), $"[{start}..{end}] $");
        }

        var status = await App.GetJsonAsync("/api/admin/projections");
        Assert.All(status.GetProperty("projections").EnumerateArray(), p => Assert.Equal("running", p.GetProperty("status").GetString()));
    }

    private async Task<(int Status, string Body)> PostAsync(List<JsonObject> batch)
    {
        var text = string.Join(",", batch.Select(e => e.ToJsonString()));
        // Some mutations are not expressible as JSON nodes: they are written as markers and put in as raw text here.
        foreach (var (marker, raw) in RawValues)
        {
            text = text.Replace($"\"{marker}\"", raw, StringComparison.Ordinal);
        }

        var result = await App.Host.Scenario(s =>
        {
            s.Post.Text($"[{text}]").ContentType("application/json").ToUrl("/api/events");
            s.WithBearerToken(TestTokens.Service);
            s.IgnoreStatusCode();
        });
        var body = await result.ReadAsTextAsync();
        var status = result.Context.Response.StatusCode;
        if (status == 400)
        {
            Assert.Equal("application/problem+json", result.Context.Response.ContentType);
        }

        return (status, body);
    }

    private static string Show(List<JsonObject> batch)
    {
        var text = string.Join("\n", batch.Select(e => e.ToJsonString()));
        return text.Length > 4000 ? text[..4000] + "…" : text;
    }

    // ---- generators ----

    private static readonly (string Marker, string Raw)[] RawValues =
    [
        ("#lone-surrogate#", "\"a\\ud800b\""),
        ("#reversed-pair#", "\"\\ude00\\ud83d\""),
        ("#huge-number#", "1e400"),
        ("#tiny-number#", "1e-30"),
        ("#exponent-decimals#", "1e-3"),
        ("#deep#", string.Concat(Enumerable.Repeat("[", 20)) + string.Concat(Enumerable.Repeat("]", 20))),
        ("#duplicate-field#", "1, \"dup\": 2, \"dup\": 3"),
    ];

    private static Gen<string> Id(string prefix, int pool) => Gen.Int[0, pool - 1].Select(i => $"{prefix}-{i}");

    private static readonly Gen<decimal> Money = Gen.Frequency(
        (8, Gen.Int[0, 100_000].Select(cents => cents / 100m)),
        (1, Gen.OneOf(0m, 0.01m, 999_999_999.99m, 1_000_000_000.00m)));

    private static readonly Gen<int> ItemQuantity = Gen.Frequency((9, Gen.Int[1, 9]), (1, Gen.OneOf(1, 999_999, 1_000_000)));

    private static readonly Gen<int> Stock = Gen.Frequency((9, Gen.Int[0, 500]), (1, Gen.OneOf(0, 1_000_000_000)));

    private static readonly Gen<int> Delta = Gen.Frequency((9, Gen.Int[-50, 50].Where(d => d != 0)), (1, Gen.OneOf(-1_000_000_000, 1_000_000_000)));

    /// <summary>Mostly within 2024 (so that the analytics cover it), some at the limits the contract allows.</summary>
    private static readonly Gen<string> When = Gen.Frequency(
        (20, Gen.Int[0, 366 * 86400 - 1].Select(s => Year.AddSeconds(s).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture))),
        (2, Gen.Int[0, 366 * 86400 - 1].Select(s => Year.AddSeconds(s).ToOffset(TimeSpan.FromHours(-5)).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture))),
        (1, Gen.OneOf("2000-01-01T00:00:00Z", "2000-01-01T00:59:59+01:00")),
        (1, Gen.Const(() => DateTimeOffset.UtcNow.AddHours(23).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture))));

    private static readonly Gen<string> Name = Gen.Frequency(
        (6, Gen.OneOf("Ada Studio", "Smith, \"Jane\"", "=HYPERLINK(\"x\")", "Ünïcødé 😀", "\u202eRTL", "e\u0301", "@SUM(A1)")),
        (1, Gen.Int[1, 256].Select(n => new string('n', n))));

    private static JsonObject Data(params (string Key, JsonNode? Value)[] fields)
    {
        var data = new JsonObject();
        foreach (var (key, value) in fields)
        {
            data[key] = value;
        }

        return data;
    }

    private static readonly Gen<(string Type, JsonObject Data)> ValidData = Gen.OneOf<(string, JsonObject)>(
        Gen.Select(Id("u", 40), Gen.OneOf("customer", "staff", "admin"), Gen.Bool, Gen.Bool, (u, role, active, email) =>
            ("user.registered", Data(("userId", u), ("role", role), ("active", active), ("emailVerified", email)))),
        Gen.Select(Id("u", 40), Gen.OneOf("customer", "staff", "admin"), (u, role) => ("user.role_changed", Data(("userId", u), ("role", role)))),
        Gen.Select(Id("u", 40), Gen.OneOf("user.activated", "user.deactivated", "user.email_verified", "user.phone_verified", "user.email_changed",
            "user.phone_changed", "user.deleted"), (u, type) => (type, Data(("userId", u)))),
        Gen.Select(Id("p", 40), Id("org", 12), Name, Gen.Bool, Money, Gen.OneOf("USD", "eur", "GBP"), (p, org, name, active, price, currency) =>
            ("product.created", Data(("productId", p), ("orgId", org), ("name", name), ("active", active), ("price", price), ("currency", currency)))),
        Gen.Select(Id("p", 40), Money, (p, price) => ("product.price_set", Data(("productId", p), ("price", price)))),
        Gen.Select(Id("p", 40), Gen.OneOf("product.price_removed", "product.activated", "product.deactivated", "product.deleted"),
            (p, type) => (type, Data(("productId", p)))),
        Gen.Select(Id("p", 40), Stock, (p, q) => ("inventory.stock_set", Data(("productId", p), ("quantity", q)))),
        Gen.Select(Id("p", 40), Delta, (p, d) => ("inventory.stock_adjusted", Data(("productId", p), ("delta", d)))),
        Gen.Select(Id("p", 40), ItemQuantity, Gen.OneOf("inventory.reserved", "inventory.reservation_released", "inventory.reservation_fulfilled"),
            (p, q, type) => (type, Data(("productId", p), ("quantity", q)))),
        Gen.Select(Id("p", 40), Stock, (p, t) => ("inventory.low_stock_threshold_set", Data(("productId", p), ("threshold", t)))),
        Gen.Select(Id("org", 12), Name, (org, name) => ("artist.profile_updated", Data(("orgId", org), ("name", name)))),
        Gen.Select(Id("o", 60), Gen.Select(Id("p", 40), Id("org", 12), ItemQuantity, Money,
                (p, org, q, price) => (JsonNode)Data(("productId", p), ("orgId", org), ("quantity", q), ("unitPrice", price))).Array[1, 4],
            (o, items) => ("order.placed", Data(("orderId", o), ("items", new JsonArray(items)), ("customerId", "guest")))),
        Gen.Select(Id("o", 60), Gen.OneOf("pending", "paid", "processing", "partially_shipped", "shipped", "delivered", "cancelled"),
            (o, status) => ("order.status_changed", Data(("orderId", o), ("status", status)))),
        Gen.Select(Id("c", 40), c => ("cart.created", Data(("cartId", c)))),
        Gen.Select(Id("c", 40), Id("p", 40), ItemQuantity, Money, (c, p, q, price) =>
            ("cart.item_added", Data(("cartId", c), ("productId", p), ("quantity", q), ("unitPrice", price)))),
        Gen.Select(Id("c", 40), Id("p", 40), ItemQuantity, (c, p, q) => ("cart.item_removed", Data(("cartId", c), ("productId", p), ("quantity", q)))),
        Gen.Select(Id("c", 40), Id("o", 60), (c, o) => ("cart.checked_out", Data(("cartId", c), ("orderId", o)))),
        Gen.Select(Id("r", 80), Gen.OneOf("anonymous", "v-1", "v-2"), Id("org", 12), (r, v, org) =>
            ("referral.clicked", Data(("referralId", r), ("visitorId", v), ("orgId", org)))),
        Gen.Select(Id("s", 40), Gen.OneOf("anonymous", "v-1", "v-2"), Id("org", 12), Money, (s, v, org, amount) =>
            ("artist_store.order_completed", Data(("orderId", s), ("visitorId", v), ("orgId", org), ("amount", amount)))));

    private static readonly Gen<JsonObject> Valid = Gen.Select(ValidData, When, Gen.Guid, (data, at, id) => new JsonObject
    {
        ["id"] = id.ToString(), ["type"] = data.Type, ["occurredAt"] = at, ["data"] = data.Data,
    });

    /// <summary>What a mutation puts in place of a value.</summary>
    private static readonly Gen<JsonNode?> Odd = Gen.OneOf<JsonNode?>(
        Gen.OneOf<JsonNode?>(null, "", " ", "yes", true, false, 0, -1, 1.5, new JsonArray(), new JsonObject(), new JsonObject { ["nested"] = new JsonArray(1, 2) }),
        Gen.OneOf<JsonNode?>(1_000_001, 1_000_000_001, -1_000_000_001, int.MaxValue, long.MaxValue, 1_000_000_000.01m, 79_000_000_000_000_000_000_000_000_000m, 0.001m, -0.01m),
        Gen.OneOf<JsonNode?>(new string('x', 129), new string('x', 257), new string('x', 10_000), "a\u0000b", "a\u007fb", "\u001f", "tab\there", "😀",
            "#lone-surrogate#", "#reversed-pair#", "#huge-number#", "#tiny-number#", "#exponent-decimals#", "#deep#"),
        Gen.OneOf<JsonNode?>("1999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-30T10:00:00Z", "2024-01-05T14:03:11",
            "2024-01-05", "last tuesday", DateTimeOffset.UtcNow.AddHours(25).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)));

    /// <summary>A valid envelope with one thing changed: a value replaced, a field removed or added, the envelope itself.</summary>
    private static readonly Gen<JsonObject> Mutated = Gen.Select(Valid, Gen.Int[0, 5], Gen.Int[0, 100], Odd, (envelope, kind, pick, odd) =>
    {
        var data = envelope["data"]!.AsObject();
        var fields = data.Select(f => f.Key).ToList();
        switch (kind)
        {
            case 0: // a data field with an odd value
                data[fields[pick % fields.Count]] = odd?.DeepClone();
                break;
            case 1: // a data field removed
                data.Remove(fields[pick % fields.Count]);
                break;
            case 2: // an envelope field with an odd value
                envelope[new[] { "id", "type", "occurredAt", "data" }[pick % 4]] = odd?.DeepClone();
                break;
            case 3: // an extra field, which may be fine or may be odd
                data["extra"] = odd?.DeepClone();
                break;
            case 4: // an order line with an odd value
                if (data["items"] is JsonArray { Count: > 0 } items)
                {
                    items[0]!.AsObject()[new[] { "quantity", "unitPrice", "productId", "orgId" }[pick % 4]] = odd?.DeepClone();
                }
                else
                {
                    data[fields[pick % fields.Count]] = odd?.DeepClone();
                }

                break;
            default: // a field given twice
                data["dup"] = "#duplicate-field#";
                break;
        }

        return envelope;
    });

    /// <summary>A batch: half of them 1 to 40 valid envelopes, half 1 to 10 of which about one in three is mutated; and
    /// whether (and which) earlier accepted envelope is delivered again with it.</summary>
    private static readonly Gen<(JsonObject[] Envelopes, int Redeliver)> Batch = Gen.Select(
        Gen.Frequency((1, Valid.Array[1, 40]), (1, Gen.Frequency((2, Valid), (1, Mutated)).Array[1, 10])),
        Gen.Frequency((3, Gen.Const(-1)), (1, Gen.Int[0, 100_000])));
}
