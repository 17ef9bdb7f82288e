namespace Projections.Inventory;

/// <summary>What the projection remembers of one product: enough to know what it adds to the inventory metrics.</summary>
public sealed class ProductState : Projections.ReadModels.IEntityState
{
    public string Id { get; set; } = "";
    public bool Created { get; set; }
    public bool Deleted { get; set; }
    public bool Active { get; set; }
    public decimal? Price { get; set; }
    public string Currency { get; set; } = "USD";
    public bool HasInventory { get; set; }
    public long Stock { get; set; }
    public long Reserved { get; set; }

    /// <summary>The product's own low-stock threshold; the configured default applies without one.</summary>
    public int? LowStockThreshold { get; set; }

    public void Apply(object @event)
    {
        switch (@event)
        {
            case ProductCreated e:
                (Created, Deleted, Active, Price, Currency) = (true, false, e.Active, e.Price, e.Currency);
                break;
            case ProductPriceSet e: (Price, Currency) = (e.Price, e.Currency); break;
            case ProductPriceRemoved: Price = null; break;
            case ProductActivated: Active = true; break;
            case ProductDeactivated: Active = false; break;
            case ProductDeleted: Deleted = true; break;
            // Any inventory event gives the product an inventory record, starting from stock 0 and reserved 0.
            case StockSet e: HasInventory = true; Stock = e.Quantity; break;
            case StockAdjusted e: HasInventory = true; Stock += e.Delta; break;
            case StockReserved e: HasInventory = true; Reserved += e.Quantity; break;
            // Releasing or shipping more than is reserved ends the reservation rather than making it negative.
            case ReservationReleased e: HasInventory = true; Reserved = Math.Max(0, Reserved - e.Quantity); break;
            case ReservationFulfilled e:
                HasInventory = true;
                Stock -= e.Quantity;
                Reserved = Math.Max(0, Reserved - e.Quantity);
                break;
            case LowStockThresholdSet e: HasInventory = true; LowStockThreshold = e.Threshold; break;
        }
    }

    /// <summary>A product counts once created and until deleted.</summary>
    public bool Counts => Created && !Deleted;

    public long Available => Stock - Reserved;
}

public sealed class CurrencyRevenue
{
    /// <summary>Products with both a price in this currency and an inventory record.</summary>
    public long Products { get; set; }
    public decimal Total { get; set; }
    public decimal Reserved { get; set; }
    public decimal Available { get; set; }
}

/// <summary>The product and inventory figures of the Metrics API for one view (active products, or all products).</summary>
public sealed class InventoryView
{
    public long TotalProducts { get; set; }
    public long ProductsWithInventory { get; set; }
    public long ProductsWithPricing { get; set; }
    public long StockQuantity { get; set; }
    public long ReservedQuantity { get; set; }
    public long AvailableQuantity { get; set; }
    public long InStock { get; set; }
    public long LowStock { get; set; }
    public long OutOfStock { get; set; }
    public decimal TotalRevenue { get; set; }
    public decimal ReservedRevenue { get; set; }
    public decimal AvailableRevenue { get; set; }
    public SortedDictionary<string, CurrencyRevenue> RevenueByCurrency { get; set; } = new(StringComparer.Ordinal);

    public void Count(ProductState product, int sign, int defaultLowStockThreshold)
    {
        TotalProducts += sign;
        if (product.Price is not null)
        {
            ProductsWithPricing += sign;
        }

        if (!product.HasInventory)
        {
            return;
        }

        var available = product.Available;
        ProductsWithInventory += sign;
        StockQuantity += sign * product.Stock;
        ReservedQuantity += sign * product.Reserved;
        AvailableQuantity += sign * available;
        if (available > 0)
        {
            InStock += sign;
            if (available <= (product.LowStockThreshold ?? defaultLowStockThreshold))
            {
                LowStock += sign;
            }
        }
        else
        {
            OutOfStock += sign;
        }

        if (product.Price is not { } price)
        {
            return;
        }

        var (total, reserved, free) = (sign * product.Stock * price, sign * product.Reserved * price, sign * available * price);
        TotalRevenue += total;
        ReservedRevenue += reserved;
        AvailableRevenue += free;
        if (!RevenueByCurrency.TryGetValue(product.Currency, out var byCurrency))
        {
            RevenueByCurrency[product.Currency] = byCurrency = new CurrencyRevenue();
        }

        byCurrency.Products += sign;
        byCurrency.Total += total;
        byCurrency.Reserved += reserved;
        byCurrency.Available += free;
        if (byCurrency.Products == 0)
        {
            RevenueByCurrency.Remove(product.Currency);
        }
    }
}

/// <summary>The inventory metrics for both <c>active_only</c> views. One document, kept by <see cref="InventoryMetricsProjection"/>.</summary>
public sealed class InventoryMetrics : Projections.ReadModels.IEntityState
{
    public const string DocumentId = "inventory";

    public string Id { get; set; } = DocumentId;
    public InventoryView ActiveProducts { get; set; } = new();
    public InventoryView AllProducts { get; set; } = new();

    public InventoryView View(bool activeOnly) => activeOnly ? ActiveProducts : AllProducts;

    public void Count(ProductState product, int sign, int defaultLowStockThreshold)
    {
        if (!product.Counts)
        {
            return;
        }

        AllProducts.Count(product, sign, defaultLowStockThreshold);
        if (product.Active)
        {
            ActiveProducts.Count(product, sign, defaultLowStockThreshold);
        }
    }
}
