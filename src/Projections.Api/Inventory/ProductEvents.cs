namespace Projections.Inventory;

// Product catalogue and inventory events. All of them belong to the product's stream, so a product's own events
// are applied in the order the publisher sent them.

public interface IProductEvent
{
    string ProductId { get; }

    /// <summary>Every product and inventory event type.</summary>
    static IReadOnlyList<Type> Types { get; } =
    [
        typeof(ProductCreated), typeof(ProductPriceSet), typeof(ProductPriceRemoved), typeof(ProductActivated), typeof(ProductDeactivated),
        typeof(ProductDeleted), typeof(StockSet), typeof(StockAdjusted), typeof(StockReserved), typeof(ReservationReleased),
        typeof(ReservationFulfilled), typeof(LowStockThresholdSet),
    ];
}

public sealed record ProductCreated(string ProductId, string OrgId, string Name, bool Active, decimal? Price, string Currency, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record ProductPriceSet(string ProductId, decimal Price, string Currency, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record ProductPriceRemoved(string ProductId, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record ProductActivated(string ProductId, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record ProductDeactivated(string ProductId, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record ProductDeleted(string ProductId, DateTimeOffset OccurredAt) : IProductEvent;

public sealed record StockSet(string ProductId, int Quantity, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record StockAdjusted(string ProductId, int Delta, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record StockReserved(string ProductId, int Quantity, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record ReservationReleased(string ProductId, int Quantity, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record ReservationFulfilled(string ProductId, int Quantity, DateTimeOffset OccurredAt) : IProductEvent;
public sealed record LowStockThresholdSet(string ProductId, int Threshold, DateTimeOffset OccurredAt) : IProductEvent;
