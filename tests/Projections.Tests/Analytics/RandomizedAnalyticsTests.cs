using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Analytics;

/// <summary>
/// Thousands of random gallery events over the 90 days ending today, delivered shuffled across entities with
/// redeliveries in random batches: every field of <c>GET /api/admin/analytics</c> (the whole timeline included) equals the
/// independent reference for the default range, the whole span, a single day, a range given as instants with offsets,
/// a range ending on a given day only, and an empty range; the CSV report equals the reference's; and a rebuild of the
/// projection reproduces all of it.
/// </summary>
public sealed class RandomizedAnalyticsTests(AppFixture app) : AppTest(app)
{
    /// <summary>A query and the UTC days it stands for; <paramref name="Resolve"/> gets today (UTC) for defaulted ends.</summary>
    private sealed record RangeCase(string Name, string Query, Func<DateOnly, (DateOnly Start, DateOnly End)> Resolve, bool UsesToday = false);

    [Theory]
    [InlineData(20250214)]
    [InlineData(31)]
    public async Task Every_range_matches_the_reference_and_a_rebuild_reproduces_it(int seed)
    {
        var gallery = RandomGallery.Standard(seed);
        var delivery = gallery.Delivery();
        Assert.True(gallery.EventCount >= 5000, $"only {gallery.EventCount} events");

        var (last, accepted, duplicates) = await App.PublishBatchesAsync(gallery.Batches(delivery));

        Assert.Equal(gallery.EventCount, accepted);
        Assert.Equal(delivery.Count - gallery.EventCount, duplicates);

        var reference = AnalyticsReference.Replay(delivery);
        var ranges = Ranges(gallery);
        await AssertEveryRangeMatches(reference, ranges, last);

        // Online (blue/green) rebuild: the answers now come from the other slot, rebuilt from the event store.
        foreach (var projection in new[] { "GalleryAnalytics", "ReferralAnalytics" })
        {
            Assert.Equal("completed", (await App.RebuildAsync(projection)).GetProperty("status").GetString());
        }

        await AssertEveryRangeMatches(reference, ranges, last);

        // Marten's own offline rebuild (which empties both slots first) gives the same answers too.
        await App.RebuildOfflineAsync("GalleryAnalytics");
        await App.RebuildOfflineAsync("ReferralAnalytics");
        App.Host.Services.GetRequiredService<ReadModelCache>().Clear();
        await AssertEveryRangeMatches(reference, ranges, last);
    }

    private static List<RangeCase> Ranges(RandomGallery gallery)
    {
        var first = gallery.FirstDay;
        var lastDay = gallery.LastDay;
        var boundary = gallery.BoundaryDay;
        var (from, to) = (first.AddDays(17), lastDay.AddDays(-23));
        return
        [
            new("default (the 30 days ending today)", "", today => (today.AddDays(-29), today), UsesToday: true),
            new("the whole 90 days", AnalyticsApi.Range(first, lastDay), _ => (first, lastDay)),
            new("a single day with events at 00:00:00Z and 23:59:59Z", AnalyticsApi.Range(boundary, boundary), _ => (boundary, boundary)),
            // 20:00 at −05:00 is 01:00 UTC of the next day; 03:00 at +05:00 is 22:00 UTC of the day before.
            new("instants with offsets",
                AnalyticsApi.Range($"{AnalyticsApi.Day(from.AddDays(-1))}T20:00:00-05:00", $"{AnalyticsApi.Day(to.AddDays(1))}T03:00:00+05:00"),
                _ => (from, to)),
            new("instants with Z", AnalyticsApi.Range($"{AnalyticsApi.Day(boundary)}T23:59:59Z", $"{AnalyticsApi.Day(boundary.AddDays(1))}T00:00:00Z"),
                _ => (boundary, boundary.AddDays(1))),
            new("end_date only (the 30 days ending then)", AnalyticsApi.Range(null, AnalyticsApi.Day(boundary)), _ => (boundary.AddDays(-29), boundary)),
            new("start_date only (through today)", AnalyticsApi.Range(AnalyticsApi.Day(lastDay.AddDays(-6)), null),
                today => (lastDay.AddDays(-6), today), UsesToday: true),
            new("days before any event", AnalyticsApi.Range(first.AddDays(-120), first.AddDays(-90)), _ => (first.AddDays(-120), first.AddDays(-90))),
        ];
    }

    private async Task AssertEveryRangeMatches(AnalyticsReference reference, List<RangeCase> ranges, long last)
    {
        foreach (var range in ranges)
        {
            var before = AnalyticsApi.Today();
            var actual = await AnalyticsApi.GetAsync(App, range.Query, last);
            var (start, end) = Resolve(range, before, actual);
            AnalyticsApi.AssertMatches(reference.Expected(start, end), actual, $"[{range.Name}: {AnalyticsApi.Url(range.Query)}] $");
        }

        // The CSV report of two ranges, through both ways of asking for it.
        foreach (var (range, viaAccept) in new[] { (ranges[1], true), (ranges[2], false) })
        {
            var (body, mediaType, disposition) = await AnalyticsApi.GetCsvAsync(App, range.Query, last, viaAccept);
            var (start, end) = range.Resolve(AnalyticsApi.Today());
            Assert.Equal("text/csv", mediaType);
            Assert.Equal($"attachment; filename=\"gallery-analytics-{AnalyticsApi.Day(start)}-{AnalyticsApi.Day(end)}.csv\"", disposition);
            AnalyticsApi.AssertCsv(AnalyticsReference.Csv(reference.Expected(start, end)), body);
        }
    }

    /// <summary>
    /// The days a query stands for. A defaulted end is "today" on the server: if the UTC date changed during the request,
    /// the response's own <c>dateRange.end</c> tells which of the two days the server took.
    /// </summary>
    private static (DateOnly Start, DateOnly End) Resolve(RangeCase range, DateOnly before, JsonElement actual)
    {
        var after = AnalyticsApi.Today();
        if (!range.UsesToday || after == before)
        {
            return range.Resolve(before);
        }

        var end = actual.GetProperty("analytics").GetProperty("dateRange").GetProperty("end").GetString();
        return range.Resolve(end is not null && end.StartsWith(AnalyticsApi.Day(after), StringComparison.Ordinal) ? after : before);
    }
}
