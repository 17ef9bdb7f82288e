namespace Projections.Analytics;

/// <summary>The <c>Analytics</c> configuration section.</summary>
public sealed class AnalyticsSettings
{
    public const string Section = "Analytics";

    /// <summary>The gallery's share of product revenue (0.12: the 88/12 split); artists are paid the rest.</summary>
    public decimal GalleryCommissionRate { get; set; } = 0.12m;
}
