using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Projections.Tests.Infrastructure;
using static Projections.Tests.Analytics.AnalyticsApi;

namespace Projections.Tests.Analytics;

/// <summary>
/// <c>tz</c> and <c>compare=previous_period</c> on small hand-made cases, every expected value worked out by hand: the
/// contract's example (Berlin's 23-hour 2024-03-31), days of 25 hours (New York, Chatham), fractional offsets (Kolkata
/// +05:30, Kathmandu +05:45, Chatham +12:45/+13:45) to the second, the previous period in UTC and across a change, the
/// CSV report with both, and the 400s for zones and comparisons that are not served.
/// </summary>
public sealed class TimeZoneEdgeTests(AppFixture app) : AppTest(app)
{
    private async Task<JsonElement> Analytics(string query, long last) => (await GetAsync(App, query, last)).GetProperty("analytics");

    private static void Is(string expectedJson, JsonElement actual) => AssertMatches(JsonNode.Parse(expectedJson), actual);

    private static string Zoned(string zone, string start, string end, bool compare = false) =>
        $"{Range(start, end)}&tz={Uri.EscapeDataString(zone)}" + (compare ? "&compare=previous_period" : "");

    /// <summary>Berlin goes from +01:00 to +02:00 at 01:00Z on 2024-03-31; its midnights are 23:00Z on the 30th and 22:00Z on the 31st.</summary>
    private async Task<long> PublishBerlinSpringAsync() => (await App.PublishAsync(
    [
        OrderPlaced("o-1", At("2024-03-30T22:59:59Z"), ("org-a", 1, 10.00m)),  // Berlin 2024-03-30 23:59:59+01:00
        OrderPlaced("o-2", At("2024-03-30T23:00:00Z"), ("org-a", 2, 20.00m)),  // Berlin 2024-03-31 00:00:00+01:00
        OrderPlaced("o-3", At("2024-03-31T21:59:59Z"), ("org-b", 3, 1.50m)),   // Berlin 2024-03-31 23:59:59+02:00
        OrderPlaced("o-4", At("2024-03-31T22:00:00Z"), ("org-b", 1, 100.00m)), // Berlin 2024-04-01 00:00:00+02:00
        CartCreated("c-1", At("2024-03-30T23:00:00Z")),
        Clicked("r-1", "v-1", "org-a", At("2024-03-31T01:30:00Z")),            // Berlin 03:30+02:00, just after the change
    ])).LastSequence;

    [Fact]
    public async Task A_store_whose_first_events_are_not_analytics_serves_every_zone_without_a_rebuild()
    {
        // A fresh shop often starts with users and products: the analytics projection skips those events, so its
        // progress has moved before its first batch. Its slots hold everything of its own from the first event on.
        var users = await App.PublishAsync([Envelopes.Of("user.registered", new JsonObject { ["userId"] = "u-first", ["role"] = "customer" })]);
        await GetAsync(App, Range("2024-03-01", "2024-03-31"), users.LastSequence);
        var last = (await App.PublishAsync([OrderPlaced("o-1", At("2024-03-10T12:00:00Z"), ("org-a", 1, 10.00m))])).LastSequence;

        foreach (var zone in AppFixture.TimeZones)
        {
            var answer = await Analytics(Zoned(zone, "2024-03-01", "2024-03-31"), last);
            Assert.Equal(1, answer.GetProperty("overview").GetProperty("totalOrders").GetInt32());
        }

        var status = await App.GetJsonAsync("/api/admin/projections");
        foreach (var analytics in status.GetProperty("projections").EnumerateArray()
                     .Where(p => p.GetProperty("name").GetString() is "GalleryAnalytics" or "ReferralAnalytics"))
        {
            Assert.Equal(0, analytics.GetProperty("notBuilt").GetArrayLength());
        }
    }

    [Fact]
    public async Task The_contracts_example_berlins_23_hour_day_has_offsets_at_each_end_and_its_own_events()
    {
        var last = await PublishBerlinSpringAsync();

        var day = await Analytics(Zoned("Europe/Berlin", "2024-03-31", "2024-03-31"), last);
        Is("""{ "start": "2024-03-31T00:00:00+01:00", "end": "2024-03-31T23:59:59+02:00" }""", day.GetProperty("dateRange"));
        Is("""{ "totalOrders": 2, "totalRevenue": 44.50, "galleryRevenue": 5.34, "artistPayouts": 39.16, "averageOrderValue": 22.25, "totalItemsSold": 5 }""",
            day.GetProperty("overview"));
        Is("""[ { "date": "2024-03-31", "orders": 2, "revenue": 44.50, "newCarts": 1 } ]""", day.GetProperty("timeline"));
        Is("""{ "totalReferrals": 1, "conversions": 0, "conversionRate": 0, "attributedRevenue": 0 }""", day.GetProperty("referralMetrics"));
        Is("""{ "activeCarts": 0, "averageCartValue": 0, "abandonmentRate": 0, "averageItemsPerCart": 0 }""", day.GetProperty("cartMetrics"));

        var three = await Analytics(Zoned("Europe/Berlin", "2024-03-30", "2024-04-01"), last);
        Is("""{ "start": "2024-03-30T00:00:00+01:00", "end": "2024-04-01T23:59:59+02:00" }""", three.GetProperty("dateRange"));
        Is("""
            [ { "date": "2024-03-30", "orders": 1, "revenue": 10.00, "newCarts": 0 },
              { "date": "2024-03-31", "orders": 2, "revenue": 44.50, "newCarts": 1 },
              { "date": "2024-04-01", "orders": 1, "revenue": 100.00, "newCarts": 0 } ]
            """, three.GetProperty("timeline"));

        // The same events in UTC: o-1 and o-2 on the 30th, o-3 and o-4 on the 31st.
        var utc = await Analytics(Range("2024-03-30", "2024-03-31") + "&tz=UTC", last);
        Is("""{ "start": "2024-03-30T00:00:00Z", "end": "2024-03-31T23:59:59Z" }""", utc.GetProperty("dateRange"));
        Is("""
            [ { "date": "2024-03-30", "orders": 2, "revenue": 50.00, "newCarts": 1 },
              { "date": "2024-03-31", "orders": 2, "revenue": 104.50, "newCarts": 0 } ]
            """, utc.GetProperty("timeline"));
    }

    [Fact]
    public async Task Instants_in_the_range_are_taken_as_their_day_in_the_zone()
    {
        var last = await PublishBerlinSpringAsync();

        // 22:30Z on the 30th is 23:30 in Berlin (the 30th); 22:30Z on the 31st is 00:30 on April 1st in Berlin.
        var analytics = await Analytics($"{Range("2024-03-30T22:30:00Z", "2024-03-31T22:30:00Z")}&tz=Europe/Berlin", last);
        Is("""{ "start": "2024-03-30T00:00:00+01:00", "end": "2024-04-01T23:59:59+02:00" }""", analytics.GetProperty("dateRange"));
        Assert.Equal(3, analytics.GetProperty("timeline").GetArrayLength());
    }

    [Fact]
    public async Task Days_of_25_hours_in_new_york_and_chatham_hold_their_extra_hour()
    {
        var last = (await App.PublishAsync(
        [
            // New York goes from −04:00 to −05:00 at 06:00Z on 2024-11-03: 01:30 happens twice, and 23:30 is 04:30Z of the 4th.
            OrderPlaced("ny-1", At("2024-11-03T03:59:59Z"), ("org-a", 1, 1.00m)),  // 2024-11-02 23:59:59−04:00
            OrderPlaced("ny-2", At("2024-11-03T05:30:00Z"), ("org-a", 1, 2.00m)),  // 01:30−04:00
            OrderPlaced("ny-3", At("2024-11-03T06:30:00Z"), ("org-a", 1, 4.00m)),  // 01:30−05:00
            OrderPlaced("ny-4", At("2024-11-04T04:59:59Z"), ("org-a", 1, 8.00m)),  // 23:59:59−05:00
            OrderPlaced("ny-5", At("2024-11-04T05:00:00Z"), ("org-a", 1, 16.00m)), // 2024-11-04 00:00:00−05:00
            // Chatham goes from +13:45 to +12:45 at 14:00Z on 2024-04-06 (03:45 → 02:45 local, on the 7th).
            OrderPlaced("ch-1", At("2024-04-06T10:14:59Z"), ("org-b", 1, 1.00m)),  // 2024-04-06 23:59:59+13:45
            OrderPlaced("ch-2", At("2024-04-06T10:15:00Z"), ("org-b", 1, 2.00m)),  // 2024-04-07 00:00:00+13:45
            OrderPlaced("ch-3", At("2024-04-07T11:14:59Z"), ("org-b", 1, 4.00m)),  // 2024-04-07 23:59:59+12:45
            OrderPlaced("ch-4", At("2024-04-07T11:15:00Z"), ("org-b", 1, 8.00m)),  // 2024-04-08 00:00:00+12:45
        ])).LastSequence;

        var newYork = await Analytics(Zoned("America/New_York", "2024-11-03", "2024-11-03"), last);
        Is("""{ "start": "2024-11-03T00:00:00-04:00", "end": "2024-11-03T23:59:59-05:00" }""", newYork.GetProperty("dateRange"));
        Is("""[ { "date": "2024-11-03", "orders": 3, "revenue": 14.00, "newCarts": 0 } ]""", newYork.GetProperty("timeline"));

        var chatham = await Analytics(Zoned("Pacific/Chatham", "2024-04-06", "2024-04-08"), last);
        Is("""{ "start": "2024-04-06T00:00:00+13:45", "end": "2024-04-08T23:59:59+12:45" }""", chatham.GetProperty("dateRange"));
        Is("""
            [ { "date": "2024-04-06", "orders": 1, "revenue": 1.00, "newCarts": 0 },
              { "date": "2024-04-07", "orders": 2, "revenue": 6.00, "newCarts": 0 },
              { "date": "2024-04-08", "orders": 1, "revenue": 8.00, "newCarts": 0 } ]
            """, chatham.GetProperty("timeline"));
    }

    [Fact]
    public async Task Chathams_23_hour_spring_day_starts_at_plus_12_45_and_ends_at_plus_13_45()
    {
        var analytics = await Analytics(Zoned("Pacific/Chatham", "2024-09-29", "2024-09-29"), 0);
        Is("""{ "start": "2024-09-29T00:00:00+12:45", "end": "2024-09-29T23:59:59+13:45" }""", analytics.GetProperty("dateRange"));
    }

    [Theory]
    // Kolkata's midnight is 18:30Z the day before; Kathmandu's is 18:15Z.
    [InlineData("Asia/Kolkata", "2024-03-10T18:29:59Z", "2024-03-10T18:30:00Z", "+05:30")]
    [InlineData("Asia/Kathmandu", "2024-03-10T18:14:59Z", "2024-03-10T18:15:00Z", "+05:45")]
    public async Task Fractional_offsets_draw_midnight_to_the_second(string zone, string before, string after, string offset)
    {
        var last = (await App.PublishAsync(
        [
            OrderPlaced("o-before", At(before), ("org-a", 1, 3.00m)),
            OrderPlaced("o-after", At(after), ("org-a", 1, 5.00m)),
            CartCreated("c-before", At(before)),
            Clicked("r-after", "v-1", "org-a", At(after)),
        ])).LastSequence;

        var analytics = await Analytics(Zoned(zone, "2024-03-10", "2024-03-11"), last);
        Is($$"""{ "start": "2024-03-10T00:00:00{{offset}}", "end": "2024-03-11T23:59:59{{offset}}" }""", analytics.GetProperty("dateRange"));
        Is("""
            [ { "date": "2024-03-10", "orders": 1, "revenue": 3.00, "newCarts": 1 },
              { "date": "2024-03-11", "orders": 1, "revenue": 5.00, "newCarts": 0 } ]
            """, analytics.GetProperty("timeline"));

        var eleventh = await Analytics(Zoned(zone, "2024-03-11", "2024-03-11"), last);
        Is("""{ "totalReferrals": 1, "conversions": 0, "conversionRate": 0, "attributedRevenue": 0 }""", eleventh.GetProperty("referralMetrics"));
        Is("""{ "totalOrders": 1, "totalRevenue": 5.00, "galleryRevenue": 0.60, "artistPayouts": 4.40, "averageOrderValue": 5.00, "totalItemsSold": 1 }""",
            eleventh.GetProperty("overview"));
    }

    [Fact]
    public async Task The_previous_period_is_as_many_days_ending_the_day_before_in_utc_and_across_berlins_change()
    {
        var last = await PublishBerlinSpringAsync();

        // UTC: 2024-03-31 alone, against 2024-03-30 (o-1, o-2, c-1).
        var utc = await Analytics(Range("2024-03-31", "2024-03-31") + "&compare=previous_period", last);
        Is("""
            {
              "overview": { "totalOrders": 2, "totalRevenue": 50.00, "galleryRevenue": 6.00, "artistPayouts": 44.00, "averageOrderValue": 25.00, "totalItemsSold": 3 },
              "ordersByStatus": { "pending": 2, "paid": 0, "processing": 0, "partially_shipped": 0, "shipped": 0, "delivered": 0, "cancelled": 0 },
              "topArtists": [ { "orgId": "org-a", "artistName": "org-a", "totalOrders": 2, "totalRevenue": 50.00, "artistPayout": 44.00, "itemsSold": 3 } ],
              "cartMetrics": { "activeCarts": 0, "averageCartValue": 0, "abandonmentRate": 0, "averageItemsPerCart": 0 },
              "referralMetrics": { "totalReferrals": 0, "conversions": 0, "conversionRate": 0, "attributedRevenue": 0 },
              "dateRange": { "start": "2024-03-30T00:00:00Z", "end": "2024-03-30T23:59:59Z" }
            }
            """, utc.GetProperty("previousPeriod"));
        Is("""{ "start": "2024-03-31T00:00:00Z", "end": "2024-03-31T23:59:59Z" }""", utc.GetProperty("dateRange"));

        // Berlin: March 31st and April 1st against March 29th and 30th (o-1 only); the current period holds o-2, o-3, o-4.
        var berlin = await Analytics(Zoned("Europe/Berlin", "2024-03-31", "2024-04-01", compare: true), last);
        Is("""
            {
              "overview": { "totalOrders": 1, "totalRevenue": 10.00, "galleryRevenue": 1.20, "artistPayouts": 8.80, "averageOrderValue": 10.00, "totalItemsSold": 1 },
              "ordersByStatus": { "pending": 1, "paid": 0, "processing": 0, "partially_shipped": 0, "shipped": 0, "delivered": 0, "cancelled": 0 },
              "topArtists": [ { "orgId": "org-a", "artistName": "org-a", "totalOrders": 1, "totalRevenue": 10.00, "artistPayout": 8.80, "itemsSold": 1 } ],
              "cartMetrics": { "activeCarts": 0, "averageCartValue": 0, "abandonmentRate": 0, "averageItemsPerCart": 0 },
              "referralMetrics": { "totalReferrals": 0, "conversions": 0, "conversionRate": 0, "attributedRevenue": 0 },
              "dateRange": { "start": "2024-03-29T00:00:00+01:00", "end": "2024-03-30T23:59:59+01:00" }
            }
            """, berlin.GetProperty("previousPeriod"));
        Is("""{ "totalOrders": 3, "totalRevenue": 144.50, "galleryRevenue": 17.34, "artistPayouts": 127.16, "averageOrderValue": 48.17, "totalItemsSold": 6 }""",
            berlin.GetProperty("overview"));

        // Without compare there is no previousPeriod at all.
        Assert.False((await Analytics(Zoned("Europe/Berlin", "2024-03-31", "2024-04-01"), last)).TryGetProperty("previousPeriod", out _));
    }

    [Fact]
    public async Task The_csv_report_names_the_zone_and_adds_the_previous_period()
    {
        var last = await PublishBerlinSpringAsync();
        var (body, _, disposition) = await GetCsvAsync(App, Zoned("Europe/Berlin", "2024-03-31", "2024-03-31", compare: true), last, viaAccept: false);
        Assert.Equal("attachment; filename=\"gallery-analytics-2024-03-31-2024-03-31.csv\"", disposition);
        AssertCsv("""
            Gallery Analytics Report
            Date Range: 2024-03-31 to 2024-03-31 (Europe/Berlin)

            Overview
            Total Orders,2
            Total Revenue,44.50
            Gallery Revenue,5.34
            Artist Payouts,39.16
            Average Order Value,22.25
            Total Items Sold,5

            Top Artists
            Artist,Orders,Revenue,Payout,Items Sold
            org-a,1,40.00,35.20,2
            org-b,1,4.50,3.96,3

            Timeline
            Date,Orders,Revenue,New Carts
            2024-03-31,2,44.50,1

            Previous Period
            Date Range: 2024-03-30 to 2024-03-30 (Europe/Berlin)

            Previous Period Overview
            Total Orders,1
            Total Revenue,10.00
            Gallery Revenue,1.20
            Artist Payouts,8.80
            Average Order Value,10.00
            Total Items Sold,1

            Previous Period Top Artists
            Artist,Orders,Revenue,Payout,Items Sold
            org-a,1,10.00,8.80,1
            """.ReplaceLineEndings("\n"), body);
    }

    [Theory]
    [InlineData("tz=Mars%2FOlympus_Mons", "Mars/Olympus_Mons")]
    [InlineData("tz=Australia%2FSydney", "Australia/Sydney")] // a real zone, but not configured
    [InlineData("tz=%2B05:30", "+05:30")]
    [InlineData("tz=Europe%2FBerlin%20", "Europe/Berlin ")]
    public async Task A_zone_that_is_not_served_is_a_400_naming_the_configured_ones(string query, string zone)
    {
        var problem = await BadRequestAsync(query);
        Assert.Contains($"'{zone}'", problem.Detail);
        foreach (var configured in AppFixture.TimeZones.Prepend("UTC"))
        {
            Assert.Contains(configured, problem.Detail);
        }
    }

    [Theory]
    [InlineData("compare=previous")]
    [InlineData("compare=previous_year")]
    [InlineData("compare=PREVIOUS_PERIOD%20")]
    public async Task A_compare_other_than_previous_period_is_a_400(string query)
    {
        var problem = await BadRequestAsync(query);
        Assert.Contains("compare", problem.Detail);
        Assert.Contains("previous_period", problem.Detail);
    }

    private async Task<ProblemBody> BadRequestAsync(string query)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url(Url(query));
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(400);
            s.ContentTypeShouldBe("application/problem+json");
        });
        return (await result.ReadAsJsonAsync<ProblemBody>())!;
    }
}
