// Carts/: the cart events. Uses nothing; the analytics keep what they need of a cart.

namespace Projections.Carts;

public sealed record CartCreated(string CartId, string? CustomerId, DateTimeOffset OccurredAt);
public sealed record CartItemAdded(string CartId, string ProductId, int Quantity, decimal UnitPrice, DateTimeOffset OccurredAt);
public sealed record CartItemRemoved(string CartId, string ProductId, int Quantity, DateTimeOffset OccurredAt);
public sealed record CartCheckedOut(string CartId, string OrderId, DateTimeOffset OccurredAt);
