using System.Globalization;
using System.Text;
using System.Text.Json;
using Marten;
using Projections.ReadModels;
using Projections.Ingest;

namespace Projections.Analytics;

public sealed record TopArtist(string OrgId, string ArtistName, ArtistFigures Figures);

/// <summary>The figures of one range: its totals, its timeline and its top artists.</summary>
public sealed record AnalyticsPeriod(AnalyticsRange Range, AnalyticsFigures Totals, IReadOnlyList<(DateOnly Day, DayLine Line)> Timeline,
    IReadOnlyList<TopArtist> TopArtists);

/// <summary>
/// The Admin Analytics answer for one range in one zone, and the previous period when asked for, summed from the
/// zone's day and month buckets (never from orders, carts or clicks), and written as the seed's JSON or as the seed's
/// CSV export.
/// </summary>
public sealed class AnalyticsReport(AnalyticsPeriod period, AnalyticsPeriod? previous, decimal commissionRate)
{
    public const int TopArtistCount = 10;

    /// <param name="gallery">The slot the gallery's buckets and artist names are read from (GalleryAnalytics).</param>
    /// <param name="referrals">The slot the referral buckets are read from (ReferralAnalytics).</param>
    /// <param name="range">The range, in its zone.</param>
    /// <param name="comparePrevious">Whether to load the previous period too (<c>compare=previous_period</c>).</param>
    /// <param name="commissionRate">The gallery's share.</param>
    /// <param name="cancellation">Cancels the loading.</param>
    public static async Task<AnalyticsReport> LoadAsync(IQuerySession gallery, IQuerySession referrals, AnalyticsRange range, bool comparePrevious,
        decimal commissionRate, CancellationToken cancellation)
    {
        var previousRange = comparePrevious ? range.Previous() : null;
        // One read per projection for both periods' buckets.
        var ids = (previousRange is null ? range.BucketIds() : [.. range.BucketIds(), .. previousRange.BucketIds()]).Distinct().ToList();
        var buckets = (await gallery.LoadManyAsync<AnalyticsBucket>(cancellation, ids)).ToDictionary(b => b.Id, StringComparer.Ordinal);
        var referralBuckets = (await referrals.LoadManyAsync<ReferralBucket>(cancellation, ids)).ToDictionary(b => b.Id, StringComparer.Ordinal);
        var current = Sum(range, buckets, referralBuckets);
        (AnalyticsRange Range, AnalyticsFigures Totals, List<KeyValuePair<string, ArtistFigures>> Top)? previous =
            previousRange is null ? null : Sum(previousRange, buckets, referralBuckets);

        var names = new HashSet<string>(current.Top.Select(a => a.Key).Concat(previous?.Top.Select(a => a.Key) ?? []), StringComparer.Ordinal);
        var profiles = names.Count == 0
            ? new Dictionary<string, string>()
            : (await gallery.LoadManyAsync<ArtistProfile>(cancellation, names)).ToDictionary(p => p.Id, p => p.Name);
        AnalyticsPeriod Period((AnalyticsRange Range, AnalyticsFigures Totals, List<KeyValuePair<string, ArtistFigures>> Top) sum) =>
            new(sum.Range, sum.Totals, [.. sum.Range.Days.Select(day => (day, LineOf(buckets, sum.Range, day)))],
                [.. sum.Top.Select(a => new TopArtist(a.Key, profiles.GetValueOrDefault(a.Key) ?? a.Key, a.Value))]);
        return new AnalyticsReport(Period(current), previous is null ? null : Period(previous.Value), commissionRate);
    }

    private static (AnalyticsRange Range, AnalyticsFigures Totals, List<KeyValuePair<string, ArtistFigures>> Top) Sum(AnalyticsRange range,
        Dictionary<string, AnalyticsBucket> buckets, Dictionary<string, ReferralBucket> referralBuckets)
    {
        var totals = new AnalyticsFigures();
        var referrals = new AnalyticsFigures();
        foreach (var id in range.BucketIds())
        {
            if (buckets.TryGetValue(id, out var bucket))
            {
                totals.Add(bucket.Figures, +1);
            }

            if (referralBuckets.TryGetValue(id, out var referral))
            {
                referrals.Add(referral.Figures, +1);
            }
        }

        // The referral figures are ReferralAnalytics' alone (a gallery bucket kept before the split may still hold some).
        (totals.Referrals, totals.Conversions, totals.AttributedRevenue) = (referrals.Referrals, referrals.Conversions, referrals.AttributedRevenue);
        var top = totals.Artists.OrderByDescending(a => a.Value.Revenue).ThenBy(a => a.Key, StringComparer.Ordinal).Take(TopArtistCount).ToList();
        return (range, totals, top);
    }

    private static DayLine LineOf(Dictionary<string, AnalyticsBucket> buckets, AnalyticsRange range, DateOnly day)
    {
        if (buckets.TryGetValue(AnalyticsBucket.DayId(range.Zone, day), out var dayBucket))
        {
            var f = dayBucket.Figures;
            return new DayLine { Orders = f.Orders, Revenue = f.Revenue, NewCarts = f.NewCarts };
        }

        return buckets.TryGetValue(AnalyticsBucket.MonthId(range.Zone, day), out var month)
               && month.Days?.GetValueOrDefault(day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) is { } line
            ? line
            : new DayLine();
    }

    private decimal Commission(decimal revenue) => Money.Round(revenue * commissionRate);

    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteStartObject("analytics");
        WriteFigures(json, period);
        json.WriteStartArray("timeline");
        foreach (var (day, line) in period.Timeline)
        {
            json.WriteStartObject();
            json.WriteString("date", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            json.WriteNumber("orders", line.Orders);
            json.WriteNumber("revenue", Money.TwoDecimals(line.Revenue));
            json.WriteNumber("newCarts", line.NewCarts);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        WriteDateRange(json, period.Range);
        if (previous is not null)
        {
            json.WriteStartObject("previousPeriod");
            WriteFigures(json, previous);
            WriteDateRange(json, previous.Range);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>overview, ordersByStatus, topArtists, cartMetrics and referralMetrics of a period.</summary>
    private void WriteFigures(Utf8JsonWriter json, AnalyticsPeriod figures)
    {
        var totals = figures.Totals;
        var gallery = Commission(totals.Revenue);
        json.WriteStartObject("overview");
        json.WriteNumber("totalOrders", totals.Orders);
        json.WriteNumber("totalRevenue", Money.TwoDecimals(totals.Revenue));
        json.WriteNumber("galleryRevenue", Money.TwoDecimals(gallery));
        json.WriteNumber("artistPayouts", Money.TwoDecimals(totals.Revenue - gallery));
        json.WriteNumber("averageOrderValue", Money.TwoDecimals(Money.Ratio(totals.Revenue, totals.Orders)));
        json.WriteNumber("totalItemsSold", totals.ItemsSold);
        json.WriteEndObject();

        json.WriteStartObject("ordersByStatus");
        foreach (var status in EventContract.Statuses.Keys.OrderBy(s => EventContract.Statuses[s]))
        {
            json.WriteNumber(status, totals.Statuses.GetValueOrDefault(status));
        }

        json.WriteEndObject();

        json.WriteStartArray("topArtists");
        foreach (var artist in figures.TopArtists)
        {
            json.WriteStartObject();
            json.WriteString("orgId", artist.OrgId);
            json.WriteString("artistName", artist.ArtistName);
            json.WriteNumber("totalOrders", artist.Figures.Orders);
            json.WriteNumber("totalRevenue", Money.TwoDecimals(artist.Figures.Revenue));
            json.WriteNumber("artistPayout", Money.TwoDecimals(artist.Figures.Revenue - Commission(artist.Figures.Revenue)));
            json.WriteNumber("itemsSold", artist.Figures.ItemsSold);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartObject("cartMetrics");
        json.WriteNumber("activeCarts", totals.ActiveCarts);
        json.WriteNumber("averageCartValue", Money.TwoDecimals(Money.Ratio(totals.ActiveCartValue, totals.ActiveCarts)));
        json.WriteNumber("abandonmentRate", Money.TwoDecimals(Money.Percent(totals.ActiveCarts - totals.CheckedOutActiveCarts, totals.ActiveCarts)));
        json.WriteNumber("averageItemsPerCart", Money.TwoDecimals(Money.Ratio(totals.ActiveCartItems, totals.ActiveCarts)));
        json.WriteEndObject();

        json.WriteStartObject("referralMetrics");
        json.WriteNumber("totalReferrals", totals.Referrals);
        json.WriteNumber("conversions", totals.Conversions);
        json.WriteNumber("conversionRate", Money.TwoDecimals(Money.Percent(totals.Conversions, totals.Referrals)));
        json.WriteNumber("attributedRevenue", Money.TwoDecimals(totals.AttributedRevenue));
        json.WriteEndObject();
    }

    private static void WriteDateRange(Utf8JsonWriter json, AnalyticsRange range)
    {
        var (start, end) = range.Bounds();
        json.WriteStartObject("dateRange");
        json.WriteString("start", start);
        json.WriteString("end", end);
        json.WriteEndObject();
    }

    /// <summary>The name a range's CSV export is downloaded under.</summary>
    public static string CsvFileName(AnalyticsRange range) => $"gallery-analytics-{range.First:yyyy-MM-dd}-{range.Last:yyyy-MM-dd}.csv";

    /// <summary>
    /// The export the seed's dashboard built on the client (overview, top artists), plus the timeline; with the previous
    /// period, its overview and top artists after them. Outside UTC, each date range names its zone.
    /// </summary>
    public string ToCsv()
    {
        var csv = new StringBuilder();
        void Row(params object[] cells) => csv.Append(string.Join(',', cells.Select(Cell))).Append('\n');

        Row("Gallery Analytics Report");
        WriteCsvFigures(Row, period, "");
        Row("");
        Row("Timeline");
        Row("Date", "Orders", "Revenue", "New Carts");
        foreach (var (day, line) in period.Timeline)
        {
            Row(day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), line.Orders, Money.TwoDecimals(line.Revenue), line.NewCarts);
        }

        if (previous is not null)
        {
            Row("");
            Row("Previous Period");
            WriteCsvFigures(Row, previous, "Previous Period ");
        }

        return csv.ToString();
    }

    private void WriteCsvFigures(Action<object[]> row, AnalyticsPeriod figures, string heading)
    {
        var (range, totals) = (figures.Range, figures.Totals);
        var gallery = Commission(totals.Revenue);
        var zone = AnalyticsZones.IsUtc(range.Zone) ? "" : $" ({range.Zone.Id})";
        row([$"Date Range: {range.First:yyyy-MM-dd} to {range.Last:yyyy-MM-dd}{zone}"]);
        row([""]);
        row([heading + "Overview"]);
        row(["Total Orders", totals.Orders]);
        row(["Total Revenue", Money.TwoDecimals(totals.Revenue)]);
        row(["Gallery Revenue", Money.TwoDecimals(gallery)]);
        row(["Artist Payouts", Money.TwoDecimals(totals.Revenue - gallery)]);
        row(["Average Order Value", Money.TwoDecimals(Money.Ratio(totals.Revenue, totals.Orders))]);
        row(["Total Items Sold", totals.ItemsSold]);
        row([""]);
        row([heading + "Top Artists"]);
        row(["Artist", "Orders", "Revenue", "Payout", "Items Sold"]);
        foreach (var artist in figures.TopArtists)
        {
            var revenue = artist.Figures.Revenue;
            row([artist.ArtistName, artist.Figures.Orders, Money.TwoDecimals(revenue), Money.TwoDecimals(revenue - Commission(revenue)), artist.Figures.ItemsSold]);
        }
    }

    /// <summary>
    /// RFC 4180: quote a cell holding a comma, quote or line break, doubling its quotes. A text cell starting with
    /// <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage return would be a formula to a spreadsheet (OWASP "CSV
    /// injection"): it gets a leading apostrophe, so it reads as the text it is. Numbers are written as numbers.
    /// </summary>
    private static string Cell(object value)
    {
        var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        if (value is string && text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }

        return text.AsSpan().IndexOfAny(",\"\r\n\t") >= 0 ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;
    }
}
