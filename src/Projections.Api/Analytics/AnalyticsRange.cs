using Projections.Hosting;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Projections.Analytics;

/// <summary>
/// A range of whole UTC days, from <c>start_date</c>'s day through <c>end_date</c>'s day. Each may be a date
/// (<c>2024-01-31</c>) or an ISO-8601 instant (converted to UTC first). Defaults: the 30 days ending today.
/// </summary>
public sealed partial record AnalyticsRange(DateOnly First, DateOnly Last)
{
    public const int MaxDays = 366;
    public const int DefaultDays = 30;

    /// <summary>The days a range may cover: wide enough for any history (events start in 2000), with room at the
    /// calendar's ends for the days around a range (time zones, the previous period).</summary>
    public static readonly DateOnly Earliest = new(1900, 1, 1);

    public static readonly DateOnly Latest = new(9998, 12, 31);

    public int DayCount => Last.DayNumber - First.DayNumber + 1;

    public IEnumerable<DateOnly> Days => Enumerable.Range(0, DayCount).Select(First.AddDays);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$")]
    private static partial Regex DatePattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|z|[+-]\d{2}:?\d{2})?$")]
    private static partial Regex InstantPattern();

    /// <summary>The range, or a message saying what is wrong with the parameters.</summary>
    public static (AnalyticsRange? Range, string? Error) Parse(string? startDate, string? endDate, DateOnly today)
    {
        DateOnly? start = null, end = null;
        if (!string.IsNullOrEmpty(startDate))
        {
            if (ParseDay(startDate) is not { } s)
            {
                return (null, $"start_date '{Problems.Quote(startDate)}' is not a date (YYYY-MM-DD) or an ISO-8601 instant.");
            }

            start = s;
        }

        if (!string.IsNullOrEmpty(endDate))
        {
            if (ParseDay(endDate) is not { } e)
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

        var range = new AnalyticsRange(first, last);
        return range.DayCount > MaxDays
            ? (null, $"The range covers {range.DayCount} days; at most {MaxDays} are allowed.")
            : (range, null);
    }

    private static DateOnly? ParseDay(string text)
    {
        text = text.Trim();
        if (DatePattern().IsMatch(text))
        {
            return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null;
        }

        // An instant without an offset is taken as UTC.
        return InstantPattern().IsMatch(text)
               && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)
            ? DateOnly.FromDateTime(instant.UtcDateTime)
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
                ids.Add(AnalyticsBucket.MonthId(day));
                day = monthEnd.AddDays(1);
            }
            else
            {
                ids.Add(AnalyticsBucket.DayId(day));
                day = day.AddDays(1);
            }
        }

        return ids;
    }
}
