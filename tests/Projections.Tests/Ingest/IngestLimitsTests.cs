using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Marten;
using Projections.Ingest;
using Projections.Tests.Analytics;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Ingest;

/// <summary>
/// Every limit of the contract ("Limits" in events-v1.md): a value just past it refuses the whole batch with a 400 that
/// names the envelope and the field, with nothing stored; a value at it is accepted and counted exactly.
/// </summary>
public sealed class IngestLimitsTests(AppFixture app) : AppTest(app)
{
    private static readonly Guid BadId = Guid.Parse("4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
    private static readonly DateTimeOffset At = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static JsonObject Bad(string type, JsonObject data, DateTimeOffset? at = null) => Envelopes.Of(type, data, at ?? At, BadId);

    private static JsonObject Item(JsonNode quantity, JsonNode unitPrice) =>
        new() { ["productId"] = "p-1", ["orgId"] = "org-1", ["quantity"] = quantity, ["unitPrice"] = unitPrice };

    private static JsonObject Order(JsonNode quantity, JsonNode unitPrice) =>
        Bad("order.placed", new() { ["orderId"] = "o-1", ["items"] = new JsonArray(Item(quantity, unitPrice)) });

    /// <summary>Each case: the envelope (as JSON text, so that values System.Text.Json would not write can be sent), and what
    /// the error must say.</summary>
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        void Add(string name, JsonObject envelope, string field, string? replace = null, string? with = null)
        {
            var text = envelope.ToJsonString();
            data.Add(name, replace is null ? text : text.Replace(replace, with, StringComparison.Ordinal), field);
        }

        // occurredAt: from 2000-01-01T00:00:00Z to 24 hours after the service's clock
        Add("occurredAt before 2000", Bad("referral.clicked", Click(), new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.Zero)), "occurredAt must be from 2000-01-01T00:00:00Z");
        Add("occurredAt in year 1", Bad("artist_store.order_completed", Sale(5), DateTimeOffset.MinValue), "occurredAt must be from");
        Add("occurredAt 25 hours ahead", Bad("referral.clicked", Click(), DateTimeOffset.UtcNow.AddHours(25)), "24 hours after the service's clock");

        // money: 0 to 1,000,000,000.00, at most 2 decimals
        Add("money above a billion", Order(1, 1_000_000_000.01m), "data.items[0].unitPrice must be at most 1000000000.00");
        Add("money 7.9e28", Order(1, 1), "data.items[0].unitPrice must be", "\"unitPrice\":1", "\"unitPrice\":7.9e28");
        Add("money 1e400", Bad("product.price_set", new() { ["productId"] = "p-1", ["price"] = 1 }), "data.price must be a number from 0 to 1000000000.00",
            "\"price\":1", "\"price\":1e400");
        Add("money 1e-30", Bad("artist_store.order_completed", Sale(1)), "data.amount must be a number from 0", "\"amount\":1", "\"amount\":1e-30");
        Add("money 0.001 written with an exponent", Bad("cart.item_added", CartItem(1, 1)), "data.unitPrice must have at most 2 decimals",
            "\"unitPrice\":1", "\"unitPrice\":1e-3");
        Add("store sale amount above a billion", Bad("artist_store.order_completed", Sale(2_000_000_000m)), "data.amount must be at most");
        Add("product price above a billion", Bad("product.created", new() { ["productId"] = "p-1", ["orgId"] = "org-1", ["name"] = "n", ["price"] = 1e10 }),
            "data.price must be at most");

        // quantities that add or remove items: 1 to 1,000,000
        Add("order item quantity above a million", Order(1_000_001, 1), "data.items[0].quantity must be at most 1000000");
        Add("cart item quantity of int.MaxValue", Bad("cart.item_added", CartItem(int.MaxValue, 1)), "data.quantity must be at most 1000000");
        Add("cart removal above a million", Bad("cart.item_removed", new() { ["cartId"] = "c-1", ["productId"] = "p-1", ["quantity"] = 1_000_001 }),
            "data.quantity must be at most 1000000");
        Add("reservation above a million", Bad("inventory.reserved", new() { ["productId"] = "p-1", ["quantity"] = 1_000_001 }), "data.quantity must be at most 1000000");
        Add("release above a million", Bad("inventory.reservation_released", new() { ["productId"] = "p-1", ["quantity"] = 1_000_001 }), "data.quantity must be at most");
        Add("fulfilment above a million", Bad("inventory.reservation_fulfilled", new() { ["productId"] = "p-1", ["quantity"] = 1_000_001 }), "data.quantity must be at most");
        Add("quantity of 1e30", Bad("inventory.reserved", new() { ["productId"] = "p-1", ["quantity"] = 1 }), "data.quantity must be an integer from 1 to 1000000",
            "\"quantity\":1", "\"quantity\":1e30");
        Add("quantity written as 2.5e0", Bad("inventory.reserved", new() { ["productId"] = "p-1", ["quantity"] = 1 }), "data.quantity must be an integer",
            "\"quantity\":1", "\"quantity\":2.5e0");

        // stock figures: -1,000,000,000 to 1,000,000,000
        Add("stock above a billion", Bad("inventory.stock_set", new() { ["productId"] = "p-1", ["quantity"] = 1_000_000_001 }), "data.quantity must be at most 1000000000");
        Add("adjustment below minus a billion", Bad("inventory.stock_adjusted", new() { ["productId"] = "p-1", ["delta"] = -1_000_000_001 }),
            "data.delta must be at least -1000000000");
        Add("adjustment above a billion", Bad("inventory.stock_adjusted", new() { ["productId"] = "p-1", ["delta"] = 1_000_000_001 }), "data.delta must be at most 1000000000");
        Add("threshold above a billion", Bad("inventory.low_stock_threshold_set", new() { ["productId"] = "p-1", ["threshold"] = 1_000_000_001 }),
            "data.threshold must be at most 1000000000");

        // strings: ids 1 to 128 characters, other strings at most 256
        Add("id of 129 characters", Bad("cart.created", new() { ["cartId"] = new string('c', 129) }), "data.cartId must be at most 128 characters");
        Add("id of 129 characters beyond the basic plane", Bad("cart.created", new() { ["cartId"] = string.Concat(Enumerable.Repeat("😀", 129)) }),
            "data.cartId must be at most 128 characters");
        Add("artist name of 257 characters", Bad("artist.profile_updated", new() { ["orgId"] = "org-1", ["name"] = new string('n', 257) }),
            "data.name must be at most 256 characters");
        Add("artist name of 2 MB", Bad("artist.profile_updated", new() { ["orgId"] = "org-1", ["name"] = new string('n', 2 * 1024 * 1024) }),
            "data.name must be at most 256 characters");
        Add("product name of 257 characters", Bad("product.created", new() { ["productId"] = "p-1", ["orgId"] = "org-1", ["name"] = new string('n', 257) }),
            "data.name must be at most 256 characters");

        // any string: no control characters, no unpaired surrogates (keys and unknown fields too)
        Add("NUL in an id", Bad("cart.created", new() { ["cartId"] = "c\u00001" }), "data.cartId must not contain control characters (U+0000");
        Add("DEL in a name", Bad("artist.profile_updated", new() { ["orgId"] = "org-1", ["name"] = "A\u007fB" }), "data.name must not contain control characters (U+007F");
        Add("unit separator in an unknown field", Bad("cart.created", new() { ["cartId"] = "c-1", ["note"] = "a\u001fb" }), "data.note must not contain control characters");
        Add("control character in a field name", Bad("cart.created", new() { ["cartId"] = "c-1", ["no\u0001te"] = "x" }), "a field name in data must not contain control");
        Add("NUL in the envelope's type", Bad("cart.created", new() { ["cartId"] = "c-1" }), "type must not contain control", "\"type\":\"cart.created\"",
            "\"type\":\"cart.created\\u0000\"");
        Add("unpaired high surrogate in an id", Bad("cart.created", new() { ["cartId"] = "SURROGATE" }), "data.cartId is not valid text (an unpaired surrogate",
            "SURROGATE", "c\\ud800");
        Add("unpaired low surrogate in a name", Bad("artist.profile_updated", new() { ["orgId"] = "org-1", ["name"] = "SURROGATE" }), "data.name is not valid text",
            "SURROGATE", "\\udc00x");
        Add("reversed surrogate pair in an unknown field", Bad("cart.created", new() { ["cartId"] = "c-1", ["note"] = "SURROGATE" }), "data.note is not valid text",
            "SURROGATE", "\\ude00\\ud83d");
        Add("unpaired surrogate in the event type", Bad("cart.created", new() { ["cartId"] = "c-1" }), "unknown event type", "\"type\":\"cart.created\"",
            "\"type\":\"cart.\\ud800\"");
        return data;
    }

    private static JsonObject Click() => new() { ["referralId"] = "r-1", ["visitorId"] = "v-1", ["orgId"] = "org-1" };

    private static JsonObject Sale(decimal amount) => new() { ["orderId"] = "s-1", ["visitorId"] = "v-1", ["orgId"] = "org-1", ["amount"] = amount };

    private static JsonObject CartItem(int quantity, decimal unitPrice) =>
        new() { ["cartId"] = "c-1", ["productId"] = "p-1", ["quantity"] = quantity, ["unitPrice"] = unitPrice };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_value_past_a_limit_refuses_the_batch_naming_envelope_and_field(string rule, string envelope, string expected)
    {
        var body = $"[{Valid().ToJsonString()},{envelope}]";

        var problem = await PostAsync(body, 400);

        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal(1, error.GetProperty("index").GetInt32());
        Assert.Equal(BadId.ToString(), error.GetProperty("id").GetString());
        Assert.True(error.GetProperty("error").GetString()!.Contains(expected, StringComparison.Ordinal),
            $"{rule}: '{error.GetProperty("error").GetString()}' does not say '{expected}'");
        // The answer quotes no more than a short part of a rejected value.
        Assert.True(problem.GetRawText().Length < 4096, $"{rule}: the problem is {problem.GetRawText().Length} characters long");
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData(16, 202)]
    [InlineData(17, 400)]
    public async Task Json_may_nest_16_levels_deep(int levels, int status)
    {
        // The batch's array and the envelope are two levels, data a third; the rest is an ignored field.
        var deep = string.Concat(Enumerable.Repeat("[", levels - 3)) + string.Concat(Enumerable.Repeat("]", levels - 3));
        var envelope = Envelopes.Of("cart.created", new() { ["cartId"] = "c-1" }, At).ToJsonString().Replace("\"cartId\":\"c-1\"", $"\"cartId\":\"c-1\",\"extra\":{deep}");

        var answer = await PostAsync($"[{envelope}]", status);

        if (status == 400)
        {
            Assert.Contains("16 levels", answer.GetProperty("detail").GetString());
            await AssertNothingStoredAsync();
        }
    }

    [Theory]
    [InlineData("""[{"id":"6d1f7c1e-5b8e-4a51-9a43-0c6f8f0d9b11","id":"7d1f7c1e-5b8e-4a51-9a43-0c6f8f0d9b11","type":"cart.created","occurredAt":"2024-01-05T14:03:11Z","data":{"cartId":"c-1"}}]""")]
    [InlineData("""[{"id":"6d1f7c1e-5b8e-4a51-9a43-0c6f8f0d9b11","type":"cart.created","occurredAt":"2024-01-05T14:03:11Z","data":{"cartId":"c-1","cartId":"c-2"}}]""")]
    public async Task A_field_given_twice_is_400(string body)
    {
        var problem = await PostAsync(body, 400);
        Assert.Contains("each field once", problem.GetProperty("detail").GetString());
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("[\"\\u0000\"]")]
    [InlineData("[1e999999999999]")]
    [InlineData("{\"\\udc00\": 1}")]
    [InlineData("\u00ef\u00bb\u00bf[]")]
    public async Task Odd_json_of_any_kind_is_a_400_problem(string body)
    {
        await PostAsync(body, 400);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Values_at_every_limit_are_accepted_and_counted_exactly()
    {
        var now = DateTimeOffset.UtcNow;
        var name = new string('n', 256);
        var id = new string('i', 128);
        var envelopes = new[]
        {
            Envelopes.Of("product.created", new() { ["productId"] = id, ["orgId"] = "org-1", ["name"] = name, ["price"] = 1_000_000_000.00m }, Limits.EarliestOccurredAt),
            Envelopes.Of("inventory.stock_set", new() { ["productId"] = id, ["quantity"] = 1_000_000_000 }, now.AddHours(23)),
            Envelopes.Of("inventory.stock_adjusted", new() { ["productId"] = id, ["delta"] = -1_000_000_000 }, now),
            Envelopes.Of("inventory.stock_adjusted", new() { ["productId"] = id, ["delta"] = 1_000_000_000 }, now),
            Envelopes.Of("inventory.reserved", new() { ["productId"] = id, ["quantity"] = 1_000_000 }, now),
            Envelopes.Of("inventory.low_stock_threshold_set", new() { ["productId"] = id, ["threshold"] = 1_000_000_000 }, now),
            Envelopes.Of("artist.profile_updated", new() { ["orgId"] = "org-1", ["name"] = "=Ünïcødé 😀 " + new string('x', 241) }, now),
        };

        var receipt = await App.PublishAsync(envelopes);

        Assert.Equal(envelopes.Length, receipt.Accepted);
        var json = await App.GetJsonAsync($"/metrics/inventory?min_sequence={receipt.LastSequence}");
        Assert.Equal(1_000_000_000, json.GetProperty("total_stock_quantity").GetInt64());
        Assert.Equal(1_000_000, json.GetProperty("total_reserved_quantity").GetInt64());
        Assert.Equal(999_000_000, json.GetProperty("total_available_quantity").GetInt64());
        Assert.Equal(1_000_000_000_000_000_000m, json.GetProperty("total_inventory_revenue").GetDecimal());
        Assert.Equal(1, json.GetProperty("products_low_stock").GetInt32());
    }

    [Fact]
    public async Task Totals_at_the_limits_do_not_overflow()
    {
        // Two cart lines of int.MaxValue used to wrap; a line of 5,000 adds of a million, and 200 order lines of a million
        // items at a billion each, are counted exactly.
        var day = new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
        var adds = Enumerable.Range(0, 5000).Select(i => AnalyticsApi.ItemAdded("c-big", "p-1", 1_000_000, 1_000_000_000m, day.AddSeconds(i))).ToList();
        var order = AnalyticsApi.OrderPlaced("o-big", day, [.. Enumerable.Range(0, 200).Select(i => ($"org-{i:D3}", 1_000_000, 1_000_000_000m))]);
        var (last, accepted, _) = await App.PublishAllAsync([AnalyticsApi.CartCreated("c-big", day), .. adds, order], batchSize: 1000);
        Assert.Equal(5002, accepted);

        var analytics = (await AnalyticsApi.GetAsync(App, "start_date=2024-05-01&end_date=2024-05-01", last)).GetProperty("analytics");

        Assert.Equal(200_000_000_000_000_000m, analytics.GetProperty("overview").GetProperty("totalRevenue").GetDecimal());
        Assert.Equal(200_000_000, analytics.GetProperty("overview").GetProperty("totalItemsSold").GetInt64());
        Assert.Equal(5_000_000_000_000_000_000m, analytics.GetProperty("cartMetrics").GetProperty("averageCartValue").GetDecimal());
        Assert.Equal(5_000_000_000m, analytics.GetProperty("cartMetrics").GetProperty("averageItemsPerCart").GetDecimal());
        await AssertRunningAsync();
    }

    private static JsonObject Valid() => Envelopes.Of("user.registered", new() { ["userId"] = "u-ok", ["role"] = "customer" });

    private async Task<JsonElement> PostAsync(string body, int status)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Post.Text(body).ContentType("application/json").ToUrl("/api/events");
            s.WithBearerToken(TestTokens.Service);
            s.StatusCodeShouldBe(status);
            if (status >= 400)
            {
                s.ContentTypeShouldBe("application/problem+json");
            }
        });
        using var document = JsonDocument.Parse(await result.ReadAsTextAsync());
        return document.RootElement.Clone();
    }

    private async Task AssertNothingStoredAsync()
    {
        await using var session = App.Store.QuerySession();
        Assert.Equal(0, await session.Events.QueryAllRawEvents().CountAsync());
    }

    private async Task AssertRunningAsync()
    {
        var status = await App.GetJsonAsync("/api/admin/projections");
        foreach (var projection in status.GetProperty("projections").EnumerateArray())
        {
            Assert.Equal("running", projection.GetProperty("status").GetString());
        }
    }
}
