using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Projections.Tests.Analytics.AnalyticsApi;

namespace Projections.Tests.Analytics;

/// <summary>
/// The reference and the generator checked on their own, without the service (no host, no database): small hand-computed
/// cases for each rule of the analytics, the CSV rendering, and the properties the randomized test relies on.
/// </summary>
public sealed class AnalyticsReferenceSelfTests
{
    private static readonly DateOnly March1 = new(2024, 3, 1);

    private static JsonObject Analytics(IEnumerable<JsonObject> delivered, DateOnly start, DateOnly end) =>
        AnalyticsReference.Replay(delivered).Expected(start, end)["analytics"]!.AsObject();

    private static decimal Num(JsonNode? node) => decimal.Parse(node!.ToJsonString(), CultureInfo.InvariantCulture);

    private static void Is(string expectedJson, JsonNode actual) =>
        AssertMatches(JsonNode.Parse(expectedJson), JsonDocument.Parse(actual.ToJsonString()).RootElement);

    [Fact]
    public void Three_envelopes_a_redelivery_and_a_status_change()
    {
        var placed = OrderPlaced("o1", At("2024-03-01T10:00:00Z"), ("org-a", 2, 10.00m), ("org-b", 1, 5.55m));
        var analytics = Analytics([placed, (JsonObject)placed.DeepClone(), StatusChanged("o1", "paid", At("2024-03-01T11:00:00Z"))], March1, March1);

        Is("""{ "totalOrders": 1, "totalRevenue": 25.55, "galleryRevenue": 3.07, "artistPayouts": 22.48, "averageOrderValue": 25.55, "totalItemsSold": 3 }""",
            analytics["overview"]!);
        Is("""{ "pending": 0, "paid": 1, "processing": 0, "partially_shipped": 0, "shipped": 0, "delivered": 0, "cancelled": 0 }""", analytics["ordersByStatus"]!);
        Is("""
            [ { "orgId": "org-a", "artistName": "org-a", "totalOrders": 1, "totalRevenue": 20.00, "artistPayout": 17.60, "itemsSold": 2 },
              { "orgId": "org-b", "artistName": "org-b", "totalOrders": 1, "totalRevenue": 5.55, "artistPayout": 4.88, "itemsSold": 1 } ]
            """, analytics["topArtists"]!);
        Is("""[ { "date": "2024-03-01", "orders": 1, "revenue": 25.55, "newCarts": 0 } ]""", analytics["timeline"]!);
        Is("""{ "start": "2024-03-01T00:00:00Z", "end": "2024-03-01T23:59:59Z" }""", analytics["dateRange"]!);
    }

    [Fact]
    public void Current_status_is_the_latest_by_occurredAt_with_the_agreed_tie_breaks()
    {
        var t = At("2024-03-01T10:00:00Z");
        var analytics = Analytics(
        [
            StatusChanged("early", "shipped", t.AddHours(1)), OrderPlaced("early", t, ("a", 1, 1m)),         // delivered before placement
            OrderPlaced("tie", t, ("a", 1, 1m)), StatusChanged("tie", "paid", t),                            // change beats placement
            OrderPlaced("two", t, ("a", 1, 1m)), StatusChanged("two", "processing", t.AddHours(1)),
            StatusChanged("two", "delivered", t.AddHours(1)),                                                // later delivered wins
            OrderPlaced("skew", t, ("a", 1, 1m)), StatusChanged("skew", "paid", t.AddSeconds(-1)),           // placement is later
            StatusChanged("orphan", "paid", t),                                                              // never placed
            OrderPlaced("gone", t, ("a", 1, 1m)), StatusChanged("gone", "cancelled", t.AddHours(2)),
            OrderPlaced("back", t, ("a", 1, 1m)), StatusChanged("back", "cancelled", t.AddHours(2)), StatusChanged("back", "paid", t.AddHours(3)),
        ], March1, March1);

        Is("""{ "pending": 1, "paid": 2, "processing": 0, "partially_shipped": 0, "shipped": 1, "delivered": 1, "cancelled": 1 }""", analytics["ordersByStatus"]!);
        Assert.Equal(5m, Num(analytics["overview"]!["totalOrders"]));
    }

    [Fact]
    public void Cart_lines_follow_adds_and_removes_and_count_on_the_creation_day()
    {
        var d = At("2024-03-01T09:00:00Z");
        var analytics = Analytics(
        [
            CartCreated("c1", d),
            ItemAdded("c1", "p1", 2, 10.00m, d.AddMinutes(1)),
            ItemAdded("c1", "p1", 1, 12.00m, d.AddMinutes(2)),   // 3 × 12.00: the latest price applies to the line
            ItemAdded("c1", "p2", 1, 5.00m, d.AddMinutes(3)),
            ItemRemoved("c1", "p2", 4, d.AddMinutes(4)),         // removing more than is there empties the line
            ItemAdded("c1", "p3", 1, 0.99m, d.AddDays(2)),       // two days later: still the 1 March cart
            CheckedOut("c1", d.AddDays(2).AddMinutes(1)),        // keeps its contents
            CartCreated("c2", d.AddHours(1)),
            ItemAdded("c2", "p1", 1, 7.50m, d.AddHours(1)),
            CartCreated("c3", d.AddHours(2)),                    // empty: not active
            ItemAdded("c3", "p1", 1, 7.50m, d.AddHours(2)),
            ItemRemoved("c3", "p1", 1, d.AddHours(3)),
            CartCreated("c4", d.AddDays(2)),
            ItemAdded("c4", "p1", 1, 1.00m, d.AddDays(2)),
        ], March1, March1.AddDays(2));

        // Active: c1 (36.99, 4 items, checked out) and c2 (7.50, 1 item) of 1 March, c4 (1.00, 1 item) of 3 March; c3 is empty.
        Is("""{ "activeCarts": 3, "averageCartValue": 15.16, "abandonmentRate": 66.67, "averageItemsPerCart": 2.00 }""", analytics["cartMetrics"]!);
        Is("""
            [ { "date": "2024-03-01", "orders": 0, "revenue": 0, "newCarts": 3 },
              { "date": "2024-03-02", "orders": 0, "revenue": 0, "newCarts": 0 },
              { "date": "2024-03-03", "orders": 0, "revenue": 0, "newCarts": 1 } ]
            """, analytics["timeline"]!);

        var firstDay = AnalyticsReference.Replay([CartCreated("c1", d), ItemAdded("c1", "p1", 2, 10.00m, d.AddMinutes(1)),
            ItemAdded("c1", "p1", 1, 12.00m, d.AddMinutes(2)), ItemAdded("c1", "p3", 1, 0.99m, d.AddDays(2)), CheckedOut("c1", d.AddDays(2)),
            CartCreated("c2", d.AddHours(1)), ItemAdded("c2", "p1", 1, 7.50m, d.AddHours(1))]).Expected(March1, March1)["analytics"]!;
        Is("""{ "activeCarts": 2, "averageCartValue": 22.25, "abandonmentRate": 50.00, "averageItemsPerCart": 2.50 }""", firstDay["cartMetrics"]!);
    }

    [Fact]
    public void Sales_go_to_the_latest_click_of_the_same_visitor_and_store_within_30_days()
    {
        var c = At("2024-03-01T12:00:00Z");
        var delivered = new List<JsonObject>
        {
            StoreSale("s-late", "late", "o1", 10.00m, c.AddHours(1)),   // its click is delivered after it
            Clicked("r-late", "late", "o1", c),
            Clicked("r-30", "v30", "o1", c), StoreSale("s-30", "v30", "o1", 20.00m, c.AddDays(30)),
            Clicked("r-31", "v31", "o1", c), StoreSale("s-31", "v31", "o1", 40.00m, c.AddDays(30).AddSeconds(1)),
            Clicked("r-before", "vb", "o1", c), StoreSale("s-before", "vb", "o1", 80.00m, c.AddSeconds(-1)),
            Clicked("r-other-store", "vo", "o2", c), StoreSale("s-other-store", "vo", "o1", 160.00m, c.AddHours(1)),
            // Two clicks: the sale goes to the later one only (2 March); a re-sent click (new envelope id) is still one click.
            Clicked("r-first", "vl", "o1", c), Clicked("r-second", "vl", "o1", c.AddDays(1)), Clicked("r-second", "vl", "o1", c.AddDays(1)),
            StoreSale("s-latest", "vl", "o1", 1.00m, c.AddDays(2)),
            // Equal instants: the greater referralId wins (ordinal).
            Clicked("r-tie-A", "vt", "o1", c), Clicked("r-tie-b", "vt", "o1", c), StoreSale("s-tie", "vt", "o1", 2.00m, c.AddHours(1)),
            // Re-sent sale (same store, same orderId): one sale. Same orderId in another store: another sale.
            StoreSale("s-late", "late", "o1", 10.00m, c.AddHours(1)), StoreSale("s-late", "late", "o2", 5.00m, c.AddHours(1)),
        };
        var reference = AnalyticsReference.Replay(delivered);

        // 1 March clicks: late, v30, v31, vb, vo, vl-first, tie-A, tie-b = 8; converting: late, v30, tie-b.
        Is("""{ "totalReferrals": 8, "conversions": 3, "conversionRate": 37.50, "attributedRevenue": 32.00 }""",
            reference.Expected(March1, March1)["analytics"]!["referralMetrics"]!);
        Is("""{ "totalReferrals": 1, "conversions": 1, "conversionRate": 100, "attributedRevenue": 1.00 }""",
            reference.Expected(March1.AddDays(1), March1.AddDays(1))["analytics"]!["referralMetrics"]!);
        Assert.Equal((4, 4), reference.Attribution);
    }

    [Fact]
    public void Top_artists_rank_by_revenue_then_ordinal_orgId_and_take_the_latest_name()
    {
        var t = At("2024-03-01T10:00:00Z");
        var delivered = new List<JsonObject>
        {
            ProfileUpdated("org-a", "A new", t.AddHours(1)), ProfileUpdated("org-a", "A old", t),          // greatest occurredAt wins
            ProfileUpdated("ORG-b", "B first", t), ProfileUpdated("ORG-b", "B second", t),                  // tie: later delivered
        };
        // Twelve artists; org-a and ORG-b tie at 100.00 ("ORG-b" < "org-a" ordinally), org-00..org-09 below.
        delivered.Add(OrderPlaced("o-a", t, ("org-a", 1, 100.00m)));
        delivered.Add(OrderPlaced("o-b", t, ("ORG-b", 2, 25.00m), ("ORG-b", 1, 50.00m)));
        for (var k = 0; k < 10; k++)
        {
            delivered.Add(OrderPlaced($"o-{k}", t, ($"org-{k:D2}", 1, 10.00m + k)));
        }

        var top = Analytics(delivered, March1, March1)["topArtists"]!.AsArray();
        Assert.Equal(10, top.Count);
        Is("""{ "orgId": "ORG-b", "artistName": "B second", "totalOrders": 1, "totalRevenue": 100.00, "artistPayout": 88.00, "itemsSold": 3 }""", top[0]!);
        Is("""{ "orgId": "org-a", "artistName": "A new", "totalOrders": 1, "totalRevenue": 100.00, "artistPayout": 88.00, "itemsSold": 1 }""", top[1]!);
        Assert.Equal(["org-09", "org-08", "org-07", "org-06", "org-05", "org-04", "org-03", "org-02"], top.Skip(2).Select(a => (string)a!["orgId"]!));
    }

    [Fact]
    public void Days_are_utc_days_of_occurredAt_whatever_the_offset()
    {
        var late = OrderPlaced("o1", At("2024-03-01T00:00:00Z"), ("a", 1, 1.00m));
        late["occurredAt"] = "2024-03-01T20:00:00-05:00";                         // 2 March 01:00 UTC
        var early = OrderPlaced("o2", At("2024-03-01T00:00:00Z"), ("a", 1, 2.00m));
        early["occurredAt"] = "2024-03-02T03:00:00+05:00";                        // 1 March 22:00 UTC
        var analytics = Analytics([late, early, OrderPlaced("o3", At("2024-03-01T23:59:59Z"), ("a", 1, 4.00m)),
            OrderPlaced("o4", At("2024-03-02T00:00:00Z"), ("a", 1, 8.00m))], March1, March1.AddDays(1));
        Is("""
            [ { "date": "2024-03-01", "orders": 2, "revenue": 6.00, "newCarts": 0 },
              { "date": "2024-03-02", "orders": 2, "revenue": 9.00, "newCarts": 0 } ]
            """, analytics["timeline"]!);
    }

    [Fact]
    public void An_empty_range_is_zeros_with_a_zero_filled_timeline()
    {
        var analytics = Analytics([OrderPlaced("o1", At("2024-03-05T10:00:00Z"), ("a", 1, 1.00m))], March1, March1.AddDays(2));
        Is("""{ "totalOrders": 0, "totalRevenue": 0, "galleryRevenue": 0, "artistPayouts": 0, "averageOrderValue": 0, "totalItemsSold": 0 }""", analytics["overview"]!);
        Is("""{ "activeCarts": 0, "averageCartValue": 0, "abandonmentRate": 0, "averageItemsPerCart": 0 }""", analytics["cartMetrics"]!);
        Is("""{ "totalReferrals": 0, "conversions": 0, "conversionRate": 0, "attributedRevenue": 0 }""", analytics["referralMetrics"]!);
        Assert.Empty(analytics["topArtists"]!.AsArray());
        Assert.Equal(3, analytics["timeline"]!.AsArray().Count);
    }

    [Fact]
    public void Csv_renders_the_report_with_two_decimals_and_rfc4180_quoting()
    {
        var t = At("2024-03-10T10:00:00Z");
        var expected = AnalyticsReference.Replay(
        [
            ProfileUpdated("org_abc", "Smith, \"Jane\" Studio", t),
            OrderPlaced("o1", t, ("org_abc", 2, 100.00m), ("org_def", 1, 50.50m)),
            OrderPlaced("o2", t.AddDays(1), ("org_def", 3, 10.05m)),
            CartCreated("c1", t.AddDays(1)),
        ]).Expected(new DateOnly(2024, 3, 10), new DateOnly(2024, 3, 11));

        Assert.Equal(AnalyticsEdgeTests.TwoDayCsv, AnalyticsReference.Csv(expected));
    }

    [Fact]
    public void The_standard_gallery_has_what_the_randomized_test_relies_on()
    {
        var today = new DateOnly(2025, 6, 30);
        var gallery = RandomGallery.Standard(20250214, today);
        var delivery = gallery.Delivery();
        Assert.True(gallery.EventCount >= 5000, $"only {gallery.EventCount} events");
        Assert.InRange(delivery.Count - gallery.EventCount, gallery.EventCount / 11, gallery.EventCount / 9);
        Assert.Equal(gallery.EventCount, delivery.Select(e => (string)e["id"]!).Distinct().Count());

        var instants = delivery.Select(e => (string)e["occurredAt"]!).ToList();
        Assert.Contains(instants, i => i.EndsWith("T00:00:00Z", StringComparison.Ordinal));
        Assert.Contains(instants, i => i.EndsWith("T23:59:59Z", StringComparison.Ordinal));
        Assert.Contains(instants, i => !i.EndsWith('Z'));
        Assert.All(delivery.Where(e => (string)e["type"]! == "order.placed"), e =>
            Assert.InRange(DateOnly.FromDateTime(AnalyticsReference.Instant((string)e["occurredAt"]!)), gallery.FirstDay, gallery.LastDay));

        // Some order has a status change delivered before its order.placed.
        var firstPlaced = new Dictionary<string, int>();
        var firstChange = new Dictionary<string, int>();
        for (var i = 0; i < delivery.Count; i++)
        {
            var orderId = (string?)delivery[i]["data"]!["orderId"];
            switch ((string)delivery[i]["type"]!)
            {
                case "order.placed": firstPlaced.TryAdd(orderId!, i); break;
                case "order.status_changed": firstChange.TryAdd(orderId!, i); break;
            }
        }

        Assert.Contains(firstChange, c => firstPlaced.TryGetValue(c.Key, out var placed) && placed > c.Value);

        var reference = AnalyticsReference.Replay(delivery);
        var (attributed, notAttributed) = reference.Attribution;
        Assert.True(attributed > 100 && notAttributed > 50, reference.Describe());
        var whole = reference.Expected(gallery.FirstDay, gallery.LastDay)["analytics"]!;
        Assert.True(Num(whole["ordersByStatus"]!["cancelled"]) > 20, reference.Describe());
        Assert.True(Num(whole["overview"]!["totalOrders"]) > 400, reference.Describe());
        Assert.True(Num(whole["cartMetrics"]!["activeCarts"]) > 200, reference.Describe());
        Assert.Equal(10, whole["topArtists"]!.AsArray().Count);
        Assert.Contains(whole["topArtists"]!.AsArray(), a => (string)a!["artistName"]! != (string)a["orgId"]!);
        var boundary = reference.Expected(gallery.BoundaryDay, gallery.BoundaryDay)["analytics"]!;
        Assert.True(Num(boundary["timeline"]![0]!["newCarts"]) >= 2);
        Assert.True(Num(boundary["referralMetrics"]!["totalReferrals"]) >= 2);

        // The same seed and day give the same delivery: a failure can be replayed.
        var again = RandomGallery.Standard(20250214, today).Delivery();
        Assert.Equal(delivery.Select(e => e.ToJsonString()), again.Select(e => e.ToJsonString()));
    }

    [Theory]
    // The contract's example, Berlin's autumn day, New York's two changes, Chatham's two, and fractional offsets.
    [InlineData("Europe/Berlin", "2024-03-31", "2024-03-30T23:00:00Z", 23, "2024-03-31T00:00:00+01:00", "2024-03-31T23:59:59+02:00")]
    [InlineData("Europe/Berlin", "2024-10-27", "2024-10-26T22:00:00Z", 25, "2024-10-27T00:00:00+02:00", "2024-10-27T23:59:59+01:00")]
    [InlineData("America/New_York", "2024-03-10", "2024-03-10T05:00:00Z", 23, "2024-03-10T00:00:00-05:00", "2024-03-10T23:59:59-04:00")]
    [InlineData("America/New_York", "2024-11-03", "2024-11-03T04:00:00Z", 25, "2024-11-03T00:00:00-04:00", "2024-11-03T23:59:59-05:00")]
    [InlineData("Pacific/Chatham", "2024-04-07", "2024-04-06T10:15:00Z", 25, "2024-04-07T00:00:00+13:45", "2024-04-07T23:59:59+12:45")]
    [InlineData("Pacific/Chatham", "2024-09-29", "2024-09-28T11:15:00Z", 23, "2024-09-29T00:00:00+12:45", "2024-09-29T23:59:59+13:45")]
    [InlineData("Asia/Kolkata", "2024-03-11", "2024-03-10T18:30:00Z", 24, "2024-03-11T00:00:00+05:30", "2024-03-11T23:59:59+05:30")]
    [InlineData("Asia/Kathmandu", "2024-03-11", "2024-03-10T18:15:00Z", 24, "2024-03-11T00:00:00+05:45", "2024-03-11T23:59:59+05:45")]
    [InlineData("UTC", "2024-03-11", "2024-03-11T00:00:00Z", 24, "2024-03-11T00:00:00Z", "2024-03-11T23:59:59Z")]
    public void Local_days_start_where_the_zones_date_changes(string zoneId, string day, string start, int hours, string first, string last)
    {
        var zone = zoneId == "UTC" ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        var date = DateOnly.Parse(day, CultureInfo.InvariantCulture);
        Assert.Equal(AnalyticsReference.Instant(start), AnalyticsReference.FirstSecondOf(date, zone));
        Assert.Equal(TimeSpan.FromHours(hours), AnalyticsReference.LengthOf(date, zone));
        Assert.Equal((first, last), AnalyticsReference.Bounds(date, date, zone));
    }
}
