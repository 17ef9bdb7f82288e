using Projections.Hosting;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Projections.Analytics;

/// <summary>
/// A range of whole days in a time zone (UTC by default), from <c>start_date</c>'s day through <c>end_date</c>'s day.
/// Each may be a date (<c>2024-01-31</c>, a calendar day in the zone) or an ISO-8601 instant (the day it falls on in the
/// zone). Defaults: the 30 days ending today, in the zone.
/// </summary>
public sealed partial record AnalyticsRange(DateOnly First, DateOnly Last, TimeZoneInfo Zone)
{
    public const int MaxDays = 366;
    public const int DefaultDays = 30;

    /// <summary>The days a range may cover: wide enough for any history (events start in 2000), with room at the
    /// calendar's ends for the days around a range (time zones, the previous period).</summary>
    public static readonly DateOnly Earliest = new(1900, 1, 1);

    public static readonly DateOnly Latest = new(9998, 12, 31);

    public int DayCount => Last.DayNumber - First.DayNumber + 1;

    public IEnumerable<DateOnly> Days => Enumerable.Range(0, DayCount).Select(First.AddDays);

    /// <summary>The previous period: as many days, ending the day before this range starts, in the same zone.</summary>
    public AnalyticsRange Previous() => new(First.AddDays(-DayCount), First.AddDays(-1), Zone);

    /// <summary>The range's first instant and last second, as <c>dateRange</c> shows them.</summary>
    public (string Start, string End) Bounds() =>
        (AnalyticsZones.Format(AnalyticsZones.StartOf(First, Zone), Zone), AnalyticsZones.Format(AnalyticsZones.EndOf(Last, Zone), Zone));

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$")]
    private static partial Regex DatePattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|z|[+-]\d{2}:?\d{2})?$")]
    private static partial Regex InstantPattern();

    /// <summary>The range, or a message saying what is wrong with the parameters.</summary>
    /// <param name="startDate">The <c>start_date</c> parameter.</param>
    /// <param name="endDate">The <c>end_date</c> parameter.</param>
    /// <param name="now">The service's clock.</param>
    /// <param name="zone">The zone whose calendar days the range covers.</param>
    public static (AnalyticsRange? Range, string? Error) Parse(string? startDate, string? endDate, DateTimeOffset now, TimeZoneInfo zone)
    {
        var today = AnalyticsZones.DayOf(now, zone);
        DateOnly? start = null, end = null;
        if (!string.IsNullOrEmpty(startDate))
        {
            if (ParseDay(startDate, zone) is not { } s)
            {
                return (null, $"start_date '{Problems.Quote(startDate)}' is not a date (YYYY-MM-DD) or an ISO-8601 instant.");
            }

            start = s;
        }

        if (!string.IsNullOrEmpty(endDate))
        {
            if (ParseDay(endDate, zone) is not { } e)
            {
                return (null, $"end_date '{Problems.Quote(endDate)}' is not a date (YYYY-MM-DD) or an ISO-8601 instant.");
            }

            end = e;
        }

        foreach (var (name, day) in new[] { ("start_date", start), ("end_date", end) })
        {
            if (day is { } given && (given < Earliest || given > Latest))
            {
                return (null, $"{name} ({given:yyyy-MM-dd}) must be from {Earliest:yyyy-MM-dd} to {Latest:yyyy-MM-dd}.");
            }
        }

        var last = end ?? today;
        var first = start ?? (last.DayNumber - (DefaultDays - 1) >= Earliest.DayNumber ? last.AddDays(-(DefaultDays - 1)) : Earliest);
        if (first > last)
        {
            return (null, $"start_date ({first:yyyy-MM-dd}) is after end_date ({last:yyyy-MM-dd}).");
        }

        var range = new AnalyticsRange(first, last, zone);
        return range.DayCount > MaxDays
            ? (null, $"The range covers {range.DayCount} days; at most {MaxDays} are allowed.")
            : (range, null);
    }

    private static DateOnly? ParseDay(string text, TimeZoneInfo zone)
    {
        text = text.Trim();
        if (DatePattern().IsMatch(text))
        {
            return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null;
        }

        // An instant without an offset is taken as UTC; an instant is counted on the day it falls on in the zone.
        return InstantPattern().IsMatch(text)
               && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)
            ? AnalyticsZones.DayOf(instant, zone)
            : null;
    }

    /// <summary>
    /// The buckets that cover the range exactly: a month bucket for every month wholly inside it, a day bucket for every
    /// other day. A year is about a dozen month buckets and the days of the partial months at either end.
    /// </summary>
    public IReadOnlyList<string> BucketIds()
    {
        var ids = new List<string>();
        for (var day = First; day <= Last;)
        {
            var monthStart = new DateOnly(day.Year, day.Month, 1);
            var monthEnd = monthStart.AddMonths(1).AddDays(-1);
            if (day == monthStart && monthEnd <= Last)
            {
                ids.Add(AnalyticsBucket.MonthId(Zone, day));
                day = monthEnd.AddDays(1);
            }
            else
            {
                ids.Add(AnalyticsBucket.DayId(Zone, day));
                day = day.AddDays(1);
            }
        }

        return ids;
    }
}
