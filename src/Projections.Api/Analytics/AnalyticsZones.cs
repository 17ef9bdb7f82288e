using System.Globalization;

namespace Projections.Analytics;

/// <summary>
/// The time zones the analytics keep buckets for: UTC first, then those of <c>Analytics:TimeZones</c>. A day is a
/// calendar day in its zone, with the zone's daylight-saving changes (23 or 25 hours) and fractional offsets (+05:45).
/// </summary>
public sealed class AnalyticsZones
{
    public AnalyticsZones(IEnumerable<string> configured)
    {
        var zones = new List<TimeZoneInfo> { TimeZoneInfo.Utc };
        foreach (var zone in configured.Select(Find).OfType<TimeZoneInfo>())
        {
            if (zones.All(z => z.Id != zone.Id))
            {
                zones.Add(zone);
            }
        }

        All = zones;
    }

    /// <summary>UTC, then the configured zones.</summary>
    public IReadOnlyList<TimeZoneInfo> All { get; }

    /// <summary>The zones' ids, which name their buckets: what a slot of the projection covers.</summary>
    public IReadOnlyList<string> Ids => [.. All.Select(z => z.Id)];

    /// <summary>The served zone with this name (any case), or null.</summary>
    public TimeZoneInfo? Served(string name) => All.FirstOrDefault(z => z.Id.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>A zone this machine knows by its IANA name (or "UTC"), or null.</summary>
    public static TimeZoneInfo? Find(string name)
    {
        if (name.Equals("UTC", StringComparison.OrdinalIgnoreCase))
        {
            return TimeZoneInfo.Utc;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    public static bool IsUtc(TimeZoneInfo zone) => zone.Id == TimeZoneInfo.Utc.Id;

    /// <summary>The calendar day of an instant in the zone.</summary>
    public static DateOnly DayOf(DateTimeOffset at, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(IsUtc(zone) ? at.UtcDateTime : TimeZoneInfo.ConvertTime(at, zone).DateTime);

    /// <summary>The first instant of a calendar day in the zone (its midnight, or the first time after it where a
    /// daylight-saving change skips midnight), with the zone's offset then.</summary>
    public static DateTimeOffset StartOf(DateOnly day, TimeZoneInfo zone)
    {
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(1);
        }

        // Midnight twice (a change back at midnight): the day starts at the first, under the greater offset.
        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset);
    }

    /// <summary>The last second of a calendar day in the zone, with the zone's offset then.</summary>
    public static DateTimeOffset EndOf(DateOnly day, TimeZoneInfo zone)
    {
        var local = day.ToDateTime(new TimeOnly(23, 59, 59), DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(-1);
        }

        // 23:59:59 twice: the day ends at the second, under the smaller offset.
        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Min() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset);
    }

    /// <summary>An instant of <see cref="StartOf"/>/<see cref="EndOf"/> as the answer writes it: <c>Z</c> in UTC, the
    /// offset otherwise.</summary>
    public static string Format(DateTimeOffset at, TimeZoneInfo zone) => IsUtc(zone)
        ? at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
        : at.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}
