using System.Text.Json;

namespace Projections.Inventory;

/// <summary>The Metrics API's product and inventory fields (snake_case names from the seed), written from one view.</summary>
public static class InventoryJson
{
    public static void Write(Utf8JsonWriter json, InventoryView view)
    {
        json.WriteNumber("total_products", view.TotalProducts);
        json.WriteNumber("total_products_with_inventory", view.ProductsWithInventory);
        json.WriteNumber("total_products_with_pricing", view.ProductsWithPricing);
        json.WriteNumber("total_stock_quantity", view.StockQuantity);
        json.WriteNumber("total_reserved_quantity", view.ReservedQuantity);
        json.WriteNumber("total_available_quantity", view.AvailableQuantity);
        json.WriteNumber("products_in_stock", view.InStock);
        json.WriteNumber("products_low_stock", view.LowStock);
        json.WriteNumber("products_out_of_stock", view.OutOfStock);
        // The seed's three revenue figures add up every currency; the same figures per currency follow.
        json.WriteNumber("total_inventory_revenue", Money(view.TotalRevenue));
        json.WriteNumber("reserved_inventory_revenue", Money(view.ReservedRevenue));
        json.WriteNumber("available_inventory_revenue", Money(view.AvailableRevenue));
        json.WriteStartObject("inventory_revenue_by_currency");
        foreach (var (currency, revenue) in view.RevenueByCurrency)
        {
            json.WriteStartObject(currency);
            json.WriteNumber("total_inventory_revenue", Money(revenue.Total));
            json.WriteNumber("reserved_inventory_revenue", Money(revenue.Reserved));
            json.WriteNumber("available_inventory_revenue", Money(revenue.Available));
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary>Money always shows two decimals (1850000.00), whatever the scale the sums ended with.</summary>
    private static decimal Money(decimal amount) => ReadModels.Money.TwoDecimals(amount);
}
