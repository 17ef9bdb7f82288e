using Projections.Hosting;

namespace Projections.Analytics;

/// <summary>The <c>Analytics</c> configuration section.</summary>
public sealed class AnalyticsSettings : ISettings
{
    public static string Section => "Analytics";

    /// <summary>The gallery's share of product revenue (0.12: the 88/12 split); artists are paid the rest.</summary>
    public decimal GalleryCommissionRate { get; set; } = 0.12m;

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (GalleryCommissionRate is < 0m or > 1m)
        {
            yield return "Analytics:GalleryCommissionRate must be between 0 and 1.";
        }
    }
}

/// <summary>The analytics' settings, validated at startup.</summary>
public static class AnalyticsSetup
{
    public static WebApplicationBuilder AddProjectionsAnalytics(this WebApplicationBuilder builder)
    {
        builder.AddSettings<AnalyticsSettings>();
        return builder;
    }
}
