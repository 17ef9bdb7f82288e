using Projections.Analytics;
using Projections.Hosting;
using Projections.Ingest;
using Projections.Inventory;
using Projections.ReadModels;
using Projections.Users;

namespace Projections;

/// <summary>
/// The service's projections, and the events stored for them: the one list the projection engine (ReadModels/) runs.
/// Adding a projection is a line here and a folder of its own.
/// </summary>
public static class Catalogue
{
    public static IReadOnlyList<IReadModelBuilder> Projections(WebApplicationBuilder builder)
    {
        var projections = builder.AddSettings<ProjectionSettings>();
        var zones = builder.AddSettings<AnalyticsSettings>().Zones();
        return
        [
            new UserMetricsProjection(),
            new InventoryMetricsProjection(projections.LowStockThreshold),
            new GalleryAnalyticsProjection(zones),
            new ReferralAnalyticsProjection(zones),
        ];
    }

    /// <summary>Every event type of the v1 contract, stored under its wire name.</summary>
    public static IReadOnlyList<(Type ClrType, string Name)> EventTypes { get; } = [.. EventContract.Types.Select(t => (t.ClrType, t.Name))];
}
