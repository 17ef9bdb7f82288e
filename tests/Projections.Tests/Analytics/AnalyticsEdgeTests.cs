using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Microsoft.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Projections.Analytics;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;
using static Projections.Tests.Analytics.AnalyticsApi;

namespace Projections.Tests.Analytics;

/// <summary>
/// The analytics endpoint on small hand-made cases, each expected value worked out by hand: day boundaries, late and
/// out-of-order deliveries, the 30-day attribution window, cancellation, carts changed after their creation day, range
/// validation, access, caching headers and the CSV report.
/// </summary>
public sealed class AnalyticsEdgeTests(AppFixture app) : AppTest(app)
{
    /// <summary>The two-day report the CSV tests build, worked out by hand (also checked against the reference).</summary>
    public static readonly string TwoDayCsv = """
        Gallery Analytics Report
        Date Range: 2024-03-10 to 2024-03-11

        Overview
        Total Orders,2
        Total Revenue,280.65
        Gallery Revenue,33.68
        Artist Payouts,246.97
        Average Order Value,140.33
        Total Items Sold,6

        Top Artists
        Artist,Orders,Revenue,Payout,Items Sold
        "Smith, ""Jane"" Studio",1,200.00,176.00,2
        org_def,2,80.65,70.97,4

        Timeline
        Date,Orders,Revenue,New Carts
        2024-03-10,1,250.50,0
        2024-03-11,1,30.15,1
        """.ReplaceLineEndings("\n");

    private const string ZeroStatuses = """{ "pending": 0, "paid": 0, "processing": 0, "partially_shipped": 0, "shipped": 0, "delivered": 0, "cancelled": 0 }""";

    private async Task<JsonElement> Analytics(string query, long last) => (await GetAsync(App, query, last)).GetProperty("analytics");

    private static void Is(string expectedJson, JsonElement actual) => AssertMatches(JsonNode.Parse(expectedJson), actual);

    private static string Range(string start, string end) => AnalyticsApi.Range(start, end);

    // ---- Days ----

    [Fact]
    public async Task Events_at_235959Z_and_000000Z_land_on_their_own_days()
    {
        var offsetOrder = OrderPlaced("o-offset", At("2024-03-12T01:00:00Z"), ("org-a", 3, 1.25m));
        offsetOrder["occurredAt"] = "2024-03-11T20:00:00-05:00"; // 2024-03-12T01:00:00Z
        var receipt = await App.PublishAsync(
        [
            OrderPlaced("o-eve", At("2024-03-10T23:59:59Z"), ("org-a", 2, 10.00m)),
            OrderPlaced("o-midnight", At("2024-03-11T00:00:00Z"), ("org-a", 1, 5.50m)),
            offsetOrder,
            CartCreated("c-eve", At("2024-03-10T23:59:59Z")),
            CartCreated("c-midnight", At("2024-03-11T00:00:00Z")),
            Clicked("r-eve", "v1", "org-a", At("2024-03-10T23:59:59Z")),
            Clicked("r-midnight", "v2", "org-a", At("2024-03-11T00:00:00Z")),
        ]);

        var three = await Analytics(Range("2024-03-10", "2024-03-12"), receipt.LastSequence);
        Is("""
            [ { "date": "2024-03-10", "orders": 1, "revenue": 20.00, "newCarts": 1 },
              { "date": "2024-03-11", "orders": 1, "revenue": 5.50, "newCarts": 1 },
              { "date": "2024-03-12", "orders": 1, "revenue": 3.75, "newCarts": 0 } ]
            """, three.GetProperty("timeline"));
        Is("""{ "start": "2024-03-10T00:00:00Z", "end": "2024-03-12T23:59:59Z" }""", three.GetProperty("dateRange"));

        var eleventh = await Analytics(Range("2024-03-11", "2024-03-11"), receipt.LastSequence);
        Is("""{ "totalOrders": 1, "totalRevenue": 5.50, "galleryRevenue": 0.66, "artistPayouts": 4.84, "averageOrderValue": 5.50, "totalItemsSold": 1 }""",
            eleventh.GetProperty("overview"));
        Is("""{ "totalReferrals": 1, "conversions": 0, "conversionRate": 0, "attributedRevenue": 0 }""", eleventh.GetProperty("referralMetrics"));
        Is("""[ { "date": "2024-03-11", "orders": 1, "revenue": 5.50, "newCarts": 1 } ]""", eleventh.GetProperty("timeline"));
        Is("""{ "start": "2024-03-11T00:00:00Z", "end": "2024-03-11T23:59:59Z" }""", eleventh.GetProperty("dateRange"));

        var tenth = await Analytics(Range("2024-03-10", "2024-03-10"), receipt.LastSequence);
        Is("""{ "totalReferrals": 1, "conversions": 0, "conversionRate": 0, "attributedRevenue": 0 }""", tenth.GetProperty("referralMetrics"));
        Is("""[ { "date": "2024-03-10", "orders": 1, "revenue": 20.00, "newCarts": 1 } ]""", tenth.GetProperty("timeline"));
    }

    [Fact]
    public async Task An_order_that_occurred_10_days_ago_lands_on_that_day_in_the_default_range()
    {
        var before = Today();
        var tenDaysAgo = before.AddDays(-10);
        var receipt = await App.PublishAsync(
        [
            OrderPlaced("o-10", At(tenDaysAgo, 15), ("org-a", 3, 7.25m)),
            OrderPlaced("o-40", At(before.AddDays(-40), 12), ("org-a", 1, 100.00m)), // outside the default 30 days
        ]);

        var analytics = await Analytics("", receipt.LastSequence);
        // The server's today is the one before the request or, if the UTC date changed meanwhile, the one after it.
        var end = analytics.GetProperty("dateRange").GetProperty("end").GetString()!;
        var today = end.StartsWith(Day(before), StringComparison.Ordinal) ? before : Today();
        Is($$"""{ "start": "{{Day(today.AddDays(-29))}}T00:00:00Z", "end": "{{Day(today)}}T23:59:59Z" }""", analytics.GetProperty("dateRange"));

        var timeline = new JsonArray();
        for (var day = today.AddDays(-29); day <= today; day = day.AddDays(1))
        {
            timeline.Add(day == tenDaysAgo
                ? new JsonObject { ["date"] = Day(day), ["orders"] = 1, ["revenue"] = 21.75m, ["newCarts"] = 0 }
                : new JsonObject { ["date"] = Day(day), ["orders"] = 0, ["revenue"] = 0, ["newCarts"] = 0 });
        }

        Assert.Equal(30, timeline.Count);
        AssertMatches(timeline, analytics.GetProperty("timeline"));
        Is("""{ "totalOrders": 1, "totalRevenue": 21.75, "galleryRevenue": 2.61, "artistPayouts": 19.14, "averageOrderValue": 21.75, "totalItemsSold": 3 }""",
            analytics.GetProperty("overview"));
    }

    // ---- Referrals ----

    [Fact]
    public async Task A_click_delivered_after_the_sale_attributes_the_sale()
    {
        var sale = await App.PublishAsync([StoreSale("s1", "v1", "org-a", 42.50m, At("2024-03-05T10:00:00Z"))]);
        var query = Range("2024-03-01", "2024-03-05");
        Is("""{ "totalReferrals": 0, "conversions": 0, "conversionRate": 0, "attributedRevenue": 0 }""",
            (await Analytics(query, sale.LastSequence)).GetProperty("referralMetrics"));

        var click = await App.PublishAsync([Clicked("r1", "v1", "org-a", At("2024-03-03T18:00:00Z"))]);
        Is("""{ "totalReferrals": 1, "conversions": 1, "conversionRate": 100, "attributedRevenue": 42.50 }""",
            (await Analytics(query, click.LastSequence)).GetProperty("referralMetrics"));
    }

    [Fact]
    public async Task A_sale_30_days_after_its_click_is_attributed_and_31_days_after_is_not()
    {
        var receipt = await App.PublishAsync(
        [
            Clicked("r-30", "v30", "org-a", At("2024-03-01T12:00:00Z")),
            StoreSale("s-30", "v30", "org-a", 30.00m, At("2024-03-31T12:00:00Z")),     // exactly 30 days: attributed
            Clicked("r-31", "v31", "org-a", At("2024-03-01T12:00:00Z")),
            StoreSale("s-31", "v31", "org-a", 31.00m, At("2024-04-01T12:00:00Z")),     // 31 days: not attributed
            Clicked("r-30s", "v30s", "org-a", At("2024-03-01T12:00:00Z")),
            StoreSale("s-30s", "v30s", "org-a", 0.01m, At("2024-03-31T12:00:01Z")),    // 30 days and a second: not attributed
            // Two clicks by one visitor to one store: the sale goes to the later click only.
            Clicked("r-old", "vl", "org-a", At("2024-03-01T08:00:00Z")),
            Clicked("r-new", "vl", "org-a", At("2024-03-02T08:00:00Z")),
            StoreSale("s-latest", "vl", "org-a", 50.00m, At("2024-03-03T08:00:00Z")),
            // A click to another store does not attribute this store's sale.
            Clicked("r-elsewhere", "ve", "org-b", At("2024-03-01T09:00:00Z")),
            StoreSale("s-elsewhere", "ve", "org-a", 70.00m, At("2024-03-01T10:00:00Z")),
        ]);

        Is("""{ "totalReferrals": 5, "conversions": 1, "conversionRate": 20.00, "attributedRevenue": 30.00 }""",
            (await Analytics(Range("2024-03-01", "2024-03-01"), receipt.LastSequence)).GetProperty("referralMetrics"));
        Is("""{ "totalReferrals": 1, "conversions": 1, "conversionRate": 100, "attributedRevenue": 50.00 }""",
            (await Analytics(Range("2024-03-02", "2024-03-02"), receipt.LastSequence)).GetProperty("referralMetrics"));
        Is("""{ "totalReferrals": 6, "conversions": 2, "conversionRate": 33.33, "attributedRevenue": 80.00 }""",
            (await Analytics(Range("2024-03-01", "2024-04-30"), receipt.LastSequence)).GetProperty("referralMetrics"));
    }

    [Fact]
    public async Task A_click_or_sale_published_again_under_a_new_id_counts_once()
    {
        var first = await App.PublishAsync(
        [
            Clicked("r1", "v1", "org-a", At("2024-03-01T12:00:00Z")),
            StoreSale("s1", "v1", "org-a", 25.00m, At("2024-03-02T12:00:00Z")),
            StoreSale("s1", "v9", "org-b", 99.00m, At("2024-03-02T12:00:00Z")), // same orderId, another store: another sale (not attributed)
        ]);
        var again = await App.PublishAsync(
        [
            Clicked("r1", "v1", "org-a", At("2024-03-01T12:00:00Z")),
            StoreSale("s1", "v1", "org-a", 25.00m, At("2024-03-02T12:00:00Z")),
        ]);
        Assert.Equal((2, 0), (again.Accepted, again.Duplicates));
        Assert.True(again.LastSequence > first.LastSequence);

        Is("""{ "totalReferrals": 1, "conversions": 1, "conversionRate": 100, "attributedRevenue": 25.00 }""",
            (await Analytics(Range("2024-03-01", "2024-03-02"), again.LastSequence)).GetProperty("referralMetrics"));
    }

    /// <summary>
    /// The referral figures are ReferralAnalytics' own: a gallery bucket that still holds referral figures (as those the
    /// analytics kept before the referral attribution became a projection of its own) adds nothing to them.
    /// </summary>
    [Fact]
    public async Task Referral_figures_come_from_the_referral_buckets_only()
    {
        var last = (await App.PublishAsync(
        [
            OrderPlaced("o-1", At("2024-03-10T09:00:00Z"), ("org-a", 1, 40.00m)),
            Clicked("r-1", "v-1", "org-a", At("2024-03-10T10:00:00Z")),
            StoreSale("s-1", "v-1", "org-a", 25.00m, At("2024-03-10T11:00:00Z")),
        ])).LastSequence;
        const string expected = """{ "totalReferrals": 1, "conversions": 1, "conversionRate": 100.00, "attributedRevenue": 25.00 }""";
        Is(expected, (await Analytics(Range("2024-03-10", "2024-03-10"), last)).GetProperty("referralMetrics"));

        var slot = App.Host.Services.GetRequiredService<ProjectionProgress>().ActiveSlot(GalleryAnalyticsProjection.ProjectionName);
        await using (var session = App.Store.LightweightSession())
        {
            var day = (await session.ForTenant(slot).LoadAsync<AnalyticsBucket>("day:2024-03-10"))!;
            (day.Figures.Referrals, day.Figures.Conversions, day.Figures.AttributedRevenue) = (7, 3, 99.00m);
            session.ForTenant(slot).Store(day);
            await session.SaveChangesAsync();
        }

        App.Host.Services.GetRequiredService<ReadModelCache>().Clear();
        var analytics = await Analytics(Range("2024-03-10", "2024-03-10"), last);
        Is(expected, analytics.GetProperty("referralMetrics"));
        Assert.Equal((1, 40.00m), (analytics.GetProperty("overview").GetProperty("totalOrders").GetInt32(),
            analytics.GetProperty("overview").GetProperty("totalRevenue").GetDecimal()));
    }

    // ---- Orders ----

    [Fact]
    public async Task Cancelling_an_order_takes_it_out_of_everything_but_ordersByStatus_cancelled()
    {
        var placed = await App.PublishAsync(
        [
            OrderPlaced("o1", At("2024-03-10T09:00:00Z"), ("org-a", 2, 50.00m)),
            OrderPlaced("o2", At("2024-03-10T10:00:00Z"), ("org-b", 1, 30.00m), ("org-a", 1, 20.00m)),
        ]);
        var query = Range("2024-03-10", "2024-03-10");

        var both = await Analytics(query, placed.LastSequence);
        Is("""{ "totalOrders": 2, "totalRevenue": 150.00, "galleryRevenue": 18.00, "artistPayouts": 132.00, "averageOrderValue": 75.00, "totalItemsSold": 4 }""",
            both.GetProperty("overview"));
        Is("""
            [ { "orgId": "org-a", "artistName": "org-a", "totalOrders": 2, "totalRevenue": 120.00, "artistPayout": 105.60, "itemsSold": 3 },
              { "orgId": "org-b", "artistName": "org-b", "totalOrders": 1, "totalRevenue": 30.00, "artistPayout": 26.40, "itemsSold": 1 } ]
            """, both.GetProperty("topArtists"));

        var cancelled = await App.PublishAsync([StatusChanged("o2", "cancelled", At("2024-03-12T10:00:00Z"))]);
        var after = await Analytics(query, cancelled.LastSequence);
        Is("""{ "totalOrders": 1, "totalRevenue": 100.00, "galleryRevenue": 12.00, "artistPayouts": 88.00, "averageOrderValue": 100.00, "totalItemsSold": 2 }""",
            after.GetProperty("overview"));
        Is("""{ "pending": 1, "paid": 0, "processing": 0, "partially_shipped": 0, "shipped": 0, "delivered": 0, "cancelled": 1 }""",
            after.GetProperty("ordersByStatus"));
        Is("""[ { "orgId": "org-a", "artistName": "org-a", "totalOrders": 1, "totalRevenue": 100.00, "artistPayout": 88.00, "itemsSold": 2 } ]""",
            after.GetProperty("topArtists"));
        Is("""[ { "date": "2024-03-10", "orders": 1, "revenue": 100.00, "newCarts": 0 } ]""", after.GetProperty("timeline"));
    }

    [Fact]
    public async Task A_status_change_delivered_before_its_order_placed_is_kept()
    {
        var change = await App.PublishAsync([StatusChanged("o1", "shipped", At("2024-03-10T12:00:00Z"))]);
        var query = Range("2024-03-10", "2024-03-10");
        var orphan = await Analytics(query, change.LastSequence);
        Is(ZeroStatuses, orphan.GetProperty("ordersByStatus")); // no order.placed yet: the order counts nowhere
        Assert.Equal(0, orphan.GetProperty("overview").GetProperty("totalOrders").GetDecimal());

        var placed = await App.PublishAsync([OrderPlaced("o1", At("2024-03-10T09:00:00Z"), ("org-a", 1, 10.00m))]);
        var analytics = await Analytics(query, placed.LastSequence);
        Is("""{ "pending": 0, "paid": 0, "processing": 0, "partially_shipped": 0, "shipped": 1, "delivered": 0, "cancelled": 0 }""",
            analytics.GetProperty("ordersByStatus"));
        Is("""{ "totalOrders": 1, "totalRevenue": 10.00, "galleryRevenue": 1.20, "artistPayouts": 8.80, "averageOrderValue": 10.00, "totalItemsSold": 1 }""",
            analytics.GetProperty("overview"));
    }

    [Fact]
    public async Task Equal_instants_a_change_beats_placement_and_the_later_delivered_change_wins()
    {
        var t = At("2024-03-10T09:00:00Z");
        var receipt = await App.PublishAsync(
        [
            OrderPlaced("o-tie", t, ("org-a", 1, 1.00m)),
            StatusChanged("o-tie", "paid", t),
            OrderPlaced("o-two", t, ("org-a", 1, 1.00m)),
            StatusChanged("o-two", "processing", t.AddHours(1)),
            StatusChanged("o-two", "delivered", t.AddHours(1)),
        ]);
        Is("""{ "pending": 0, "paid": 1, "processing": 0, "partially_shipped": 0, "shipped": 0, "delivered": 1, "cancelled": 0 }""",
            (await Analytics(Range("2024-03-10", "2024-03-10"), receipt.LastSequence)).GetProperty("ordersByStatus"));
    }

    [Fact]
    public async Task Top_artists_break_revenue_ties_by_ordinal_orgId_take_10_and_show_the_latest_name()
    {
        var t = At("2024-03-10T09:00:00Z");
        var events = new List<JsonObject>
        {
            ProfileUpdated("org-a", "Newest, \"A\"", t.AddHours(2)),
            ProfileUpdated("org-a", "Older A", t.AddHours(1)),           // delivered later, happened earlier: not shown
            OrderPlaced("o-a", t, ("org-a", 1, 100.00m)),
            OrderPlaced("o-b", t, ("ORG-b", 4, 25.00m)),                 // 100.00 too; "ORG-b" < "org-a" ordinally
        };
        for (var k = 0; k < 10; k++)
        {
            events.Add(OrderPlaced($"o-{k}", t, ($"org-{k:D2}", 1, 10.00m + k)));
        }

        var receipt = await App.PublishAsync(events);
        var top = (await Analytics(Range("2024-03-10", "2024-03-10"), receipt.LastSequence)).GetProperty("topArtists");
        Is("""
            [ { "orgId": "ORG-b", "artistName": "ORG-b", "totalOrders": 1, "totalRevenue": 100.00, "artistPayout": 88.00, "itemsSold": 4 },
              { "orgId": "org-a", "artistName": "Newest, \"A\"", "totalOrders": 1, "totalRevenue": 100.00, "artistPayout": 88.00, "itemsSold": 1 },
              { "orgId": "org-09", "artistName": "org-09", "totalOrders": 1, "totalRevenue": 19.00, "artistPayout": 16.72, "itemsSold": 1 },
              { "orgId": "org-08", "artistName": "org-08", "totalOrders": 1, "totalRevenue": 18.00, "artistPayout": 15.84, "itemsSold": 1 },
              { "orgId": "org-07", "artistName": "org-07", "totalOrders": 1, "totalRevenue": 17.00, "artistPayout": 14.96, "itemsSold": 1 },
              { "orgId": "org-06", "artistName": "org-06", "totalOrders": 1, "totalRevenue": 16.00, "artistPayout": 14.08, "itemsSold": 1 },
              { "orgId": "org-05", "artistName": "org-05", "totalOrders": 1, "totalRevenue": 15.00, "artistPayout": 13.20, "itemsSold": 1 },
              { "orgId": "org-04", "artistName": "org-04", "totalOrders": 1, "totalRevenue": 14.00, "artistPayout": 12.32, "itemsSold": 1 },
              { "orgId": "org-03", "artistName": "org-03", "totalOrders": 1, "totalRevenue": 13.00, "artistPayout": 11.44, "itemsSold": 1 },
              { "orgId": "org-02", "artistName": "org-02", "totalOrders": 1, "totalRevenue": 12.00, "artistPayout": 10.56, "itemsSold": 1 } ]
            """, top);
    }

    // ---- Carts ----

    [Fact]
    public async Task An_item_added_two_days_after_creation_changes_the_creation_days_cart_metrics()
    {
        var created = await App.PublishAsync(
        [
            CartCreated("c1", At("2024-03-10T09:00:00Z")),
            CartCreated("c2", At("2024-03-12T09:00:00Z")),
        ]);
        var tenth = Range("2024-03-10", "2024-03-10");
        Is("""{ "activeCarts": 0, "averageCartValue": 0, "abandonmentRate": 0, "averageItemsPerCart": 0 }""",
            (await Analytics(tenth, created.LastSequence)).GetProperty("cartMetrics"));

        var added = await App.PublishAsync([ItemAdded("c1", "p1", 2, 12.50m, At("2024-03-12T10:00:00Z"))]);
        var analytics = await Analytics(tenth, added.LastSequence);
        Is("""{ "activeCarts": 1, "averageCartValue": 25.00, "abandonmentRate": 100.00, "averageItemsPerCart": 2.00 }""", analytics.GetProperty("cartMetrics"));
        Is("""[ { "date": "2024-03-10", "orders": 0, "revenue": 0, "newCarts": 1 } ]""", analytics.GetProperty("timeline"));

        var twelfth = await Analytics(Range("2024-03-12", "2024-03-12"), added.LastSequence);
        Is("""{ "activeCarts": 0, "averageCartValue": 0, "abandonmentRate": 0, "averageItemsPerCart": 0 }""", twelfth.GetProperty("cartMetrics"));
        Is("""[ { "date": "2024-03-12", "orders": 0, "revenue": 0, "newCarts": 1 } ]""", twelfth.GetProperty("timeline"));

        var all = await Analytics(Range("2024-03-10", "2024-03-12"), added.LastSequence);
        Is("""
            [ { "date": "2024-03-10", "orders": 0, "revenue": 0, "newCarts": 1 },
              { "date": "2024-03-11", "orders": 0, "revenue": 0, "newCarts": 0 },
              { "date": "2024-03-12", "orders": 0, "revenue": 0, "newCarts": 1 } ]
            """, all.GetProperty("timeline"));

        // Checked out two days later too: the 10th's cart is converted, and keeps its contents.
        var checkedOut = await App.PublishAsync([CheckedOut("c1", At("2024-03-12T11:00:00Z"))]);
        Is("""{ "activeCarts": 1, "averageCartValue": 25.00, "abandonmentRate": 0, "averageItemsPerCart": 2.00 }""",
            (await Analytics(tenth, checkedOut.LastSequence)).GetProperty("cartMetrics"));
    }

    // ---- Range validation ----

    [Theory]
    [InlineData("start_date=2024-02-30&end_date=2024-03-10", "start_date")]
    [InlineData("start_date=2024-03-01&end_date=yesterday", "end_date")]
    [InlineData("start_date=03%2F01%2F2024&end_date=2024-03-10", "start_date")]
    [InlineData("start_date=2024-03-01&end_date=2024-03-10T25:00:00Z", "end_date")]
    [InlineData("start_date=2024-03-10&end_date=2024-03-09", "start_date|end_date")]
    [InlineData("start_date=2024-03-10T00:00:00Z&end_date=2024-03-09T23:59:59Z", "start_date|end_date")]
    [InlineData("start_date=2023-12-31&end_date=2024-12-31", "366")]
    [InlineData("start_date=2024-01-01T00:00:00Z&end_date=2025-01-01T12:00:00%2B05:00", "366")]
    // The calendar's edges: a range must lie from 1900-01-01 to 9998-12-31.
    [InlineData("end_date=0001-01-01", "end_date")]
    [InlineData("start_date=0001-01-01&end_date=0001-01-31", "start_date")]
    [InlineData("start_date=9999-12-30&end_date=9999-12-31", "start_date")]
    [InlineData("start_date=9998-12-31&end_date=9999-01-01", "end_date")]
    [InlineData("start_date=1899-12-31&end_date=1900-01-05", "1900-01-01")]
    [InlineData("start_date=0001-01-01T00:00:00%2B01:00", "start_date")]
    [InlineData("end_date=9999-12-31T23:00:00-05:00", "end_date")]
    public async Task Invalid_ranges_are_a_400_problem_that_names_the_problem(string query, string mentions)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url(AnalyticsApi.Url(query));
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(400);
            s.ContentTypeShouldBe("application/problem+json");
        });
        var problem = await result.ReadAsJsonAsync<ProblemBody>();
        Assert.Equal(400, problem!.Status);
        foreach (var word in mentions.Split('|'))
        {
            Assert.Contains(word, problem.Detail);
        }
    }

    [Theory]
    [InlineData("1900-01-01", "1900-01-31")]
    [InlineData("9998-12-01", "9998-12-31")]
    [InlineData("9998-01-01", "9998-12-31")]
    public async Task Ranges_at_the_first_and_last_days_allowed_answer_with_zeros(string start, string end)
    {
        var analytics = await Analytics(Range(start, end), 0);
        Assert.Equal(0, analytics.GetProperty("overview").GetProperty("totalOrders").GetInt32());
        Assert.Equal($"{end}T23:59:59Z", analytics.GetProperty("dateRange").GetProperty("end").GetString());
    }

    [Theory]
    [InlineData("2024-01-01", "2024-12-31")]                                   // 2024 is a leap year: 366 days
    [InlineData("2023-03-01", "2024-02-29")]
    [InlineData("2024-01-01T23:59:59Z", "2024-12-31T00:00:00Z")]
    public async Task A_range_of_exactly_366_days_is_allowed(string start, string end)
    {
        var analytics = await Analytics(Range(start, end), 0);
        Assert.Equal(366, analytics.GetProperty("timeline").GetArrayLength());
        Assert.Equal(start[..10] + "T00:00:00Z", analytics.GetProperty("dateRange").GetProperty("start").GetString());
        Assert.Equal(end[..10] + "T23:59:59Z", analytics.GetProperty("dateRange").GetProperty("end").GetString());
    }

    [Fact]
    public async Task Start_and_end_on_the_same_utc_day_in_either_order_of_instants_is_one_day()
    {
        var analytics = await Analytics(Range("2024-03-10T23:00:00Z", "2024-03-10T01:00:00Z"), 0);
        Is("""[ { "date": "2024-03-10", "orders": 0, "revenue": 0, "newCarts": 0 } ]""", analytics.GetProperty("timeline"));
    }

    // ---- Access ----

    public static TheoryData<string> NonAdmins => new()
    {
        TestTokens.For("staff"),
        TestTokens.For("staff", "view_customers", "manage_inventory"),
        TestTokens.For("customer"),
        TestTokens.Service,
    };

    [Theory]
    [MemberData(nameof(NonAdmins))]
    public async Task Anyone_but_an_admin_is_403(string token)
    {
        await App.Host.Scenario(s =>
        {
            s.Get.Url(Route);
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(HttpStatusCode.Forbidden);
        });
    }

    [Fact]
    public async Task No_token_is_401()
    {
        await App.Host.Scenario(s =>
        {
            s.Get.Url(Route);
            s.StatusCodeShouldBe(HttpStatusCode.Unauthorized);
        });
    }

    // ---- Read headers ----

    [Fact]
    public async Task Reads_carry_sequence_etag_and_private_cache_control()
    {
        var query = Range("2024-03-10", "2024-03-10");
        var receipt = await App.PublishAsync([OrderPlaced("o1", At("2024-03-10T10:00:00Z"), ("org-a", 1, 10.00m))]);
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url(AnalyticsApi.Url(query, receipt.LastSequence));
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(200);
            s.Header("Cache-Control").SingleValueShouldEqual("private");
        });
        var headers = result.Context.Response.Headers;
        Assert.Equal("application/json", MediaTypeHeaderValue.Parse(headers.ContentType.ToString()).MediaType.ToString());
        Assert.True(long.Parse(headers[ReadModelEndpoint.SequenceHeader]!, CultureInfo.InvariantCulture) >= receipt.LastSequence);
        var etag = headers.ETag.ToString();
        Assert.StartsWith("\"", etag);

        // Same data: the validator matches and the answer is 304 with no body.
        var notModified = await App.Host.Scenario(s =>
        {
            s.Get.Url(AnalyticsApi.Url(query));
            s.WithBearerToken(TestTokens.Admin);
            s.WithRequestHeader("If-None-Match", etag);
            s.StatusCodeShouldBe(304);
        });
        Assert.Equal(etag, notModified.Context.Response.Headers.ETag.ToString());
        Assert.Equal("", await notModified.ReadAsTextAsync());

        // New data: the old validator no longer matches, and the answer shows it.
        var more = await App.PublishAsync([OrderPlaced("o2", At("2024-03-10T11:00:00Z"), ("org-a", 1, 5.00m))]);
        var changed = await App.Host.Scenario(s =>
        {
            s.Get.Url(AnalyticsApi.Url(query, more.LastSequence));
            s.WithBearerToken(TestTokens.Admin);
            s.WithRequestHeader("If-None-Match", etag);
            s.StatusCodeShouldBe(200);
        });
        Assert.NotEqual(etag, changed.Context.Response.Headers.ETag.ToString());
        Assert.True(long.Parse(changed.Context.Response.Headers[ReadModelEndpoint.SequenceHeader]!, CultureInfo.InvariantCulture) >= more.LastSequence);
        using var body = JsonDocument.Parse(await changed.ReadAsTextAsync());
        Assert.Equal(2, body.RootElement.GetProperty("analytics").GetProperty("overview").GetProperty("totalOrders").GetDecimal());
    }

    // ---- CSV ----

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_csv_report_via_accept_or_format(bool viaAccept)
    {
        var t = At("2024-03-10T10:00:00Z");
        var receipt = await App.PublishAsync(
        [
            ProfileUpdated("org_abc", "Smith, \"Jane\" Studio", t),
            OrderPlaced("o1", t, ("org_abc", 2, 100.00m), ("org_def", 1, 50.50m)),
            OrderPlaced("o2", t.AddDays(1), ("org_def", 3, 10.05m)),
            CartCreated("c1", t.AddDays(1)),
        ]);

        var (body, mediaType, disposition) = await GetCsvAsync(App, Range("2024-03-10", "2024-03-11"), receipt.LastSequence, viaAccept);
        Assert.Equal("text/csv", mediaType);
        Assert.Equal("attachment; filename=\"gallery-analytics-2024-03-10-2024-03-11.csv\"", disposition);
        // 280.65 × 0.12 = 33.678; 280.65 / 2 = 140.325 rounds away from zero; org_def: 80.65 − round(9.678) = 70.97.
        AssertCsv(TwoDayCsv, body);
    }

    [Fact]
    public async Task Artist_names_that_a_spreadsheet_would_run_as_formulas_are_written_as_text()
    {
        // OWASP "CSV injection": a cell starting with =, +, -, @ (or a tab or carriage return, which the limits already
        // refuse) is a formula to Excel or LibreOffice; the export quotes it with a leading apostrophe.
        var t = At("2024-03-10T10:00:00Z");
        var names = new[] { "=HYPERLINK(\"https://evil.example\",\"Click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "Plain = fine" };
        var envelopes = names.Select((name, i) => ProfileUpdated($"org_{i}", name, t))
            .Concat(names.Select((_, i) => OrderPlaced($"o{i}", t, ($"org_{i}", 1, 100m - i)))).ToList();
        var receipt = await App.PublishAsync(envelopes);

        var (body, _, _) = await GetCsvAsync(App, Range("2024-03-10", "2024-03-10"), receipt.LastSequence, viaAccept: false);

        var artists = body.Split('\n').SkipWhile(l => l != "Artist,Orders,Revenue,Payout,Items Sold").Skip(1).Take(names.Length).ToList();
        Assert.Equal(
        [
            "\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"Click\"\")\",1,100.00,88.00,1",
            "'+1+cmd|' /C calc'!A0,1,99.00,87.12,1",
            "'-2+3,1,98.00,86.24,1",
            "'@SUM(A1:A9),1,97.00,85.36,1",
            "Plain = fine,1,96.00,84.48,1",
        ], artists);
        // The JSON answer carries the names as they are: it is data, not a spreadsheet.
        var json = await Analytics(Range("2024-03-10", "2024-03-10"), receipt.LastSequence);
        Assert.Equal(names, json.GetProperty("topArtists").EnumerateArray().Select(a => a.GetProperty("artistName").GetString()));
    }

    [Fact]
    public async Task The_csv_report_of_an_empty_range_has_every_section()
    {
        var (body, _, disposition) = await GetCsvAsync(App, Range("2024-03-10", "2024-03-11"), 0, viaAccept: false);
        Assert.Equal("attachment; filename=\"gallery-analytics-2024-03-10-2024-03-11.csv\"", disposition);
        AssertCsv("""
            Gallery Analytics Report
            Date Range: 2024-03-10 to 2024-03-11

            Overview
            Total Orders,0
            Total Revenue,0.00
            Gallery Revenue,0.00
            Artist Payouts,0.00
            Average Order Value,0.00
            Total Items Sold,0

            Top Artists
            Artist,Orders,Revenue,Payout,Items Sold

            Timeline
            Date,Orders,Revenue,New Carts
            2024-03-10,0,0.00,0
            2024-03-11,0,0.00,0
            """.ReplaceLineEndings("\n"), body);
    }
}
