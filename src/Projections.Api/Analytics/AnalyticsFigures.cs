using System.Text.Json;
using System.Text.Json.Serialization;
using Projections.ReadModels;

namespace Projections.Analytics;

/// <summary>An order or a cart: applies its events and says what it adds to the analytics, and when (the projection
/// files that under the day it falls on in each zone).</summary>
public interface IDayContributor : IEntityState
{
    void Apply(object @event);

    IEnumerable<(DateTimeOffset At, AnalyticsFigures Figures)> Contributions();
}

/// <summary>What one artist adds up to within a bucket of days. Stored as <c>[orders, revenue, itemsSold]</c>
/// (<see cref="ArtistFiguresJson"/>).</summary>
[JsonConverter(typeof(ArtistFiguresJson))]
public sealed class ArtistFigures
{
    public long Orders { get; set; }
    public decimal Revenue { get; set; }
    public long ItemsSold { get; set; }
}

/// <summary>
/// Stores <see cref="ArtistFigures"/> as an array of its three figures instead of an object with their names. Every day
/// and month bucket carries a figure per artist who sold that day or month (about 700 and 1,000 at <c>large</c>), and
/// every daemon batch loads, rewrites and stores each bucket it touches, so the names were half of what the buckets'
/// JSON cost to read, write and keep. Reads the object form too (buckets written before), which the next write
/// replaces.
/// </summary>
public sealed class ArtistFiguresJson : JsonConverter<ArtistFigures>
{
    public override ArtistFigures Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var figures = new ArtistFigures();
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            Next(ref reader);
            figures.Orders = reader.GetInt64();
            Next(ref reader);
            figures.Revenue = reader.GetDecimal();
            Next(ref reader);
            figures.ItemsSold = reader.GetInt64();
            if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
            {
                throw new JsonException("An artist's figures are [orders, revenue, itemsSold].");
            }

            return figures;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("An artist's figures are [orders, revenue, itemsSold].");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "orders" or "Orders": figures.Orders = reader.GetInt64(); break;
                case "revenue" or "Revenue": figures.Revenue = reader.GetDecimal(); break;
                case "itemsSold" or "ItemsSold": figures.ItemsSold = reader.GetInt64(); break;
                default: reader.Skip(); break;
            }
        }

        return figures;
    }

    public override void Write(Utf8JsonWriter writer, ArtistFigures value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Orders);
        writer.WriteNumberValue(value.Revenue);
        writer.WriteNumberValue(value.ItemsSold);
        writer.WriteEndArray();
    }

    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.Number)
        {
            throw new JsonException("An artist's figures are [orders, revenue, itemsSold].");
        }
    }
}

/// <summary>
/// The additive figures of the Admin Analytics API for a set of days: what one order, cart or referral contributes to
/// its day, and what a day or month bucket holds. Buckets are sums of contributions, so a range is the sum of its buckets.
/// </summary>
public sealed class AnalyticsFigures
{
    // Gallery orders (not cancelled), by the UTC day they were placed.
    public long Orders { get; set; }
    public decimal Revenue { get; set; }
    public long ItemsSold { get; set; }

    /// <summary>Orders by current status, keyed by wire name (cancelled included).</summary>
    public SortedDictionary<string, long> Statuses { get; set; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, ArtistFigures> Artists { get; set; } = new(StringComparer.Ordinal);

    // Carts, by the UTC day they were created.
    public long NewCarts { get; set; }
    public long ActiveCarts { get; set; }
    public long CheckedOutActiveCarts { get; set; }
    public decimal ActiveCartValue { get; set; }
    public long ActiveCartItems { get; set; }

    // Referral clicks, by the UTC day of the click.
    public long Referrals { get; set; }
    public long Conversions { get; set; }
    public decimal AttributedRevenue { get; set; }

    /// <summary>Adds (sign 1) or takes out (sign -1) another set of figures; entries that reach zero are dropped.</summary>
    public void Add(AnalyticsFigures other, int sign)
    {
        Orders += sign * other.Orders;
        Revenue += sign * other.Revenue;
        ItemsSold += sign * other.ItemsSold;
        foreach (var (status, count) in other.Statuses)
        {
            var total = Statuses.GetValueOrDefault(status) + sign * count;
            if (total == 0)
            {
                Statuses.Remove(status);
            }
            else
            {
                Statuses[status] = total;
            }
        }

        foreach (var (org, figures) in other.Artists)
        {
            if (!Artists.TryGetValue(org, out var mine))
            {
                Artists[org] = mine = new ArtistFigures();
            }

            mine.Orders += sign * figures.Orders;
            mine.Revenue += sign * figures.Revenue;
            mine.ItemsSold += sign * figures.ItemsSold;
            if (mine is { Orders: 0, ItemsSold: 0 } && mine.Revenue == 0)
            {
                Artists.Remove(org);
            }
        }

        NewCarts += sign * other.NewCarts;
        ActiveCarts += sign * other.ActiveCarts;
        CheckedOutActiveCarts += sign * other.CheckedOutActiveCarts;
        ActiveCartValue += sign * other.ActiveCartValue;
        ActiveCartItems += sign * other.ActiveCartItems;
        Referrals += sign * other.Referrals;
        Conversions += sign * other.Conversions;
        AttributedRevenue += sign * other.AttributedRevenue;
    }
}

/// <summary>One day's line of the timeline.</summary>
public sealed class DayLine
{
    public long Orders { get; set; }
    public decimal Revenue { get; set; }
    public long NewCarts { get; set; }
}

/// <summary>A bucket of days that figures are filed under (<see cref="DayBuckets"/>).</summary>
public interface IFiguresBucket
{
    AnalyticsFigures Figures { get; }

    void Add(DateOnly day, AnalyticsFigures figures, int sign);
}

/// <summary>
/// The referral figures (clicks, conversions, attributed revenue) of one day or month in a zone, kept by
/// <see cref="ReferralAnalyticsProjection"/> under the same ids as <see cref="AnalyticsBucket"/>; a report adds them to
/// the gallery's buckets of the same days.
/// </summary>
public sealed class ReferralBucket : IEntityState, IFiguresBucket
{
    public string Id { get; set; } = "";
    public AnalyticsFigures Figures { get; set; } = new();

    public void Add(DateOnly day, AnalyticsFigures figures, int sign) => Figures.Add(figures, sign);
}

/// <summary>
/// A read model of the analytics: the figures of one UTC day (<c>day:2024-01-05</c>) or one month
/// (<c>month:2024-01</c>). A month bucket also keeps each of its days' timeline line, so a long range reads a dozen
/// month buckets plus the days of its partial months at either end.
/// </summary>
public sealed class AnalyticsBucket : IEntityState, IFiguresBucket
{
    public string Id { get; set; } = "";
    public AnalyticsFigures Figures { get; set; } = new();

    /// <summary>Month buckets only: the timeline line of each day of the month that has one.</summary>
    public SortedDictionary<string, DayLine>? Days { get; set; }

    /// <summary>A day's bucket in a zone: <c>day:2024-01-05</c> in UTC, <c>day:Europe/Berlin:2024-01-05</c> in another.</summary>
    public static string DayId(TimeZoneInfo zone, DateOnly day) => $"day:{Prefix(zone)}{day:yyyy-MM-dd}";

    /// <summary>A month's bucket in a zone: <c>month:2024-01</c> in UTC, <c>month:Europe/Berlin:2024-01</c> in another.</summary>
    public static string MonthId(TimeZoneInfo zone, DateOnly day) => $"month:{Prefix(zone)}{day:yyyy-MM}";

    private static string Prefix(TimeZoneInfo zone) => AnalyticsZones.IsUtc(zone) ? "" : zone.Id + ":";

    public void Add(DateOnly day, AnalyticsFigures figures, int sign)
    {
        Figures.Add(figures, sign);
        if (Days is null)
        {
            return;
        }

        var key = day.ToString("yyyy-MM-dd");
        var line = Days.TryGetValue(key, out var existing) ? existing : Days[key] = new DayLine();
        line.Orders += sign * figures.Orders;
        line.Revenue += sign * figures.Revenue;
        line.NewCarts += sign * figures.NewCarts;
        if (line is { Orders: 0, NewCarts: 0 } && line.Revenue == 0)
        {
            Days.Remove(key);
        }
    }
}
