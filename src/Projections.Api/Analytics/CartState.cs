using Projections.Carts;

namespace Projections.Analytics;

public sealed class CartLine
{
    /// <summary>A long: within the limits a line can grow past what an int holds (2,148 adds of a million).</summary>
    public long Quantity { get; set; }

    /// <summary>The unit price of the latest <c>cart.item_added</c> for the product.</summary>
    public decimal UnitPrice { get; set; }
}

/// <summary>What the analytics remember of one cart; everything about it counts on the day it was created.</summary>
public sealed class CartState : IDayContributor
{
    public string Id { get; set; } = "";
    public bool Created { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public SortedDictionary<string, CartLine> Lines { get; set; } = new(StringComparer.Ordinal);
    public bool CheckedOut { get; set; }

    public void Apply(object @event)
    {
        switch (@event)
        {
            // A cart is created once: another cart.created for it changes nothing.
            case CartCreated e when !Created:
                (Created, CreatedAt) = (true, e.OccurredAt);
                break;
            case CartItemAdded e:
                var line = Lines.TryGetValue(e.ProductId, out var existing) ? existing : Lines[e.ProductId] = new CartLine();
                line.Quantity += e.Quantity;
                line.UnitPrice = e.UnitPrice;
                break;
            case CartItemRemoved e when Lines.TryGetValue(e.ProductId, out var removed):
                // Removing more than is there empties the line.
                removed.Quantity -= e.Quantity;
                if (removed.Quantity <= 0)
                {
                    Lines.Remove(e.ProductId);
                }

                break;
            case CartCheckedOut:
                // A checked-out cart keeps its contents.
                CheckedOut = true;
                break;
        }
    }

    public IEnumerable<(DateTimeOffset At, AnalyticsFigures Figures)> Contributions()
    {
        if (!Created)
        {
            yield break;
        }

        var figures = new AnalyticsFigures { NewCarts = 1 };
        if (Lines.Count > 0)
        {
            figures.ActiveCarts = 1;
            figures.CheckedOutActiveCarts = CheckedOut ? 1 : 0;
            figures.ActiveCartValue = Lines.Values.Sum(l => l.Quantity * l.UnitPrice);
            figures.ActiveCartItems = Lines.Values.Sum(l => l.Quantity);
        }

        yield return (CreatedAt, figures);
    }
}
