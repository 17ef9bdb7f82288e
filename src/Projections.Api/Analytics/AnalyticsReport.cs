using System.Globalization;
using System.Text;
using System.Text.Json;
using Marten;
using Projections.ReadModels;
using Projections.Ingest;

namespace Projections.Analytics;

public sealed record TopArtist(string OrgId, string ArtistName, ArtistFigures Figures);

/// <summary>
/// The Admin Analytics answer for one range, summed from the range's day and month buckets (never from orders, carts
/// or clicks), and written as the seed's JSON or as the seed's CSV export.
/// </summary>
public sealed class AnalyticsReport(AnalyticsRange range, AnalyticsFigures totals, IReadOnlyList<(DateOnly Day, DayLine Line)> timeline,
    IReadOnlyList<TopArtist> topArtists, decimal commissionRate)
{
    public const int TopArtistCount = 10;

    public static async Task<AnalyticsReport> LoadAsync(IQuerySession session, AnalyticsRange range, decimal commissionRate, CancellationToken cancellation)
    {
        var buckets = (await session.LoadManyAsync<AnalyticsBucket>(cancellation, range.BucketIds())).ToDictionary(b => b.Id, StringComparer.Ordinal);
        var totals = new AnalyticsFigures();
        foreach (var bucket in buckets.Values)
        {
            totals.Add(bucket.Figures, +1);
        }

        var timeline = range.Days.Select(day => (day, LineOf(buckets, day))).ToList();
        var top = totals.Artists
            .OrderByDescending(a => a.Value.Revenue).ThenBy(a => a.Key, StringComparer.Ordinal)
            .Take(TopArtistCount).ToList();
        var names = top.Count == 0
            ? new Dictionary<string, string>()
            : (await session.LoadManyAsync<ArtistProfile>(cancellation, top.Select(a => a.Key))).ToDictionary(p => p.Id, p => p.Name);
        var artists = top.Select(a => new TopArtist(a.Key, names.GetValueOrDefault(a.Key) ?? a.Key, a.Value)).ToList();
        return new AnalyticsReport(range, totals, timeline, artists, commissionRate);
    }

    private static DayLine LineOf(Dictionary<string, AnalyticsBucket> buckets, DateOnly day)
    {
        if (buckets.TryGetValue(AnalyticsBucket.DayId(day), out var dayBucket))
        {
            var f = dayBucket.Figures;
            return new DayLine { Orders = f.Orders, Revenue = f.Revenue, NewCarts = f.NewCarts };
        }

        return buckets.TryGetValue(AnalyticsBucket.MonthId(day), out var month) && month.Days?.GetValueOrDefault(day.ToString("yyyy-MM-dd")) is { } line
            ? line
            : new DayLine();
    }

    private decimal Commission(decimal revenue) => Money.Round(revenue * commissionRate);

    private decimal GalleryRevenue => Commission(totals.Revenue);

    private decimal AverageOrderValue => Money.Ratio(totals.Revenue, totals.Orders);

    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteStartObject("analytics");

        json.WriteStartObject("overview");
        json.WriteNumber("totalOrders", totals.Orders);
        json.WriteNumber("totalRevenue", Money.TwoDecimals(totals.Revenue));
        json.WriteNumber("galleryRevenue", Money.TwoDecimals(GalleryRevenue));
        json.WriteNumber("artistPayouts", Money.TwoDecimals(totals.Revenue - GalleryRevenue));
        json.WriteNumber("averageOrderValue", Money.TwoDecimals(AverageOrderValue));
        json.WriteNumber("totalItemsSold", totals.ItemsSold);
        json.WriteEndObject();

        json.WriteStartObject("ordersByStatus");
        foreach (var status in EventContract.Statuses.Keys.OrderBy(s => EventContract.Statuses[s]))
        {
            json.WriteNumber(status, totals.Statuses.GetValueOrDefault(status));
        }

        json.WriteEndObject();

        json.WriteStartArray("topArtists");
        foreach (var artist in topArtists)
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

        json.WriteStartArray("timeline");
        foreach (var (day, line) in timeline)
        {
            json.WriteStartObject();
            json.WriteString("date", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            json.WriteNumber("orders", line.Orders);
            json.WriteNumber("revenue", Money.TwoDecimals(line.Revenue));
            json.WriteNumber("newCarts", line.NewCarts);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartObject("dateRange");
        json.WriteString("start", range.First.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T00:00:00Z");
        json.WriteString("end", range.Last.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T23:59:59Z");
        json.WriteEndObject();

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The name a range's CSV export is downloaded under.</summary>
    public static string CsvFileName(AnalyticsRange range) => $"gallery-analytics-{range.First:yyyy-MM-dd}-{range.Last:yyyy-MM-dd}.csv";

    /// <summary>The export the seed's dashboard built on the client (overview, top artists), plus the timeline.</summary>
    public string ToCsv()
    {
        var csv = new StringBuilder();
        void Row(params object[] cells) => csv.Append(string.Join(',', cells.Select(Cell))).Append('\n');

        Row("Gallery Analytics Report");
        Row($"Date Range: {range.First:yyyy-MM-dd} to {range.Last:yyyy-MM-dd}");
        Row("");
        Row("Overview");
        Row("Total Orders", totals.Orders);
        Row("Total Revenue", Money.TwoDecimals(totals.Revenue));
        Row("Gallery Revenue", Money.TwoDecimals(GalleryRevenue));
        Row("Artist Payouts", Money.TwoDecimals(totals.Revenue - GalleryRevenue));
        Row("Average Order Value", Money.TwoDecimals(AverageOrderValue));
        Row("Total Items Sold", totals.ItemsSold);
        Row("");
        Row("Top Artists");
        Row("Artist", "Orders", "Revenue", "Payout", "Items Sold");
        foreach (var artist in topArtists)
        {
            var revenue = artist.Figures.Revenue;
            Row(artist.ArtistName, artist.Figures.Orders, Money.TwoDecimals(revenue), Money.TwoDecimals(revenue - Commission(revenue)), artist.Figures.ItemsSold);
        }

        Row("");
        Row("Timeline");
        Row("Date", "Orders", "Revenue", "New Carts");
        foreach (var (day, line) in timeline)
        {
            Row(day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), line.Orders, Money.TwoDecimals(line.Revenue), line.NewCarts);
        }

        return csv.ToString();
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
