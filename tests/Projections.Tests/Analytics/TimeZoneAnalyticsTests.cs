using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Analytics;

/// <summary>
/// The randomized reference test in every configured time zone (<see cref="AppFixture.TimeZones"/>: daylight-saving
/// changes in Berlin, New York and Chatham, fractional offsets in Kolkata, Kathmandu and Chatham) and in UTC. Two spans of
/// 90 days hold every zone's spring and autumn change; the gallery has events at each zone's local midnights, to the
/// second. For every zone: the whole span, each day of 23 or 25 hours alone, a week across each change with the previous
/// period (itself across or beside the change), a random week with the previous period, and the default range; the CSV of
/// one such range; all again after an online rebuild and after Marten's offline one.
/// </summary>
public sealed class TimeZoneAnalyticsTests(AppFixture app) : AppTest(app)
{
    private static readonly TimeZoneInfo[] Zones =
        [TimeZoneInfo.Utc, .. AppFixture.TimeZones.Select(TimeZoneInfo.FindSystemTimeZoneById)];

    private sealed record ZoneCase(TimeZoneInfo Zone, string Name, DateOnly Start, DateOnly End, bool Previous = false);

    [Theory]
    // 2024-02-01 .. 2024-04-30: New York's spring change (03-10), Berlin's (03-31), Chatham's autumn change (04-07).
    [InlineData(1403, 2024, 4, 30)]
    // 2024-09-02 .. 2024-11-30: Chatham's spring change (09-29), Berlin's autumn change (10-27), New York's (11-03).
    [InlineData(2911, 2024, 11, 30)]
    public async Task Every_configured_zone_matches_the_reference_across_daylight_saving_changes(int seed, int year, int month, int day)
    {
        var gallery = RandomGallery.Standard(seed, new DateOnly(year, month, day)).WithLocalMidnights(Zones);
        var delivery = gallery.Delivery();
        foreach (var zone in Zones.Where(z => z.Id is "Europe/Berlin" or "America/New_York" or "Pacific/Chatham"))
        {
            var lengths = gallery.ChangeDays(zone).Select(d => AnalyticsReference.LengthOf(d, zone).TotalHours).ToList();
            Assert.True(lengths is [23 or 25], $"{zone.Id}: expected one daylight-saving change in the span, got {string.Join(", ", lengths)} h");
        }

        var (last, accepted, _) = await App.PublishBatchesAsync(gallery.Batches(delivery));
        Assert.Equal(gallery.EventCount, accepted);

        var reference = AnalyticsReference.Replay(delivery);
        var cases = Cases(gallery, new Random(seed));
        await AssertEveryCaseMatches(reference, cases, last);

        foreach (var projection in new[] { "GalleryAnalytics", "ReferralAnalytics" })
        {
            Assert.Equal("completed", (await App.RebuildAsync(projection)).GetProperty("status").GetString());
        }

        await AssertEveryCaseMatches(reference, cases, last);

        // Marten's own offline rebuild replays from the first event: every zone is still served, with the same answers.
        await App.RebuildOfflineAsync("GalleryAnalytics");
        await App.RebuildOfflineAsync("ReferralAnalytics");
        App.Host.Services.GetRequiredService<ReadModelCache>().Clear();
        await AssertEveryCaseMatches(reference, cases, last);
    }

    private static List<ZoneCase> Cases(RandomGallery gallery, Random random)
    {
        var cases = new List<ZoneCase>();
        foreach (var zone in Zones)
        {
            // The whole span, one day wider at each end: zones ahead of UTC see the last UTC evening as tomorrow.
            cases.Add(new(zone, "the whole span", gallery.FirstDay.AddDays(-1), gallery.LastDay.AddDays(1)));
            foreach (var change in gallery.ChangeDays(zone))
            {
                var hours = AnalyticsReference.LengthOf(change, zone).TotalHours;
                cases.Add(new(zone, $"the {hours}-hour day alone", change, change));
                cases.Add(new(zone, $"the {hours}-hour day alone, against the day before", change, change, Previous: true));
                cases.Add(new(zone, "a week from the change, the previous week before it", change, change.AddDays(6), Previous: true));
                cases.Add(new(zone, "a week across the change, its previous week beside it", change.AddDays(-3), change.AddDays(3), Previous: true));
                cases.Add(new(zone, "five days after the change, the previous five across it", change.AddDays(1), change.AddDays(5), Previous: true));
            }

            var start = gallery.FirstDay.AddDays(random.Next(10, RandomGallery.Days - 10));
            cases.Add(new(zone, "a random week", start, start.AddDays(random.Next(0, 7)), Previous: true));
        }

        return cases;
    }

    private async Task AssertEveryCaseMatches(AnalyticsReference reference, List<ZoneCase> cases, long last)
    {
        foreach (var c in cases)
        {
            var query = Query(c.Zone, AnalyticsApi.Range(c.Start, c.End), c.Previous);
            var actual = await AnalyticsApi.GetAsync(App, query, last);
            AnalyticsApi.AssertMatches(reference.Expected(c.Start, c.End, c.Zone, c.Previous), actual, $"[{c.Zone.Id}, {c.Name}: {AnalyticsApi.Url(query)}] $");
        }

        // The default range is the 30 days ending today in the zone (far from this gallery's days: zero-filled).
        foreach (var zone in Zones)
        {
            var before = LocalToday(zone);
            var actual = await AnalyticsApi.GetAsync(App, Query(zone, "", previous: false), last);
            var today = LocalToday(zone) == before ? before : ServerToday(actual, before, LocalToday(zone));
            AnalyticsApi.AssertMatches(reference.Expected(today.AddDays(-29), today, zone), actual, $"[{zone.Id}, default range] $");
        }

        // The CSV report in a zone with a daylight-saving change, with its previous period.
        var csvCase = cases.First(c => c.Zone.Id == "Europe/Berlin" && c.Previous && c.Start != c.End);
        var csvQuery = Query(csvCase.Zone, AnalyticsApi.Range(csvCase.Start, csvCase.End), previous: true);
        var (body, _, disposition) = await AnalyticsApi.GetCsvAsync(App, csvQuery, last, viaAccept: true);
        Assert.Equal($"attachment; filename=\"gallery-analytics-{AnalyticsApi.Day(csvCase.Start)}-{AnalyticsApi.Day(csvCase.End)}.csv\"", disposition);
        AnalyticsApi.AssertCsv(AnalyticsReference.Csv(reference.Expected(csvCase.Start, csvCase.End, csvCase.Zone, previousPeriod: true), "Europe/Berlin"), body);
    }

    private static string Query(TimeZoneInfo zone, string range, bool previous)
    {
        var parts = new List<string>();
        if (range.Length > 0)
        {
            parts.Add(range);
        }

        // UTC is asked for both ways: by default and by name.
        if (zone.Id != TimeZoneInfo.Utc.Id || range.Length == 0)
        {
            parts.Add("tz=" + Uri.EscapeDataString(zone.Id));
        }

        if (previous)
        {
            parts.Add("compare=previous_period");
        }

        return string.Join("&", parts);
    }

    private static DateOnly LocalToday(TimeZoneInfo zone) => AnalyticsReference.LocalDay(DateTime.UtcNow, zone);

    /// <summary>When the zone's date changed during the request, the response's own end date tells which day the server took.</summary>
    private static DateOnly ServerToday(JsonElement actual, DateOnly before, DateOnly after)
    {
        var end = actual.GetProperty("analytics").GetProperty("dateRange").GetProperty("end").GetString();
        return end is not null && end.StartsWith(AnalyticsApi.Day(after), StringComparison.Ordinal) ? after : before;
    }
}
