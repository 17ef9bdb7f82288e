using Projections.Orders;
using Projections.Ingest;

namespace Projections.Analytics;

/// <summary>
/// What the analytics remember of one gallery order. Its status is the one with the latest <c>occurredAt</c>
/// (<c>order.placed</c> counts as <c>pending</c> at its own time, and loses a tie), so a status change that arrives
/// before its <c>order.placed</c> is kept.
/// </summary>
public sealed class OrderState : IDayContributor
{
    public string Id { get; set; } = "";
    public bool Placed { get; set; }
    public DateTimeOffset PlacedAt { get; set; }
    public IReadOnlyList<OrderItem> Items { get; set; } = [];
    public OrderStatus Status { get; set; } = OrderStatus.Pending;
    public DateTimeOffset? StatusAt { get; set; }

    public void Apply(object @event)
    {
        switch (@event)
        {
            // An order is placed once: another order.placed for it (published again under a new id) changes nothing.
            case OrderPlaced e when !Placed:
                (Placed, PlacedAt, Items) = (true, e.OccurredAt, e.Items);
                if (StatusAt is null || e.OccurredAt > StatusAt)
                {
                    (Status, StatusAt) = (OrderStatus.Pending, e.OccurredAt);
                }

                break;
            case OrderStatusChanged e when StatusAt is null || e.OccurredAt >= StatusAt:
                (Status, StatusAt) = (e.Status, e.OccurredAt);
                break;
        }
    }

    /// <summary>The order's figures, counted when it was placed; a cancelled order counts only as cancelled.</summary>
    public IEnumerable<(DateTimeOffset At, AnalyticsFigures Figures)> Contributions()
    {
        if (!Placed)
        {
            yield break;
        }

        var figures = new AnalyticsFigures();
        figures.Statuses[EventContract.StatusNames[Status]] = 1;
        if (Status != OrderStatus.Cancelled)
        {
            figures.Orders = 1;
            foreach (var item in Items)
            {
                var revenue = item.Quantity * item.UnitPrice;
                figures.Revenue += revenue;
                figures.ItemsSold += item.Quantity;
                if (!figures.Artists.TryGetValue(item.OrgId, out var artist))
                {
                    figures.Artists[item.OrgId] = artist = new ArtistFigures { Orders = 1 };
                }

                artist.Revenue += revenue;
                artist.ItemsSold += item.Quantity;
            }
        }

        yield return (PlacedAt, figures);
    }
}
