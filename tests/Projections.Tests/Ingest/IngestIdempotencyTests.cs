using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Marten;
using Projections.Ingest;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Ingest;

/// <summary>
/// Ingest is at-most-once per envelope id: duplicates in a batch, in a later batch and in concurrent requests are
/// acknowledged and have no effect; the receipt says how many were new and where the event store is now.
/// </summary>
public sealed class IngestIdempotencyTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task A_single_envelope_object_is_accepted()
    {
        var envelope = Registered("solo");
        var result = await Post(envelope.ToJsonString(), 202);
        var receipt = (await result.ReadAsJsonAsync<IngestReceipt>())!;

        Assert.Equal(1, receipt.Accepted);
        Assert.Equal(0, receipt.Duplicates);
        Assert.True(receipt.LastSequence > 0);

        var json = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={receipt.LastSequence}");
        Assert.Equal(1, json.GetProperty("total_customers").GetInt32());
    }

    [Fact]
    public async Task The_same_id_twice_is_stored_once_and_redelivery_changes_nothing()
    {
        var envelope = Registered("twice");
        var first = await App.PublishAsync([envelope, envelope]);
        Assert.Equal((1, 1), (first.Accepted, first.Duplicates));
        Assert.True(first.LastSequence > 0);

        var again = await App.PublishAsync([envelope, envelope]);
        Assert.Equal((0, 2), (again.Accepted, again.Duplicates));
        Assert.Equal(first.LastSequence, again.LastSequence);

        await using (var session = App.Store.QuerySession())
        {
            var stored = await session.Events.QueryAllRawEvents().ToListAsync();
            Assert.Equal(Guid.Parse(envelope["id"]!.GetValue<string>()), Assert.Single(stored).Id);
        }

        var json = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={again.LastSequence}", TestTokens.For("staff", "view_customers"));
        Assert.Equal(1, json.GetProperty("total_customers").GetInt32());
        Assert.Equal(1, json.GetProperty("active_customers").GetInt32());
    }

    [Fact]
    public async Task A_duplicate_in_a_later_batch_beside_new_events_is_skipped()
    {
        var old = Registered("old");
        var first = await App.PublishAsync([old]);

        var fresh = Registered("fresh");
        var second = await App.PublishAsync([old, fresh]);
        Assert.Equal((1, 1), (second.Accepted, second.Duplicates));
        Assert.True(second.LastSequence > first.LastSequence);

        var json = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={second.LastSequence}");
        Assert.Equal(2, json.GetProperty("total_customers").GetInt32());
    }

    [Fact]
    public async Task Concurrent_deliveries_of_the_same_batch_store_each_event_once()
    {
        const int Deliveries = 8;
        const int Events = 50;
        var body = new JsonArray(Enumerable.Range(0, Events).Select(i => (JsonNode)Registered($"concurrent-{i}")).ToArray()).ToJsonString();

        var receipts = await Task.WhenAll(Enumerable.Range(0, Deliveries).Select(async _ =>
        {
            var result = await Post(body, 202);
            return (await result.ReadAsJsonAsync<IngestReceipt>())!;
        }));

        Assert.Equal(Events, receipts.Sum(r => r.Accepted));
        Assert.Equal(Events * (Deliveries - 1), receipts.Sum(r => r.Duplicates));
        Assert.All(receipts, r => Assert.Equal(Events, r.Accepted + r.Duplicates));

        await using (var session = App.Store.QuerySession())
        {
            Assert.Equal(Events, await session.Events.QueryAllRawEvents().CountAsync());
        }

        var last = receipts.Max(r => r.LastSequence);
        var json = await App.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={last}");
        Assert.Equal(Events, json.GetProperty("total_customers").GetInt32());
    }

    [Fact]
    public async Task The_receipt_uses_exactly_the_contract_names_and_json_numbers()
    {
        var result = await Post(new JsonArray(Registered("receipt")).ToJsonString(), 202);
        Assert.StartsWith("application/json", result.Context.Response.ContentType);

        using var document = JsonDocument.Parse(await result.ReadAsTextAsync());
        var root = document.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["accepted", "duplicates", "lastSequence"], root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(root.EnumerateObject(), p => Assert.Equal(JsonValueKind.Number, p.Value.ValueKind));
        Assert.Equal(1, root.GetProperty("accepted").GetInt32());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt32());
        Assert.True(root.GetProperty("lastSequence").GetInt64() > 0);
    }

    [Fact]
    public async Task Every_v1_event_type_is_accepted_and_stored_under_its_wire_name()
    {
        var envelopes = EventContract.Types.Select(t => Envelopes.Of(t.Name, MinimalData(t.Name))).ToList();
        var receipt = await App.PublishAsync(envelopes);
        Assert.Equal((EventContract.Types.Count, 0), (receipt.Accepted, receipt.Duplicates));

        await using (var session = App.Store.QuerySession())
        {
            var stored = (await session.Events.QueryAllRawEvents().ToListAsync()).ToDictionary(e => e.Id);
            Assert.Equal(envelopes.Count, stored.Count);
            foreach (var (envelope, type) in envelopes.Zip(EventContract.Types))
            {
                var @event = stored[Guid.Parse(envelope["id"]!.GetValue<string>())];
                Assert.Equal(type.Name, @event.EventTypeName);
                Assert.IsType(type.ClrType, @event.Data);
            }
        }

        // Every projection copes with every type: the read models catch up through the whole batch.
        await App.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={receipt.LastSequence}");
    }

    // ---- helpers ----

    private static JsonObject Registered(string userId) =>
        Envelopes.Of("user.registered", new() { ["userId"] = userId, ["role"] = "customer" });

    private static JsonObject MinimalData(string type) => type switch
    {
        "user.registered" => new() { ["userId"] = "u-1", ["role"] = "customer" },
        "user.role_changed" => new() { ["userId"] = "u-1", ["role"] = "staff" },
        "user.activated" or "user.deactivated" or "user.email_verified" or "user.phone_verified"
            or "user.email_changed" or "user.phone_changed" or "user.deleted" => new() { ["userId"] = "u-1" },
        "product.created" => new() { ["productId"] = "p-1", ["orgId"] = "org-1", ["name"] = "Print" },
        "product.price_set" => new() { ["productId"] = "p-1", ["price"] = 12.5 },
        "product.price_removed" or "product.activated" or "product.deactivated" => new() { ["productId"] = "p-1" },
        "product.deleted" => new() { ["productId"] = "p-deleted" },
        "inventory.stock_set" => new() { ["productId"] = "p-1", ["quantity"] = 10 },
        "inventory.stock_adjusted" => new() { ["productId"] = "p-1", ["delta"] = -1 },
        "inventory.reserved" or "inventory.reservation_released" or "inventory.reservation_fulfilled" => new() { ["productId"] = "p-1", ["quantity"] = 1 },
        "inventory.low_stock_threshold_set" => new() { ["productId"] = "p-1", ["threshold"] = 0 },
        "artist.profile_updated" => new() { ["orgId"] = "org-1", ["name"] = "Artist" },
        "order.placed" => new()
        {
            ["orderId"] = "o-1",
            ["items"] = new JsonArray(new JsonObject { ["productId"] = "p-1", ["orgId"] = "org-1", ["quantity"] = 1, ["unitPrice"] = 12.5 }),
        },
        "order.status_changed" => new() { ["orderId"] = "o-1", ["status"] = "paid" },
        "cart.created" => new() { ["cartId"] = "c-1" },
        "cart.item_added" => new() { ["cartId"] = "c-1", ["productId"] = "p-1", ["quantity"] = 1, ["unitPrice"] = 12.5 },
        "cart.item_removed" => new() { ["cartId"] = "c-1", ["productId"] = "p-1", ["quantity"] = 1 },
        "cart.checked_out" => new() { ["cartId"] = "c-1", ["orderId"] = "o-1" },
        "referral.clicked" => new() { ["referralId"] = "r-1", ["visitorId"] = "v-1", ["orgId"] = "org-1" },
        "artist_store.order_completed" => new() { ["orderId"] = "so-1", ["visitorId"] = "v-1", ["orgId"] = "org-1", ["amount"] = 30 },
        _ => throw new InvalidOperationException($"No minimal data for the v1 type '{type}': add it to this test."),
    };

    private Task<IScenarioResult> Post(string body, int status) => App.Host.Scenario(s =>
    {
        s.Post.Text(body).ContentType("application/json").ToUrl("/api/events");
        s.WithBearerToken(TestTokens.Service);
        s.StatusCodeShouldBe(status);
    });
}
