// Orders/: the gallery order events. Uses nothing; the analytics keep what they need of an order.

namespace Projections.Orders;

public enum OrderStatus { Pending, Paid, Processing, PartiallyShipped, Shipped, Delivered, Cancelled }

public sealed record OrderItem(string ProductId, string OrgId, int Quantity, decimal UnitPrice);

public sealed record OrderPlaced(string OrderId, IReadOnlyList<OrderItem> Items, string? CustomerId, string? CartId, string Currency, DateTimeOffset OccurredAt);
public sealed record OrderStatusChanged(string OrderId, OrderStatus Status, DateTimeOffset OccurredAt);
