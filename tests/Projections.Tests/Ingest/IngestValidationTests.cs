using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Marten;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Ingest;

/// <summary>
/// Every validation rule of shared/contract/events-v1.md: a bad envelope makes the whole batch a 400 problem that names
/// it (index, id, error), and nothing of the batch is stored, not even the valid envelope before it.
/// </summary>
public sealed class IngestValidationTests(AppFixture app) : AppTest(app)
{
    private static readonly Guid BadId = Guid.Parse("0b9e8a5c-1d2f-4e3a-9b7c-6d5e4f3a2b10");

    private sealed record Case(Func<JsonNode> Envelope, string? ExpectedId, params string[] ErrorContains);

    private static JsonObject Bad(string type, JsonObject data) => Envelopes.Of(type, data, id: BadId);

    private static JsonObject Registered(Action<JsonObject>? change = null)
    {
        var envelope = Bad("user.registered", new() { ["userId"] = "bad-user", ["role"] = "customer" });
        change?.Invoke(envelope);
        return envelope;
    }

    private static JsonObject Data(JsonObject envelope) => envelope["data"]!.AsObject();

    private static JsonObject OrderItem(JsonNode? quantity = null) =>
        new() { ["productId"] = "p-1", ["orgId"] = "org-1", ["quantity"] = quantity ?? 1, ["unitPrice"] = 10.5 };

    private static readonly string Id = BadId.ToString();

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Envelope fields
        ["envelope is not an object"] = new(() => JsonValue.Create(42), null, "JSON object"),
        ["id missing"] = new(() => Registered(e => e.Remove("id")), null, "id is required"),
        ["id not a UUID"] = new(() => Registered(e => e["id"] = "not-a-uuid"), "not-a-uuid", "id must be a UUID"),
        ["type missing"] = new(() => Registered(e => e.Remove("type")), Id, "type is required"),
        ["type unknown"] = new(() => Registered(e => e["type"] = "user.teleported"), Id, "unknown event type", "user.teleported"),
        ["occurredAt missing"] = new(() => Registered(e => e.Remove("occurredAt")), Id, "occurredAt is required"),
        ["occurredAt without offset"] = new(() => Registered(e => e["occurredAt"] = "2024-01-05T14:03:11"), Id, "occurredAt must be"),
        ["occurredAt not a date"] = new(() => Registered(e => e["occurredAt"] = "last tuesday"), Id, "occurredAt must be"),
        ["data missing"] = new(() => Registered(e => e.Remove("data")), Id, "data is required"),
        ["data not an object"] = new(() => Registered(e => e["data"] = new JsonArray("userId", "u-1")), Id, "data must be an object"),

        // Ids: non-empty strings of at most 128 characters
        ["id field missing"] = new(() => Registered(e => Data(e).Remove("userId")), Id, "data.userId", "required"),
        ["id field empty"] = new(() => Registered(e => Data(e)["userId"] = ""), Id, "data.userId", "non-empty"),
        ["id field longer than 128"] = new(() => Registered(e => Data(e)["userId"] = new string('u', 129)), Id, "data.userId", "128"),
        ["id field not a string"] = new(() => Registered(e => Data(e)["userId"] = 42), Id, "data.userId", "string"),

        // Money: a number, never negative, at most 2 decimals
        ["money negative"] = new(() => Bad("product.price_set", new() { ["productId"] = "p-1", ["price"] = -1 }), Id, "data.price", "negative"),
        ["money with 3 decimals"] = new(() => Bad("product.price_set", new() { ["productId"] = "p-1", ["price"] = 9.999m }), Id, "data.price", "2 decimals"),
        ["money as a string"] = new(() => Bad("product.price_set", new() { ["productId"] = "p-1", ["price"] = "9.99" }), Id, "data.price", "number"),
        ["order item unitPrice negative"] = new(() => Bad("order.placed", new()
        {
            ["orderId"] = "o-1",
            ["items"] = new JsonArray(new JsonObject { ["productId"] = "p-1", ["orgId"] = "org-1", ["quantity"] = 1, ["unitPrice"] = -5 }),
        }), Id, "data.items[0].unitPrice", "negative"),

        // Quantities: integers, with the per-type lower bounds
        ["quantity not an integer"] = new(() => Bad("inventory.reserved", new() { ["productId"] = "p-1", ["quantity"] = 2.5 }), Id, "data.quantity", "integer"),
        ["reserved quantity zero"] = new(() => Bad("inventory.reserved", new() { ["productId"] = "p-1", ["quantity"] = 0 }), Id, "data.quantity", "greater than 0"),
        ["released quantity negative"] = new(() => Bad("inventory.reservation_released", new() { ["productId"] = "p-1", ["quantity"] = -2 }), Id, "data.quantity", "greater than 0"),
        ["fulfilled quantity zero"] = new(() => Bad("inventory.reservation_fulfilled", new() { ["productId"] = "p-1", ["quantity"] = 0 }), Id, "data.quantity", "greater than 0"),
        ["cart item quantity zero"] = new(() => Bad("cart.item_added", new() { ["cartId"] = "c-1", ["productId"] = "p-1", ["quantity"] = 0, ["unitPrice"] = 1 }), Id, "data.quantity"),
        ["stock_set quantity negative"] = new(() => Bad("inventory.stock_set", new() { ["productId"] = "p-1", ["quantity"] = -1 }), Id, "data.quantity", "at least 0"),
        ["stock_adjusted delta zero"] = new(() => Bad("inventory.stock_adjusted", new() { ["productId"] = "p-1", ["delta"] = 0 }), Id, "data.delta", "not be 0"),
        ["threshold negative"] = new(() => Bad("inventory.low_stock_threshold_set", new() { ["productId"] = "p-1", ["threshold"] = -1 }), Id, "data.threshold", "at least 0"),
        ["order item quantity zero"] = new(() => Bad("order.placed", new() { ["orderId"] = "o-1", ["items"] = new JsonArray(OrderItem(0)) }), Id, "data.items[0].quantity"),

        // Enumerations
        ["role unknown"] = new(() => Registered(e => Data(e)["role"] = "superuser"), Id, "data.role"),
        ["role_changed role unknown"] = new(() => Bad("user.role_changed", new() { ["userId"] = "u-1", ["role"] = "service" }), Id, "data.role"),
        ["order status unknown"] = new(() => Bad("order.status_changed", new() { ["orderId"] = "o-1", ["status"] = "lost" }), Id, "data.status"),

        // Order items: 1 to 200
        ["order items empty"] = new(() => Bad("order.placed", new() { ["orderId"] = "o-1", ["items"] = new JsonArray() }), Id, "data.items"),
        ["order with 201 items"] = new(() => Bad("order.placed", new()
        {
            ["orderId"] = "o-1",
            ["items"] = new JsonArray(Enumerable.Range(0, 201).Select(_ => (JsonNode)OrderItem()).ToArray()),
        }), Id, "data.items", "201"),

        // Currency: three letters
        ["currency of two letters"] = new(() => Bad("product.price_set", new() { ["productId"] = "p-1", ["price"] = 5, ["currency"] = "US" }), Id, "data.currency"),
        ["currency too long"] = new(() => Bad("product.price_set", new() { ["productId"] = "p-1", ["price"] = 5, ["currency"] = "usdollar" }), Id, "data.currency"),

        // Booleans
        ["boolean not a bool"] = new(() => Registered(e => Data(e)["active"] = "yes"), Id, "data.active"),
    };

    public static TheoryData<string> Rules => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task A_bad_envelope_rejects_the_whole_batch_naming_it(string rule)
    {
        var @case = Cases[rule];
        var body = Batch(Valid("first"), @case.Envelope());

        var errors = await PostRejected(body);

        var error = Assert.Single(errors);
        Assert.Equal(1, error.GetProperty("index").GetInt32());
        Assert.Equal(@case.ExpectedId, IdOf(error));
        var text = error.GetProperty("error").GetString()!;
        foreach (var part in @case.ErrorContains)
        {
            Assert.Contains(part, text, StringComparison.Ordinal);
        }

        await AssertNothingStored();
    }

    [Fact]
    public async Task Every_bad_envelope_of_a_batch_is_listed()
    {
        var thirdId = Guid.NewGuid();
        var body = Batch(
            Valid("a"),
            Registered(e => e["type"] = "user.teleported"),
            Valid("b"),
            Envelopes.Of("product.price_set", new() { ["productId"] = "p-1", ["price"] = -1 }, id: thirdId),
            Valid("c"));

        var errors = await PostRejected(body);

        Assert.Equal([1, 3], errors.Select(e => e.GetProperty("index").GetInt32()).Order());
        Assert.Contains("user.teleported", errors.Single(e => e.GetProperty("index").GetInt32() == 1).GetProperty("error").GetString());
        var third = errors.Single(e => e.GetProperty("index").GetInt32() == 3);
        Assert.Equal(thirdId.ToString(), IdOf(third));
        Assert.Contains("data.price", third.GetProperty("error").GetString());
        await AssertNothingStored();
    }

    [Fact]
    public async Task Every_problem_of_one_envelope_is_named()
    {
        var envelope = Registered(e =>
        {
            e["occurredAt"] = "2024-01-05";
            Data(e)["userId"] = "";
            Data(e)["role"] = "owner";
            Data(e)["emailVerified"] = 1;
        });

        var errors = await PostRejected(Batch(Valid("first"), envelope));

        var text = Assert.Single(errors).GetProperty("error").GetString()!;
        foreach (var part in new[] { "occurredAt", "data.userId", "data.role", "data.emailVerified" })
        {
            Assert.Contains(part, text, StringComparison.Ordinal);
        }

        await AssertNothingStored();
    }

    [Fact]
    public async Task An_empty_array_is_400()
    {
        var problem = await PostProblem("[]", 400);
        Assert.Contains("0", problem.GetProperty("detail").GetString());
        await AssertNothingStored();
    }

    [Fact]
    public async Task More_than_1000_envelopes_is_400()
    {
        var body = Batch(Enumerable.Range(0, 1001).Select(i => (JsonNode)Valid($"u-{i}")).ToArray());
        var problem = await PostProblem(body, 400);
        Assert.Contains("1001", problem.GetProperty("detail").GetString());
        await AssertNothingStored();
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[{\"id\": ")]
    [InlineData("")]
    public async Task A_body_that_is_not_json_is_a_400_problem(string body)
    {
        var problem = await PostProblem(body, 400);
        Assert.Contains("JSON", problem.GetProperty("detail").GetString());
        await AssertNothingStored();
    }

    [Theory]
    [InlineData("42")]
    [InlineData("\"user.registered\"")]
    [InlineData("true")]
    [InlineData("null")]
    public async Task Json_that_is_not_an_envelope_or_array_is_400(string body)
    {
        await PostProblem(body, 400);
        await AssertNothingStored();
    }

    [Fact]
    public async Task Text_plain_is_415()
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Post.Text(Batch(Valid("first"))).ContentType("text/plain").ToUrl("/api/events");
            s.WithBearerToken(TestTokens.Service);
            s.StatusCodeShouldBe(415);
            s.ContentTypeShouldBe("application/problem+json");
        });
        var problem = await result.ReadAsJsonAsync<ProblemBody>();
        Assert.Equal(415, problem!.Status);
        await AssertNothingStored();
    }

    [Fact]
    public async Task A_body_over_5_MiB_is_413()
    {
        var huge = Envelopes.Of("product.created", new() { ["productId"] = "p-1", ["orgId"] = "org-1", ["name"] = "n", ["padding"] = new string('n', 5 * 1024 * 1024 + 16) });
        var body = Batch(huge);
        Assert.True(Encoding.UTF8.GetByteCount(body) > 5 * 1024 * 1024);

        var result = await App.Host.Scenario(s =>
        {
            s.Post.Text(body).ContentType("application/json").ToUrl("/api/events");
            s.WithBearerToken(TestTokens.Service);
            s.StatusCodeShouldBe(413);
            s.ContentTypeShouldBe("application/problem+json");
        });
        var problem = await result.ReadAsJsonAsync<ProblemBody>();
        Assert.Equal(413, problem!.Status);
        await AssertNothingStored();
    }

    [Fact]
    public async Task A_body_just_under_5_MiB_is_accepted()
    {
        // The limit is on the body, not a smaller default of the server: a large but legal batch goes through
        // (330 orders of 200 lines each).
        var orders = Enumerable.Range(0, 330).Select(o => Envelopes.Of("order.placed", new()
        {
            ["orderId"] = $"o-{o}",
            ["items"] = new JsonArray(Enumerable.Range(0, 200).Select(_ => (JsonNode)OrderItem()).ToArray()),
        })).ToArray<JsonNode>();
        var body = Batch(orders);
        Assert.InRange(Encoding.UTF8.GetByteCount(body), 4 * 1024 * 1024, 5 * 1024 * 1024);

        var result = await App.Host.Scenario(s =>
        {
            s.Post.Text(body).ContentType("application/json").ToUrl("/api/events");
            s.WithBearerToken(TestTokens.Service);
            s.StatusCodeShouldBe(202);
        });
        Assert.Contains("\"accepted\":330", await result.ReadAsTextAsync());
    }

    [Fact]
    public async Task A_body_without_a_length_is_read_whole_up_to_5_MiB_and_is_413_beyond()
    {
        // Sent in chunks with no Content-Length: the service cannot size its buffer up front and grows it as it reads.
        using var client = App.Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Service);
        var batch = Batch(Enumerable.Range(0, 1000).Select(i => (JsonNode)Valid($"chunked-{i}")).ToArray());
        Assert.True(Encoding.UTF8.GetByteCount(batch) > 64 * 1024);
        using (var accepted = await client.PostAsync("/api/events", new UnsizedContent(batch)))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
            Assert.Contains("\"accepted\":1000", await accepted.Content.ReadAsStringAsync());
        }

        await App.ResetAsync();
        var huge = Envelopes.Of("product.created", new() { ["productId"] = "p-1", ["orgId"] = "org-1", ["name"] = "n", ["padding"] = new string('n', 5 * 1024 * 1024 + 16) });
        using var refused = await client.PostAsync("/api/events", new UnsizedContent(Batch(huge)));
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        await AssertNothingStored();
    }

    /// <summary>A JSON body whose length the client does not announce.</summary>
    private sealed class UnsizedContent : HttpContent
    {
        private readonly byte[] _body;

        public UnsizedContent(string body)
        {
            _body = Encoding.UTF8.GetBytes(body);
            Headers.ContentType = new("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            // In pieces, as a streaming client sends it.
            for (var offset = 0; offset < _body.Length; offset += 16 * 1024)
            {
                await stream.WriteAsync(_body.AsMemory(offset, Math.Min(16 * 1024, _body.Length - offset)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    // ---- helpers ----

    private static JsonObject Valid(string userId) =>
        Envelopes.Of("user.registered", new() { ["userId"] = userId, ["role"] = "customer" });

    private static string Batch(params JsonNode[] envelopes) => new JsonArray(envelopes).ToJsonString();

    private static string? IdOf(JsonElement error) =>
        error.TryGetProperty("id", out var id) && id.ValueKind != JsonValueKind.Null ? id.GetString() : null;

    private async Task<JsonElement> PostProblem(string body, int status)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Post.Text(body).ContentType("application/json").ToUrl("/api/events");
            s.WithBearerToken(TestTokens.Service);
            s.StatusCodeShouldBe(status);
            s.ContentTypeShouldBe("application/problem+json");
        });
        using var document = JsonDocument.Parse(await result.ReadAsTextAsync());
        var problem = document.RootElement.Clone();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    private async Task<List<JsonElement>> PostRejected(string body)
    {
        var problem = await PostProblem(body, 400);
        Assert.Equal(JsonValueKind.Array, problem.GetProperty("errors").ValueKind);
        return problem.GetProperty("errors").EnumerateArray().ToList();
    }

    private async Task AssertNothingStored()
    {
        await using (var session = App.Store.QuerySession())
        {
            Assert.Equal(0, await session.Events.QueryAllRawEvents().CountAsync());
        }

        var json = await App.GetJsonAsync("/metrics/admin-dashboard");
        Assert.Equal(0, json.GetProperty("total_customers").GetInt32());
        Assert.Equal(0, json.GetProperty("total_products").GetInt32());
    }
}
