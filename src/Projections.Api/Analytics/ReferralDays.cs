using System.Globalization;
using Marten.Schema;
using Projections.ReadModels;

namespace Projections.Analytics;

/// <summary>A click as attribution compares them: the later one wins, and of two at the same instant the greater id.</summary>
public sealed record ClickRef(string ReferralId, DateTimeOffset At) : IComparable<ClickRef>
{
    public int CompareTo(ClickRef? other) => other is null ? 1
        : At != other.At ? At.CompareTo(other.At)
        : string.CompareOrdinal(ReferralId, other.ReferralId);

    public static bool operator >(ClickRef a, ClickRef b) => a.CompareTo(b) > 0;

    public static bool operator <(ClickRef a, ClickRef b) => a.CompareTo(b) < 0;

    public static ClickRef? Latest(ClickRef? a, ClickRef? b) => a is null ? b : b is null ? a : a > b ? a : b;
}

/// <summary>A click on its day, with the sales attributed to it.</summary>
public sealed class DayClick
{
    public string ReferralId { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public int Sales { get; set; }
    public decimal Revenue { get; set; }

    [System.Text.Json.Serialization.JsonIgnore]
    public ClickRef Ref => new(ReferralId, At);
}

/// <summary>A sale in the artist's store on its day, and the click it is attributed to (none: no click within 30 days).</summary>
public sealed class DaySale
{
    public string OrderId { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public decimal Amount { get; set; }
    public ClickRef? Click { get; set; }
}

/// <summary>
/// One visitor's clicks to one artist's store on one UTC day, and that visitor's sales in the store that day. What it
/// adds to its day: the clicks, those with at least one attributed sale, and the revenue attributed to them (a sale
/// counts on its click's day). A visitor's history is split by day, so however many clicks a visitor makes (every
/// visitor without a cookie may be "anonymous"), a batch reads and writes only the days it touches. Stored under
/// <c>referral_day</c> since <see cref="ReferralAnalyticsProjection"/> keeps it: a table of its own, so the days the
/// analytics kept before it cannot mix into its slots.
/// </summary>
[DocumentAlias("referral_day")]
public sealed class ReferralDay : IEntityState
{
    public string Id { get; set; } = "";
    public DateOnly Day { get; set; }

    /// <summary>In attribution order (time, then referral id).</summary>
    public List<DayClick> Clicks { get; set; } = [];

    public List<DaySale> Sales { get; set; } = [];

    public static string IdOf(string key, DateOnly day) => $"{key}|{day:yyyy-MM-dd}";

    /// <summary>What each click adds, by referral id: its instant, whether it converted, the revenue attributed to it.</summary>
    public Dictionary<string, (DateTimeOffset At, bool Converted, decimal Revenue)> Credits() =>
        Clicks.ToDictionary(c => c.ReferralId, c => (c.At, c.Sales > 0, c.Revenue), StringComparer.Ordinal);

    public static AnalyticsFigures Figures(bool converted, decimal revenue) =>
        new() { Referrals = 1, Conversions = converted ? 1 : 0, AttributedRevenue = revenue };

    /// <summary>The latest of the day's clicks at or before the instant.</summary>
    public ClickRef? LatestClickAtOrBefore(DateTimeOffset at)
    {
        var (low, high) = (0, Clicks.Count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            (low, high) = Clicks[middle].At <= at ? (middle + 1, high) : (low, middle);
        }

        return low == 0 ? null : Clicks[low - 1].Ref;
    }

    /// <summary>What the calendar keeps of this day.</summary>
    public ReferralDaySummary Summary()
    {
        var first = Clicks.Count == 0 ? null : Clicks[0];
        // Early sales: those before the day's first click, the only ones a click on an earlier day can take over.
        var early = Sales.Where(s => first is null || s.At < first.At).Select(s => (DateTimeOffset?)s.At).Min();
        return new ReferralDaySummary { FirstClick = first?.Ref, LastClick = Clicks.Count == 0 ? null : Clicks[^1].Ref, FirstEarlySale = early };
    }
}

/// <summary>What attribution needs to know of a day without reading it.</summary>
public sealed class ReferralDaySummary
{
    public ClickRef? FirstClick { get; set; }
    public ClickRef? LastClick { get; set; }

    /// <summary>The earliest sale of the day made before its first click (or any sale, on a day without clicks).</summary>
    public DateTimeOffset? FirstEarlySale { get; set; }
}

/// <summary>
/// The days of one year on which one visitor clicked through to one artist's store or bought in it, each with its
/// summary: a year of a visitor's activity in a few kilobytes, whatever the number of clicks. Stored under
/// <c>referral_calendar</c>, as <see cref="ReferralDay"/>.
/// </summary>
[DocumentAlias("referral_calendar")]
public sealed class ReferralCalendar : IEntityState
{
    public string Id { get; set; } = "";

    /// <summary>By day, <c>yyyy-MM-dd</c>.</summary>
    public SortedDictionary<string, ReferralDaySummary> Days { get; set; } = new(StringComparer.Ordinal);

    public static string IdOf(string key, int year) => $"{key}|{year.ToString("D4", CultureInfo.InvariantCulture)}";

    public static string DayKey(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
