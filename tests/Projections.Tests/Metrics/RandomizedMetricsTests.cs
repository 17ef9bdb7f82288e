using System.Text.Json;
using System.Text.Json.Nodes;
using Marten;
using Projections.Inventory;
using Projections.Tests.Infrastructure;
using Projections.Users;

namespace Projections.Tests.Metrics;

/// <summary>
/// Thousands of random user, product and inventory events, delivered shuffled across entities with redeliveries in
/// random batches: every field of every Metrics endpoint equals the independent reference, before and after a rebuild.
/// </summary>
public sealed class RandomizedMetricsTests(AppFixture app) : AppTest(app)
{
    [Theory]
    [InlineData(20241101)]
    [InlineData(7)]
    public async Task Every_endpoint_matches_the_reference_and_a_rebuild_reproduces_it(int seed)
    {
        var shop = new RandomShop(seed).WithUsers(260).WithProducts(260);
        var delivery = shop.Delivery();
        Assert.True(shop.EventCount >= 3000, $"only {shop.EventCount} events");

        var (last, accepted, duplicates) = await App.PublishBatchesAsync(shop.Batches(delivery));

        Assert.Equal(shop.EventCount, accepted);
        Assert.Equal(delivery.Count - shop.EventCount, duplicates);
        await AssertEveryEndpointMatches(App, delivery, last);

        var before = await Documents();
        foreach (var projection in new[] { "UserMetrics", "InventoryMetrics" })
        {
            var rebuild = await App.RebuildAsync(projection);
            Assert.Equal("completed", rebuild.GetProperty("status").GetString());
        }

        var after = await Documents();
        Assert.Equal(before.Count, after.Count);
        foreach (var (key, document) in before)
        {
            Assert.True(JsonNode.DeepEquals(Normalize(document), Normalize(after[key])), $"document {key} differs after the rebuild");
        }

        await AssertEveryEndpointMatches(App, delivery, last);
    }

    /// <summary>Every Metrics endpoint, with and without <c>active_only</c>, read through <paramref name="last"/>, equals the
    /// reference computed from the delivery.</summary>
    internal static async Task AssertEveryEndpointMatches(AppFixture app, List<JsonObject> delivery, long last)
    {
        foreach (var (query, activeOnly) in new[] { ("", true), ("active_only=false&", false), ("active_only=yes&", true) })
        {
            MetricsReference.AssertMatches(MetricsReference.Admin(delivery, activeOnly), await app.GetJsonAsync($"/metrics/admin-dashboard?{query}min_sequence={last}"));
            MetricsReference.AssertMatches(MetricsReference.InventoryOnly(delivery, activeOnly), await app.GetJsonAsync($"/metrics/inventory?{query}min_sequence={last}"));
        }

        MetricsReference.AssertMatches(MetricsReference.Staff(delivery), await app.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}"));
    }

    /// <summary>Every document the two projections keep in the slots read from now, as stored JSON, by type and id.</summary>
    private async Task<Dictionary<string, JsonNode>> Documents()
    {
        await using var users = await App.ActiveSlotSessionAsync("UserMetrics");
        await using var inventory = await App.ActiveSlotSessionAsync("InventoryMetrics");
        var documents = new Dictionary<string, JsonNode>();
        foreach (var user in await users.Query<UserState>().ToListAsync())
        {
            documents["user:" + user.Id] = JsonSerializer.SerializeToNode(user)!;
        }

        foreach (var product in await inventory.Query<ProductState>().ToListAsync())
        {
            documents["product:" + product.Id] = JsonSerializer.SerializeToNode(product)!;
        }

        documents["totals:users"] = JsonSerializer.SerializeToNode(await users.LoadAsync<UserMetrics>(UserMetrics.DocumentId))!;
        documents["totals:inventory"] = JsonSerializer.SerializeToNode(await inventory.LoadAsync<InventoryMetrics>(InventoryMetrics.DocumentId))!;
        return documents;
    }

    /// <summary>Numbers compared by value: 100.0 and 100.00 are the same amount.</summary>
    private static JsonNode? Normalize(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Normalize(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Normalize).ToArray()),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => JsonValue.Create(v.GetValue<decimal>() / 1.000000000000000000000000000000000m),
        _ => node?.DeepClone(),
    };
}
