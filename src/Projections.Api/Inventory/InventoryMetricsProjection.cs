// Inventory/: product and inventory events, each product's state and the inventory figures of the Metrics API with
// their projection and JSON fields. Uses ReadModels.
using Projections.ReadModels;

namespace Projections.Inventory;

/// <summary>
/// Keeps <see cref="InventoryMetrics"/> (both <c>active_only</c> views) from product and inventory events, through one
/// <see cref="ProductState"/> per product. Changing the default low-stock threshold needs a rebuild of this projection.
/// </summary>
public sealed class InventoryMetricsProjection(int defaultLowStockThreshold)
    : EntityTotalsProjection<ProductState, InventoryMetrics>(ProjectionName, IProductEvent.Types)
{
    public const string ProjectionName = "InventoryMetrics";

    protected override string TotalsId => InventoryMetrics.DocumentId;

    protected override string? EntityOf(object @event) => (@event as IProductEvent)?.ProductId;

    protected override ProductState NewState(string id) => new() { Id = id };

    protected override InventoryMetrics NewTotals() => new();

    protected override void Apply(ProductState state, object @event) => state.Apply(@event);

    protected override void Count(InventoryMetrics totals, ProductState state, int sign) => totals.Count(state, sign, defaultLowStockThreshold);
}
