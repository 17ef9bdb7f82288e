using Projections.Hosting;

namespace Projections.Analytics;

/// <summary>The <c>Analytics</c> configuration section.</summary>
public sealed class AnalyticsSettings : ISettings
{
    public static string Section => "Analytics";

    /// <summary>The gallery's share of product revenue (0.12: the 88/12 split); artists are paid the rest.</summary>
    public decimal GalleryCommissionRate { get; set; } = 0.12m;

    /// <summary>The time zones (IANA names, e.g. <c>Europe/Berlin</c>) the analytics keep day and month buckets for, besides
    /// UTC, which is always kept. A zone added here is served once <c>GalleryAnalytics</c> has been rebuilt.</summary>
    public List<string> TimeZones { get; set; } = [];

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (GalleryCommissionRate is < 0m or > 1m)
        {
            yield return "Analytics:GalleryCommissionRate must be between 0 and 1.";
        }

        foreach (var name in TimeZones.Where(name => AnalyticsZones.Find(name) is null))
        {
            yield return $"Analytics:TimeZones: '{name}' is not a time zone this machine knows (an IANA name such as Europe/Berlin).";
        }
    }

    /// <summary>UTC and the configured zones, each once.</summary>
    public AnalyticsZones Zones() => new(TimeZones);
}

/// <summary>The analytics' settings, validated at startup.</summary>
public static class AnalyticsSetup
{
    public static WebApplicationBuilder AddProjectionsAnalytics(this WebApplicationBuilder builder)
    {
        var settings = builder.AddSettings<AnalyticsSettings>();
        builder.Services.AddSingleton(settings.Zones());
        return builder;
    }
}
