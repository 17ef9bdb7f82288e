using System.Text.Json;
using System.Text.Json.Nodes;
using Projections.Tests.Infrastructure;
using static Projections.Tests.Analytics.AnalyticsApi;

namespace Projections.Tests.Analytics;

/// <summary>
/// The seed's formulas (shared/seeds/003, "Key Metrics Explained") through the endpoint, with data built so that the
/// seed's own example numbers come out: the 88/12 split, the top artists, the referral conversion rate, the cart
/// abandonment rate, and the rounding of averages (2 decimals, halves away from zero).
/// </summary>
public sealed class AnalyticsFormulaTests(AppFixture app) : AppTest(app)
{
    private const string JanuaryRange = "start_date=2024-01-01&end_date=2024-01-31";

    private async Task<JsonElement> Analytics(string query, long last) => (await GetAsync(App, query, last)).GetProperty("analytics");

    private static void Is(string expectedJson, JsonElement actual) => AssertMatches(JsonNode.Parse(expectedJson), actual);

    private static DateTimeOffset January(int day, int minute) => At(new DateOnly(2024, 1, day), 9).AddMinutes(minute);

    [Fact]
    public async Task Two_artists_with_5250_and_3800_are_paid_out_4620_and_3344()
    {
        var events = new List<JsonObject>
        {
            ProfileUpdated("org_abc", "Jane Smith Studio", January(1, 0)),
            ProfileUpdated("org_def", "Bob's Pottery", January(1, 0)),
        };
        // org_abc: 36 × (2 × 62.50) + 6 × (1 × 125.00) = 5,250.00 over 42 orders and 78 items.
        for (var n = 0; n < 42; n++)
        {
            events.Add(OrderPlaced($"abc-{n}", January(1 + n % 28, n), n < 36 ? ("org_abc", 2, 62.50m) : ("org_abc", 1, 125.00m)));
        }

        // org_def: 18 × (2 × 50.00) + 20 × (1 × 100.00) = 3,800.00 over 38 orders and 56 items.
        for (var n = 0; n < 38; n++)
        {
            events.Add(OrderPlaced($"def-{n}", January(1 + n % 28, n), n < 18 ? ("org_def", 2, 50.00m) : ("org_def", 1, 100.00m)));
        }

        var receipt = await App.PublishAsync(events);
        var analytics = await Analytics(JanuaryRange, receipt.LastSequence);

        // The seed's topArtists, verbatim.
        Is("""
            [
            { "orgId": "org_abc", "artistName": "Jane Smith Studio", "totalOrders": 42, "totalRevenue": 5250.00, "artistPayout": 4620.00, "itemsSold": 78 },
            { "orgId": "org_def", "artistName": "Bob's Pottery", "totalOrders": 38, "totalRevenue": 3800.00, "artistPayout": 3344.00, "itemsSold": 56 }
            ]
            """, analytics.GetProperty("topArtists"));
        // 9,050.00 × 12% = 1,086.00; 9,050.00 / 80 = 113.125, which rounds up to 113.13.
        Is("""{ "totalOrders": 80, "totalRevenue": 9050.00, "galleryRevenue": 1086.00, "artistPayouts": 7964.00, "averageOrderValue": 113.13, "totalItemsSold": 134 }""",
            analytics.GetProperty("overview"));
    }

    [Fact]
    public async Task The_seed_overview_of_18750_splits_into_2250_and_16500()
    {
        // 128 orders of 2 × 60.00, 27 of 1 × 121.00 and 1 of 1 × 123.00: 156 orders, 284 items, 18,750.00. The first 8 are
        // on 1 January and the next 12 on 2 January (the seed's timeline), the rest spread over the month.
        var statuses = Enumerable.Repeat("pending", 2).Concat(Enumerable.Repeat("paid", 8)).Concat(Enumerable.Repeat("processing", 12))
            .Concat(Enumerable.Repeat("partially_shipped", 15)).Concat(Enumerable.Repeat("shipped", 89)).Concat(Enumerable.Repeat("delivered", 30))
            .ToList();
        string[] progression = ["paid", "processing", "partially_shipped", "shipped", "delivered"];
        var events = new List<JsonObject>();
        for (var n = 0; n < 156; n++)
        {
            var day = n < 8 ? 1 : n < 20 ? 2 : 3 + n % 29;
            var item = n < 128 ? ("org_abc", 2, 60.00m) : n < 155 ? ("org_def", 1, 121.00m) : ("org_def", 1, 123.00m);
            var placedAt = January(day, n);
            events.Add(OrderPlaced($"o-{n}", placedAt, item));
            // Walk the order up to its status, one change an hour.
            var steps = Array.IndexOf(progression, statuses[n]) + 1;
            for (var s = 0; s < steps; s++)
            {
                events.Add(StatusChanged($"o-{n}", progression[s], placedAt.AddHours(s + 1)));
            }
        }

        for (var c = 0; c < 24 + 31; c++)
        {
            events.Add(CartCreated($"c-{c}", January(c < 24 ? 1 : 2, c)));
        }

        var receipt = await App.PublishAsync(events);
        var analytics = await Analytics(JanuaryRange, receipt.LastSequence);

        Is("""{ "totalOrders": 156, "totalRevenue": 18750.00, "galleryRevenue": 2250.00, "artistPayouts": 16500.00, "averageOrderValue": 120.19, "totalItemsSold": 284 }""",
            analytics.GetProperty("overview"));
        Is("""{ "pending": 2, "paid": 8, "processing": 12, "partially_shipped": 15, "shipped": 89, "delivered": 30, "cancelled": 0 }""",
            analytics.GetProperty("ordersByStatus"));
        var timeline = analytics.GetProperty("timeline");
        Assert.Equal(31, timeline.GetArrayLength());
        Is("""[ { "date": "2024-01-01", "orders": 8, "revenue": 960.00, "newCarts": 24 }, { "date": "2024-01-02", "orders": 12, "revenue": 1440.00, "newCarts": 31 } ]""",
            JsonSerializer.SerializeToElement(timeline.EnumerateArray().Take(2)));
        Is("""{ "start": "2024-01-01T00:00:00Z", "end": "2024-01-31T23:59:59Z" }""", analytics.GetProperty("dateRange"));
    }

    [Fact]
    public async Task Of_342_referral_clicks_68_converting_is_a_conversion_rate_of_19_88()
    {
        var events = new List<JsonObject>();
        for (var n = 0; n < 342; n++)
        {
            events.Add(Clicked($"r-{n}", $"v-{n}", "org_abc", January(5, n)));
            if (n < 68)
            {
                // 67 × 100.00 + 140.00 = 6,840.00
                events.Add(StoreSale($"s-{n}", $"v-{n}", "org_abc", n == 0 ? 140.00m : 100.00m, January(6, n)));
            }
        }

        var receipt = await App.PublishAsync(events);
        Is("""{ "totalReferrals": 342, "conversions": 68, "conversionRate": 19.88, "attributedRevenue": 6840.00 }""",
            (await Analytics(JanuaryRange, receipt.LastSequence)).GetProperty("referralMetrics"));
    }

    [Fact]
    public async Task Of_100_active_carts_65_checked_out_is_an_abandonment_rate_of_35()
    {
        var events = new List<JsonObject>();
        for (var n = 0; n < 100; n++)
        {
            var cartId = $"c-{n}";
            var created = January(3, n);
            events.Add(CartCreated(cartId, created));
            if (n < 10)
            {
                // 5 added, 2 removed: 3 left.
                events.Add(ItemAdded(cartId, "p1", 5, 75.00m, created.AddSeconds(1)));
                events.Add(ItemRemoved(cartId, "p1", 2, created.AddSeconds(2)));
            }
            else if (n < 80)
            {
                events.Add(ItemAdded(cartId, "p1", 3, 75.00m, created.AddSeconds(1)));        // 225.00
            }
            else
            {
                events.Add(ItemAdded(cartId, "p2", 4, n < 99 ? 56.25m : 68.75m, created.AddSeconds(1))); // 225.00, and one 275.00
            }

            if (n < 65)
            {
                events.Add(CheckedOut(cartId, created.AddMinutes(30)));
            }
        }

        // Five empty carts, two of them checked out: not active, so in none of the cart averages.
        for (var n = 0; n < 5; n++)
        {
            events.Add(CartCreated($"empty-{n}", January(3, 200 + n)));
            if (n < 2)
            {
                events.Add(CheckedOut($"empty-{n}", January(3, 300 + n)));
            }
        }

        var receipt = await App.PublishAsync(events);
        var analytics = await Analytics(JanuaryRange, receipt.LastSequence);
        // Values: 80 × 225.00 + 19 × 225.00 + 275.00 = 22,550.00 over 100 carts; items: 80 × 3 + 20 × 4 = 320.
        Is("""{ "activeCarts": 100, "averageCartValue": 225.50, "abandonmentRate": 35.00, "averageItemsPerCart": 3.2 }""", analytics.GetProperty("cartMetrics"));
        Assert.Equal(105, analytics.GetProperty("timeline")[2].GetProperty("newCarts").GetDecimal());
    }

    [Fact]
    public async Task Averages_and_commissions_round_to_2_decimals_halves_away_from_zero()
    {
        var receipt = await App.PublishAsync(
        [
            // 1 Feb: 100.00 over 3 orders.
            OrderPlaced("a1", At("2024-02-01T10:00:00Z"), ("org_a", 1, 33.33m)),
            OrderPlaced("a2", At("2024-02-01T11:00:00Z"), ("org_a", 1, 33.33m)),
            OrderPlaced("a3", At("2024-02-01T12:00:00Z"), ("org_a", 1, 33.34m)),
            // 2 Feb: 0.05 over 2 orders, 0.025 each.
            OrderPlaced("b1", At("2024-02-02T10:00:00Z"), ("org_b", 1, 0.02m)),
            OrderPlaced("b2", At("2024-02-02T11:00:00Z"), ("org_b", 1, 0.03m)),
            // 3 Feb: 20.05 over 2 orders, 10.025 each; org_c's commission 12% of 10.05 = 1.206.
            OrderPlaced("c1", At("2024-02-03T10:00:00Z"), ("org_c", 1, 10.05m)),
            OrderPlaced("c2", At("2024-02-03T11:00:00Z"), ("org_d", 1, 10.00m)),
        ]);

        Is("""{ "totalOrders": 3, "totalRevenue": 100.00, "galleryRevenue": 12.00, "artistPayouts": 88.00, "averageOrderValue": 33.33, "totalItemsSold": 3 }""",
            (await Analytics("start_date=2024-02-01&end_date=2024-02-01", receipt.LastSequence)).GetProperty("overview"));
        Is("""{ "totalOrders": 2, "totalRevenue": 0.05, "galleryRevenue": 0.01, "artistPayouts": 0.04, "averageOrderValue": 0.03, "totalItemsSold": 2 }""",
            (await Analytics("start_date=2024-02-02&end_date=2024-02-02", receipt.LastSequence)).GetProperty("overview"));

        var third = await Analytics("start_date=2024-02-03&end_date=2024-02-03", receipt.LastSequence);
        // 20.05 × 12% = 2.406.
        Is("""{ "totalOrders": 2, "totalRevenue": 20.05, "galleryRevenue": 2.41, "artistPayouts": 17.64, "averageOrderValue": 10.03, "totalItemsSold": 2 }""",
            third.GetProperty("overview"));
        Is("""
            [ { "orgId": "org_c", "artistName": "org_c", "totalOrders": 1, "totalRevenue": 10.05, "artistPayout": 8.84, "itemsSold": 1 },
              { "orgId": "org_d", "artistName": "org_d", "totalOrders": 1, "totalRevenue": 10.00, "artistPayout": 8.80, "itemsSold": 1 } ]
            """, third.GetProperty("topArtists"));
    }
}
